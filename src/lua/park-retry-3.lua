--[[
  park-retry-3.lua: park a failed entry until its backoff has passed (qctl work).

  The backoff lives in Redis, not in the worker's memory, so it survives a crash, and its due
  time is taken from Redis's clock (TIME), so workers whose clocks disagree cannot stall each
  other. The entry goes into the group's due set scored by its due time (workers pop due
  entries from there: finding them costs nothing per entry still waiting), and is handed to the
  pseudo-consumer that holds parked entries (XCLAIM … JUSTID: no delivery counted), so it stays
  pending (nothing is lost if every worker dies) without being any live worker's: the worker that
  failed it can exit and remove its own consumer, and the dead-consumer takeover never touches it.

  The entry's attempt record (retry hash, "firstFailureMs:starts:settled:solo", see
  src/core/worker/attempts.ts) records the failure: this start is proven (it threw), so
  `starts` is at least the failed attempt, and `settled` (starts that reported back) catches up.
  Does nothing if the entry is no longer this consumer's (another worker took it over).

  KEYS[1]  the topic stream
  KEYS[2]  the group's retry hash
  KEYS[3]  the group's due set
  ARGV[1]  group
  ARGV[2]  consumer that failed the entry
  ARGV[3]  the parked pseudo-consumer
  ARGV[4]  entry ID
  ARGV[5]  backoff delay, ms
  ARGV[6]  the attempt that failed

  Returns {dueMs, firstFailureMs} (Redis time) if parked, 0 if the entry is not this consumer's.
]]
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[4], ARGV[4], 1)
if not pending[1] or pending[1][2] ~= ARGV[2] then return 0 end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local first, starts, settled, solo = 0, 0, 0, 0
local record = redis.call('HGET', KEYS[2], ARGV[4])
if record then
  local parts = {}
  for part in string.gmatch(record, '[^:]+') do parts[#parts + 1] = tonumber(part) or 0 end
  first = parts[1] or 0
  if #parts >= 4 then starts, settled, solo = parts[2], parts[3], parts[4] end
end
if first == 0 then first = now end
local attempt = tonumber(ARGV[6])
if attempt > starts then starts = attempt end
settled = starts
local due = now + tonumber(ARGV[5])
redis.call('HSET', KEYS[2], ARGV[4], first .. ':' .. starts .. ':' .. settled .. ':' .. solo)
redis.call('ZADD', KEYS[3], due, ARGV[4])
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[4], 'JUSTID')
return {due, first}
