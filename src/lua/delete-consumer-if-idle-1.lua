--[[
  delete-consumer-if-idle-1.lua: remove a consumer from its group only if it has nothing
  pending (qctl work, on a clean exit), so consumers do not pile up. XGROUP DELCONSUMER would
  make pending entries unclaimable, so the check and the delete must be one step.

  KEYS[1]  the topic stream
  ARGV[1]  group
  ARGV[2]  consumer

  Returns 1 if deleted, 0 if it still has pending entries (left for others to reclaim).
]]
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if pending[1] then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
