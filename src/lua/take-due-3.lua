--[[
  take-due-3.lua: take delivery of parked entries whose backoff is over (qctl work).

  Pops the entries of the due set whose due time (Redis's clock) has passed, oldest due first,
  at most ARGV[4]: the cost is the number taken, never the number still waiting. Each one still
  held by the parked pseudo-consumer is claimed for the calling consumer with its fields (XCLAIM
  counts a delivery in Redis's counter, which qctl does not use as the attempt number: see the
  retry hash). Cases, each handled once:
    - held by the parked consumer and in the stream: taken;
    - held by the parked consumer but deleted from the stream (XDEL, XTRIM): Redis 7 drops it from
      the pending list on the claim; its retry record is removed and it is reported lost;
    - no longer pending anywhere but still in the stream, and the parked consumer no longer exists
      (deleted with XGROUP DELCONSUMER, which drops its pending list): taken as an orphan, to be
      handled (at-least-once) without an acknowledgement, since there is nothing left to acknowledge;
    - no longer pending while the parked consumer exists: acknowledged meanwhile (a frozen worker
      that had it before finished late): its record is removed, nothing to deliver. (An operator who
      deletes the parked consumer while new retries are parked again recreates it: entries dropped
      by the deletion then read as acknowledged. Do not delete `qctl:parked` by hand.)
    - no longer pending and deleted: its record is removed (nothing to deliver, nothing to report);
    - pending to another consumer: left to it.

  KEYS[1]  the topic stream
  KEYS[2]  the group's due set
  KEYS[3]  the group's retry hash
  ARGV[1]  group
  ARGV[2]  consumer taking delivery
  ARGV[3]  the parked pseudo-consumer
  ARGV[4]  most entries to take

  Returns {taken, lost, nextDueInMs}:
    taken        array of {id, fields, retryRecord or '', orphan (0/1)}
    lost         IDs deleted from the stream while parked
    nextDueInMs  ms until the next parked entry is due (0 if one is due now), -1 if none is parked
]]
--- @include "attempt-record.lua"
--- @include "pending-to.lua"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
local taken = {}
local lost = {}
-- Whether the parked consumer was deleted (XGROUP DELCONSUMER drops its pending list), asked once.
local gone = nil
local function parkedConsumerGone()
  if gone == nil then
    gone = true
    for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
      for i = 1, #consumer, 2 do
        if consumer[i] == 'name' and consumer[i + 1] == ARGV[3] then gone = false end
      end
    end
  end
  return gone
end
-- At most ARGV[4] IDs (the worker asks for at most 500): one ZREM and one XCLAIM for them all.
if #ids > 0 then redis.call('ZREM', KEYS[2], unpack(ids)) end
local isParked = pendingTo(KEYS[1], ARGV[1], ARGV[3], ids)
local parked = {}
for _, id in ipairs(ids) do
  if isParked[id] then
    parked[#parked + 1] = id
  elseif not redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)[1] then
    local entry = parkedConsumerGone() and redis.call('XRANGE', KEYS[1], id, id)[1]
    if entry then
      taken[#taken + 1] = {id, entry[2], recordText(KEYS[3], id), 1}
    else
      forgetRecord(KEYS[3], id)
    end
  end
end
if #parked > 0 then
  local claimed = {}
  for _, entry in ipairs(redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, unpack(parked))) do claimed[entry[1]] = entry[2] end
  local kept = {}
  for _, id in ipairs(parked) do
    if claimed[id] then
      kept[#kept + 1] = id
    else
      forgetRecord(KEYS[3], id)
      lost[#lost + 1] = id
    end
  end
  -- One HMGET for the records of all those taken.
  local records = recordTexts(KEYS[3], kept)
  for i, id in ipairs(kept) do taken[#taken + 1] = {id, claimed[id], records[i], 0} end
end
local nextDue = -1
local head = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if head[2] then nextDue = math.max(0, tonumber(head[2]) - now) end
return {taken, lost, nextDue}
