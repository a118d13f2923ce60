--[[
  reclaim-4.lua: take over the entries of a consumer that stopped renewing them (qctl work).

  A live worker renews what it holds every third of the visibility timeout (heartbeat-4.lua), so
  an entry idle longer than that belongs to a worker that died or froze. This looks only at the
  given consumer's pending list (XPENDING … IDLE … consumer), so its cost follows that consumer's
  entries, not the whole group's (parked retries, other workers' in-flight entries).

  Each entry taken is marked with the consumer it was taken from (KEYS[4], field `<id>`), so that
  a second handling, if that worker still lives (frozen, cut off) and handled it too, is counted
  once (see ack-taken-3.lua); what an earlier takeover of the entry settled there (`<id>+`: whose
  outcome came first) is removed, so it is not read as this takeover's.
  Claimed entries come back with their fields and their attempt record; XCLAIM counts a delivery
  in Redis's counter, which is not qctl's attempt number (the retry hash is: an entry taken over
  has not started again yet). An entry that was pending and idle a moment ago in this same script
  but is missing from the XCLAIM reply was deleted from the stream (Redis 7 drops it from the
  pending list on the claim): its retry record and due time are removed and it is reported lost.

  KEYS[1]  the topic stream
  KEYS[2]  the group's retry hash
  KEYS[3]  the group's due set
  KEYS[4]  the group's takeover marks (entry ID -> the consumer it was taken from; see keys.ts and
           ack-taken-3.lua)
  ARGV[1]  group
  ARGV[2]  consumer taking over
  ARGV[3]  consumer whose entries are taken
  ARGV[4]  min idle time, ms (the visibility timeout)
  ARGV[5]  most entries to take (at most 1000)
  ARGV[6]  how long the takeover marks are kept, ms

  Returns {taken, lost}:
    taken  array of {id, fields, retryRecord or ''}
    lost   IDs deleted from the stream while pending
]]
--- @include "attempt-record.lua"
local rows = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', tonumber(ARGV[4]), '-', '+', tonumber(ARGV[5]), ARGV[3])
local taken = {}
local lost = {}
if #rows == 0 then return {taken, lost} end
local ids = {}
for i, row in ipairs(rows) do ids[i] = row[1] end
local claimed = {}
for _, entry in ipairs(redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[4]), unpack(ids))) do
  claimed[entry[1]] = entry[2]
end
-- One HMGET for the records, one HDEL and one HSET for the marks of the whole batch (at most 1000 entries).
local takenIds = {}
local marks = {}
local settled = {}
for _, id in ipairs(ids) do
  if claimed[id] then
    takenIds[#takenIds + 1] = id
    marks[#marks + 1] = id
    marks[#marks + 1] = ARGV[3]
    settled[#settled + 1] = id .. '+'
  else
    forgetRecord(KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    lost[#lost + 1] = id
  end
end
if #takenIds > 0 then
  local records = recordTexts(KEYS[2], takenIds)
  for i, id in ipairs(takenIds) do taken[i] = {id, claimed[id], records[i]} end
  redis.call('HDEL', KEYS[4], unpack(settled))
  redis.call('HSET', KEYS[4], unpack(marks))
  redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[6]))
end
return {taken, lost}
