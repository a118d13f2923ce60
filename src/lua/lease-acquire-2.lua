--[[
  lease-acquire-2.lua: take a partition's lease for a consumer of a group (qctl work --ordered on a
  partitioned topic), or renew it if the consumer holds it already.

  A lease is one string key with an expiry (Redis's own clock): "<token>:<owner>". The token comes
  from a counter that only grows (INCR, kept without expiry), so every new holder of the partition
  has a larger token than every earlier one: a fencing token. A handler that passes it to what it
  writes lets that store refuse writes from a holder that lost the lease (README, Ordered processing).

  KEYS[1]  the lease (keys.ts leaseKey: in the partition stream's slot)
  KEYS[2]  the token counter (keys.ts leaseTokenKey)
  ARGV[1]  the consumer asking
  ARGV[2]  the lease's time to live, ms

  Returns {1, token} when the consumer holds the lease now; {0, holder, pttl} when another does.
]]
local current = redis.call('GET', KEYS[1])
if current then
  local separator = string.find(current, ':', 1, true)
  local holder = string.sub(current, separator + 1)
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(string.sub(current, 1, separator - 1))}
  end
  return {0, holder, redis.call('PTTL', KEYS[1])}
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
return {1, token}
