--[[
  read-fenced-2.lua: read new entries of a leased partition's stream for a consumer, only while it
  holds the partition's lease under the same fencing token (qctl work --ordered on a partitioned topic).

  A worker that lost its lease (frozen between checking it and sending the read, or cut off) must not
  be delivered anything: entries delivered to it after the next holder took the partition's pending
  entries over would be taken by nobody, and the next holder would go on with later ones. Checked and
  read in one step, the read cannot land after the lease changed hands. (Inside a script XREADGROUP
  never blocks: waiting for new entries is done with a plain XREAD, which delivers nothing.)

  KEYS[1]  the stream (a partition's, or its replay stream for the group)
  KEYS[2]  the partition's lease (keys.ts leaseKey)
  ARGV[1]  group
  ARGV[2]  consumer
  ARGV[3]  COUNT
  ARGV[4]  the lease as the worker holds it, "<token>:<owner>"

  Returns {-1} when the lease is not held under that token (nothing read), else
  {1, rows, lastId}: rows as XREADGROUP gives them for the stream ({id, fields} each), and, when it
  brought fewer than COUNT (caught up), the stream's last generated ID, from which a wait for new
  entries starts (false otherwise).
]]
if redis.call('GET', KEYS[2]) ~= ARGV[4] then
  return {-1}
end
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', tonumber(ARGV[3]), 'STREAMS', KEYS[1], '>')
local rows = {}
if reply and reply[1] then rows = reply[1][2] end
local lastId = false
if #rows < tonumber(ARGV[3]) then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then lastId = info[i + 1] end
  end
end
return {1, rows, lastId}
