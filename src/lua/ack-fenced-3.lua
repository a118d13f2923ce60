--[[
  ack-fenced-3.lua: acknowledge entries of a leased partition only while the lease is still held
  under the same fencing token (qctl work --ordered on a partitioned topic).

  A worker that lost its partition's lease (frozen or cut off longer than the lease) may finish
  handlers it had started and try to acknowledge them late. Refused here: the entries stay pending
  for the partition's new holder, which takes every pending entry, in ID order, when it takes the
  lease, so a late acknowledgement never decides what the new holder sees.

  KEYS[1]  the partition's stream (or its replay stream for the group)
  KEYS[2]  the group's retry hash for that stream
  KEYS[3]  the partition's lease (keys.ts leaseKey)
  ARGV[1]  group
  ARGV[2]  the lease as the worker holds it, "<token>:<owner>"
  ARGV[3]  1 to delete what was acknowledged (a replay stream: it is the group's alone), else 0
  ARGV[4]  k, how many of the IDs that follow have attempt records to forget
  ARGV[5 .. 4+k]  those IDs
  ARGV[5+k ..]    every ID to acknowledge

  Returns {acknowledged, deleted}; {-1, 0} when the lease is not held under that token (nothing done).
]]
if redis.call('GET', KEYS[3]) ~= ARGV[2] then
  return {-1, 0}
end
local withRecords = tonumber(ARGV[4])
local first = 5 + withRecords
local acknowledged = 0
local done = {}
for i = first, #ARGV do
  if redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    acknowledged = acknowledged + 1
    done[#done + 1] = ARGV[i]
  end
end
if withRecords > 0 then
  local fields = {}
  for i = 5, 4 + withRecords do
    fields[#fields + 1] = ARGV[i]
    fields[#fields + 1] = ARGV[i] .. '+'
  end
  redis.call('HDEL', KEYS[2], unpack(fields))
end
local deleted = 0
if ARGV[3] == '1' and #done > 0 then deleted = redis.call('XDEL', KEYS[1], unpack(done)) end
return {acknowledged, deleted}
