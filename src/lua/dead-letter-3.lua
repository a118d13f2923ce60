--[[
  dead-letter-3.lua: move one entry to the dead-letter stream and acknowledge it, atomically
  (qctl work). Either both happen or neither: a crash cannot lose the entry or file it twice.

  Only an entry still pending in the group is moved, so two workers failing the same poison
  entry produce exactly one dead-letter entry. The original fields are copied byte for byte,
  followed by the dead-letter metadata fields.

  KEYS[1]  the topic stream
  KEYS[2]  the dead-letter stream (same hash slot as the topic)
  KEYS[3]  the retry hash of the group (its record of the entry is removed)
  ARGV[1]  group
  ARGV[2]  entry ID
  ARGV[3..] metadata field/value pairs to append

  Returns the new dead-letter entry ID; 0 if the entry was not pending (already acknowledged
  or dead-lettered elsewhere); -1 if it no longer exists in the stream (acknowledged, lost).
  Error NOPERM, naming the command and key, if the caller's ACL user may not do one of the
  writes; then nothing was changed.

  Redis does not roll back a script that fails half-way: an XADD refused after the HDEL would
  lose the entry's retry record, an XACK refused after the XADD would leave the entry both in
  the dead-letter stream and pending (filed again on its next failure). So every write is
  checked first (redis.acl_check_cmd, Redis 7.0+), before anything changes.
]]
local function firstDenied(checks)
  -- Servers without acl_check_cmd (not Redis 7.0+) have no fine-grained ACLs to check against.
  if not redis.acl_check_cmd then return nil end
  for _, check in ipairs(checks) do
    if not redis.acl_check_cmd(unpack(check)) then return check end
  end
  return nil
end
local denied = firstDenied({
  {'XADD', KEYS[2], '*', 'dlq.topic', ''},
  {'XACK', KEYS[1], ARGV[1], ARGV[2]},
  {'HDEL', KEYS[3], ARGV[2]},
})
if denied then
  return redis.error_reply("NOPERM this user has no permissions to run the '" .. string.lower(denied[1]) ..
    "' command on key '" .. denied[2] .. "' (checked before dead-lettering: nothing was changed, the entry stays pending)")
end

local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if not pending[1] then return 0 end
redis.call('HDEL', KEYS[3], ARGV[2])
local entries = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if not entries[1] then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  return -1
end
local fields = entries[1][2]
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local dlqId = redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return dlqId
