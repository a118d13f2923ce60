--[[
  lease-renew-1.lua: renew or give back partition leases a consumer holds (qctl work --ordered),
  only if it still holds them under the same token: a lease that expired and was taken by another
  consumer is never extended or deleted by the one that lost it.

  KEYS[1]  the lease (keys.ts leaseKey)
  ARGV[1]  "<token>:<owner>", the lease as the consumer took it
  ARGV[2]  the new time to live, ms; 0 gives the lease back (deletes it)

  Returns 1 when renewed (or given back), 0 when the consumer no longer holds it.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if tonumber(ARGV[2]) == 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
