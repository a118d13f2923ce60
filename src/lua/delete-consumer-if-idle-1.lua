--[[
  delete-consumer-if-idle-1.lua: remove a consumer from its group only if it holds nothing and has
  been idle long enough (qctl work: its own consumer on a clean exit, and consumers of workers
  that were killed, so consumers do not pile up). XGROUP DELCONSUMER would make pending entries
  unclaimable, so the check and the delete must be one step.

  KEYS[1]  the topic stream
  ARGV[1]  group
  ARGV[2]  consumer
  ARGV[3]  least idle time, ms (0 for the worker's own consumer)

  Returns 1 if deleted, 0 if it holds pending entries, is not idle that long, or does not exist.
]]
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local fields = {}
  for i = 1, #consumer, 2 do fields[consumer[i]] = consumer[i + 1] end
  if fields['name'] == ARGV[2] then
    if tonumber(fields['pending']) > 0 or tonumber(fields['idle']) < tonumber(ARGV[3]) then return 0 end
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
    return 1
  end
end
return 0
