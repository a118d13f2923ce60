--[[
  retry-later-2.lua: park a failed entry until its backoff has passed (qctl work).

  The backoff lives in Redis, not in the worker's memory, so it survives a crash: the due time
  goes into the retry hash, and the entry's idle time is set so that the group's reclaim loop
  (XAUTOCLAIM with min-idle = visibility timeout) picks it up when the backoff ends. Backoffs
  longer than the visibility timeout are re-parked by the reclaimer until due. The entry stays
  pending and keeps its delivery counter (JUSTID), which is its attempt count.
  Does nothing if the entry is no longer this consumer's.

  KEYS[1]  the topic stream
  KEYS[2]  the retry hash of the group (entry ID -> "firstFailureMs:dueMs")
  ARGV[1]  group
  ARGV[2]  consumer
  ARGV[3]  entry ID
  ARGV[4]  idle time to set, in ms (visibility timeout minus backoff, at least 0)
  ARGV[5]  "firstFailureMs:dueMs"

  Returns 1 if parked, 0 if the entry is not this consumer's any more.
]]
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not pending[1] or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[5])
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[4], 'JUSTID')
return 1
