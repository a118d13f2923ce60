--[[
  heartbeat-1.lua: keep a live worker's in-flight entries from being reclaimed (qctl work).

  Resets the idle time of each entry this consumer still owns (XCLAIM … JUSTID does not touch
  the delivery counter). An entry another consumer has taken meanwhile (this worker was paused
  longer than the visibility timeout) is left alone and reported, so it is never stolen back.

  KEYS[1]  the topic stream
  ARGV[1]  group
  ARGV[2]  consumer
  ARGV[3..] entry IDs in flight

  Returns the IDs that are no longer this consumer's (taken over, acknowledged or deleted).
]]
local gone = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if pending[1] and pending[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
  else
    gone[#gone + 1] = id
  end
end
return gone
