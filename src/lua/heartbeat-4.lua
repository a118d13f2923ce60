--[[
  heartbeat-4.lua: keep a live worker's entries from being taken over, and say what became of
  the ones it no longer holds (qctl work).

  Resets the idle time of each entry this consumer still owns (XCLAIM … JUSTID: no delivery
  counted). For the others it tells these cases apart, so the worker reports each truthfully:
    1  owned by another consumer (this worker was frozen past the visibility timeout): theirs now;
    2  no longer pending anywhere but still in the stream (XGROUP DELCONSUMER dropped this
       consumer's pending list, or someone acknowledged it): delivered to this worker, which
       handles it (at-least-once) without an acknowledgement;
    3  deleted from the stream (XDEL, XTRIM): reported lost once; its pending entry (Redis 7
       drops it on the claim), retry record and due time are removed. Unless another worker took
       it over from this one (its takeover mark names this consumer): then it is case 1, theirs,
       deleted after they handled it (a replay stream deletes what its group acknowledged,
       ack-replayed-2.lua), not lost.
    4  no longer pending anywhere but still in the stream, and this consumer took it over from
       another (its takeover mark names that one, reclaim-4.lua): that consumer, frozen or cut off
       when it was taken, had handled it and its acknowledgement arrived late. Finished there; not
       a deleted consumer's entry to handle without an acknowledgement (2): started here, it would
       be a second handling.
  Entries this consumer owns are renewed and not returned.

  KEYS[1]  the topic stream
  KEYS[2]  the group's retry hash
  KEYS[3]  the group's due set
  KEYS[4]  the group's takeover marks (entry ID -> the consumer it was taken from; reclaim-4.lua)
  ARGV[1]  group
  ARGV[2]  consumer
  ARGV[3..] entry IDs the worker holds

  Returns a flat array: id1, case1, id2, case2, … for the entries not renewed.
]]
--- @include "attempt-record.lua"
local out = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  local state = 0
  if pending[1] then
    if pending[1][2] == ARGV[2] then
      if not redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')[1] then state = 3 end
    else
      state = 1
    end
  elseif redis.call('XRANGE', KEYS[1], id, id)[1] then
    local from = redis.call('HGET', KEYS[4], id)
    if from and from ~= ARGV[2] then state = 4 else state = 2 end
  elseif redis.call('HGET', KEYS[4], id) == ARGV[2] then
    state = 1
  else
    state = 3
  end
  if state == 3 then
    forgetRecord(KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
  end
  if state ~= 0 then
    out[#out + 1] = id
    out[#out + 1] = state
  end
end
return out
