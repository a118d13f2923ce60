--[[
  claim-1.lua: take delivery of pending entries this consumer already owns or may take over
  (qctl work: retries that are due, entries recovered from dead consumers, own history).

  XCLAIM without JUSTID increments each entry's delivery counter (the attempt number) and
  returns its fields; XPENDING then reads that counter. Entries deleted or trimmed while
  pending are acknowledged (so they stop being reclaimed) and reported as lost.

  KEYS[1]  the topic stream
  ARGV[1]  group
  ARGV[2]  consumer taking delivery
  ARGV[3..] entry IDs

  Returns {delivered, lost}:
    delivered  array of {id, fields, deliveryCount}
    lost       array of IDs that no longer exist in the stream
]]
local delivered = {}
local lost = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
  local entry = claimed[1]
  if entry == nil or entry == false or entry[2] == nil or entry[2] == false then
    redis.call('XACK', KEYS[1], ARGV[1], id)
    lost[#lost + 1] = id
  else
    local pending = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    local count = 1
    if pending[1] then count = pending[1][4] end
    delivered[#delivered + 1] = {entry[1], entry[2], count}
  end
end
return {delivered, lost}
