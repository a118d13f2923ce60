--[[
  dead-letter-move.lua (included by dead-letter-4.lua and dead-letter-fenced-5.lua, each after
  spread.lua and first-denied.lua, which it calls): deadLetterMove(...) moves one entry to the
  dead-letter stream and acknowledges it, the step both scripts make; what it does and why it is
  written this way (every write checked first, wide entries spread, not a client-side move) is in
  dead-letter-4.lua's header.

  stream, dlq, retry, due  the keys, as KEYS[1..4] of dead-letter-4.lua
  group, id                the group and the entry ID
  replayConsumer           '' on a topic; on a replay stream, the consumer (see dead-letter-4.lua)
  metadataFrom             the index in ARGV of the first metadata field; the rest of ARGV is metadata

  Returns what dead-letter-4.lua returns: the new dead-letter entry ID, 0, -1, or a NOPERM error reply.
]]
local function deadLetterMove(stream, dlq, retry, due, group, id, replayConsumer, metadataFrom)
  local denied = firstDenied({
    {'XADD', dlq, '*', 'dlq.topic', ''},
    {'XACK', stream, group, id},
    {'HDEL', retry, id},
    {'ZREM', due, id},
  })
  if denied then
    return redis.error_reply("NOPERM this user has no permissions to run the '" .. string.lower(denied[1]) ..
      "' command on key '" .. denied[2] .. "' (checked before dead-lettering: nothing was changed, the entry stays pending)")
  end

  local pending = redis.call('XPENDING', stream, group, id, id, 1)
  if not pending[1] then return 0 end
  local entries = redis.call('XRANGE', stream, id, id)
  local dlqId = -1
  if entries[1] then
    local fields = entries[1][2]
    for i = metadataFrom, #ARGV do fields[#fields + 1] = ARGV[i] end
    dlqId = redis.call('XADD', dlq, '*', spread(fields, #fields))
  end
  redis.call('XACK', stream, group, id)
  redis.call('HDEL', retry, id, id .. '+')
  redis.call('ZREM', due, id)
  if replayConsumer ~= '' and pending[1][2] == replayConsumer and redis.acl_check_cmd('XDEL', stream, id) then
    redis.call('XDEL', stream, id)
  end
  return dlqId
end
