--[[
  record-attempt-fenced-2.lua: write the attempt record of an ordered retry in place (a failed
  attempt of an entry the worker keeps, holding its key, until its backoff is over) for an entry of
  a leased partition (qctl work --ordered on a partitioned topic), only while the partition's lease
  is still held under the same fencing token.

  A worker that lost its lease may see a handler it had started fail late. The entry is the new
  holder's then (it took it, with its record, when it took the partition): a late write would
  change the attempts the new holder counts for an entry it handles, so it is refused, and the
  stale worker neither writes nor retries it.

  KEYS[1]  the group's retry hash for the stream (a partition's, or its replay stream's)
  KEYS[2]  the partition's lease (keys.ts leaseKey)
  ARGV[1]  the lease as the worker holds it, "<token>:<owner>"
  ARGV[2]  entry ID
  ARGV[3]  the record, "firstFailureMs:starts:settled:solo" (includes/attempt-record.lua), written whole

  Returns 1 (written); -1 when the lease is not held under that token (nothing written).
]]
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1
