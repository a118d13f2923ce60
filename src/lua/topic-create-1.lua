--[[
  topic-create-1.lua: create a partitioned topic's metadata hash, unless it exists (qctl topic create).

  One script so that no reader ever sees half a record, and two concurrent creates of the same topic
  cannot both succeed: the second finds the key and changes nothing. The creation time is Redis's
  clock (TIME), so records written from hosts with skewed clocks agree.

  KEYS[1]  the metadata hash, qctl:topic:{<topic>} (src/core/keys.ts, topicMetadataKey)
  ARGV[1]  the record's format version
  ARGV[2]  the partition count
  ARGV[3]  the partitions' stream names, a JSON array (index = partition)
  ARGV[4]  the partitioner's name (murmur2)

  Returns {1, createdAtMs} when created, {0, false} when the key already exists.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, false}
end
local time = redis.call('TIME')
local now = tostring(tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000))
redis.call('HSET', KEYS[1], 'format', ARGV[1], 'partitions', ARGV[2], 'streams', ARGV[3], 'hash', ARGV[4], 'createdAt', now, 'updatedAt', now, 'version', '1')
return {1, now}
