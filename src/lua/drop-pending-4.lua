--[[
  drop-pending-4.lua: acknowledge a batch of a group's pending entries and forget their retry state
  (qctl group seek --drop-pending), in one step, so no entry is left acknowledged with a retry still
  parked for it, or the other way round.

  KEYS[1]  the stream
  KEYS[2]  the group's retry hash (attempt records: fields `<id>` and `<id>+`)
  KEYS[3]  the group's due set (parked retries)
  KEYS[4]  the group's takeover marks (fields `<id>` and `<id>+`)
  ARGV[1]  group
  ARGV[2]  how many pending entries to take, oldest first

  Returns how many were acknowledged (fewer than ARGV[2]: there are no more), or -1 when the group or
  the stream does not exist.
]]
local pending = redis.pcall('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[2]))
if type(pending) == 'table' and pending.err then
  if string.sub(pending.err, 1, 7) == 'NOGROUP' then return -1 end
  return redis.error_reply(pending.err)
end
if #pending == 0 then return 0 end
local ids, fields = {}, {}
for i, entry in ipairs(pending) do
  ids[i] = entry[1]
  fields[#fields + 1] = entry[1]
  fields[#fields + 1] = entry[1] .. '+'
end
local acknowledged = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('HDEL', KEYS[2], unpack(fields))
redis.call('ZREM', KEYS[3], unpack(ids))
redis.call('HDEL', KEYS[4], unpack(fields))
return acknowledged
