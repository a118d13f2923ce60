--[[
  xadd-dedupe-2.lua: append a batch of entries to one stream, each only if its idempotency key was
  not published to that stream within the dedupe window (qctl publish --idempotency-key-field /
  --idempotency-key).

  The keys published lately are a sorted set beside the stream (keys.ts dedupeKey, the stream's
  slot), each scored by when it stops counting (Redis's clock plus the window). Checking a key,
  adding its entry and recording the key happen in this one script, so two publishers racing with
  the same key store it once, and a publish cut off and run again from the start stores nothing
  twice: whatever the first run stored is recorded with it.

  KEYS[1]  the stream (a plain topic, or one partition's stream)
  KEYS[2]  its dedupe set
  ARGV[1]  W, the number of arguments per entry (field/value pairs, so even)
  ARGV[2]  the dedupe window, ms
  ARGV[3..] per entry: its idempotency key, then its W arguments in wire-format order

  The key is recorded (ZADD) before its entry is added (XADD): under maxmemory the ZADD is the
  write refused first, before anything is stored; an XADD refused after it takes the key back
  (ZREM needs no memory), so a refused entry is never remembered as published. Expired keys are
  dropped first (ZREMRANGEBYSCORE: a cost in what expired, not in what is kept), and the set expires
  a window after its last write, so a topic no longer published to keeps nothing.

  Returns {processed, firstId, lastId, error, skipped}:
    processed  entries dealt with, in order: added, or skipped as published within the window
    firstId    ID of the first entry added, or false
    lastId     ID of the last entry added, or false
    error      false, or the error of the write that failed (e.g. OOM, NOPERM); the entry it
               stopped at and those after it were neither added nor recorded
    skipped    the positions (1-based, in this call's entries) of the processed entries skipped
]]
local width = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local processed = 0
local skipped = {}
local first = false
local last = false
for i = 3, #ARGV, width + 1 do
  local key = ARGV[i]
  if redis.call('ZSCORE', KEYS[2], key) then
    skipped[#skipped + 1] = processed + 1
  else
    local recorded = redis.pcall('ZADD', KEYS[2], now + window, key)
    if type(recorded) == 'table' and recorded.err then
      return {processed, first, last, recorded.err, skipped}
    end
    local id = redis.pcall('XADD', KEYS[1], '*', unpack(ARGV, i + 1, i + width))
    if type(id) == 'table' and id.err then
      redis.call('ZREM', KEYS[2], key)
      return {processed, first, last, id.err, skipped}
    end
    if not first then first = id end
    last = id
  end
  processed = processed + 1
end
if processed > #skipped then redis.call('PEXPIRE', KEYS[2], window) end
return {processed, first, last, false, skipped}
