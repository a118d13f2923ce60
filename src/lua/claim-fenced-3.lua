--[[
  claim-fenced-3.lua: take every entry another consumer holds in a leased partition, for the
  partition's new holder (qctl work --ordered on a partitioned topic), only while it holds the lease
  under the same fencing token: a holder that lost the lease while taking over (frozen mid-way) never
  takes entries from the one that holds it now.

  Entries come with their fields and attempt record (includes/attempt-record.lua), oldest first. An
  entry pending but missing from the XCLAIM reply was deleted from the stream (Redis 7 drops it from
  the pending list on the claim): its record is removed and it is reported lost.

  KEYS[1]  the stream (a partition's, or its replay stream for the group)
  KEYS[2]  the group's retry hash for it
  KEYS[3]  the partition's lease (keys.ts leaseKey)
  ARGV[1]  group
  ARGV[2]  the consumer taking them
  ARGV[3]  the consumer whose entries are taken
  ARGV[4]  most entries to take (at most 1000)
  ARGV[5]  the lease as the taker holds it, "<token>:<owner>"

  Returns {-1} when the lease is not held under that token (nothing taken), else
  {1, taken, lost}: taken = {id, fields, record or ''} each, lost = IDs deleted from the stream.
]]
--- @include "attempt-record.lua"
if redis.call('GET', KEYS[3]) ~= ARGV[5] then
  return {-1}
end
local rows = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[4]), ARGV[3])
local taken = {}
local lost = {}
if #rows == 0 then return {1, taken, lost} end
local ids = {}
for i, row in ipairs(rows) do ids[i] = row[1] end
local claimed = {}
for _, entry in ipairs(redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, unpack(ids))) do
  claimed[entry[1]] = entry[2]
end
local takenIds = {}
for _, id in ipairs(ids) do
  if claimed[id] then
    takenIds[#takenIds + 1] = id
  else
    forgetRecord(KEYS[2], id)
    lost[#lost + 1] = id
  end
end
local records = recordTexts(KEYS[2], takenIds)
for i, id in ipairs(takenIds) do taken[i] = {id, claimed[id], records[i]} end
return {1, taken, lost}
