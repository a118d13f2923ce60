--[[
  members-beat-1.lua: a worker of an ordered group says it is alive, and learns who else is (qctl
  work --ordered on a partitioned topic). Partitions are shared among the live members.

  Members are a sorted set scored by when each stops counting as alive (Redis's clock): a worker
  that dies drops out after the time to live without anyone removing it. The set itself expires
  when no worker has beaten for a long while.

  KEYS[1]  the members set (keys.ts membersKey: in the topic's slot)
  ARGV[1]  the worker's consumer name
  ARGV[2]  time to live of its membership, ms; 0 removes it (a worker leaving)

  Returns the live members' names.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
if ttl == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl * 10)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
