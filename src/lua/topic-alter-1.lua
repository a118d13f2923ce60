--[[
  topic-alter-1.lua: grow a partitioned topic (qctl topic alter), only from the version it was read at.

  The new partition list is computed by the client from the record it read; writing it only if the
  record's version is still that one (compare-and-set) means two concurrent alters cannot lose each
  other's partitions: the second is refused and reads again.

  KEYS[1]  the metadata hash, qctl:topic:{<topic>}
  ARGV[1]  the version the client read
  ARGV[2]  the new partition count
  ARGV[3]  the new partitions' stream names, a JSON array (the old ones first, unchanged)

  Returns {1, newVersion, updatedAtMs} when written, {0, currentVersion} when the record changed
  meanwhile, {-1} when it no longer exists.
]]
local version = redis.call('HGET', KEYS[1], 'version')
if not version then
  return {-1}
end
if version ~= ARGV[1] then
  return {0, version}
end
local time = redis.call('TIME')
local now = tostring(tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000))
local next = tostring(tonumber(version) + 1)
redis.call('HSET', KEYS[1], 'partitions', ARGV[2], 'streams', ARGV[3], 'updatedAt', now, 'version', next)
return {1, next, now}
