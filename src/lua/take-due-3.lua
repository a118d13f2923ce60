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
    - no longer pending anywhere but still in the stream (the parked consumer was deleted with
      XGROUP DELCONSUMER, which drops its pending list): taken as an orphan, to be handled
      (at-least-once) without an acknowledgement, since there is nothing left to acknowledge;
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
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
local taken = {}
local lost = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[2], id)
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if pending[1] then
    if pending[1][2] == ARGV[3] then
      local entry = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)[1]
      if entry then
        taken[#taken + 1] = {id, entry[2], redis.call('HGET', KEYS[3], id) or '', 0}
      else
        redis.call('HDEL', KEYS[3], id)
        lost[#lost + 1] = id
      end
    end
  else
    local entry = redis.call('XRANGE', KEYS[1], id, id)[1]
    if entry then
      taken[#taken + 1] = {id, entry[2], redis.call('HGET', KEYS[3], id) or '', 1}
    else
      redis.call('HDEL', KEYS[3], id)
    end
  end
end
local nextDue = -1
local head = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if head[2] then nextDue = math.max(0, tonumber(head[2]) - now) end
return {taken, lost, nextDue}
