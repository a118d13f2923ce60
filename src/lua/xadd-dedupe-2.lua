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

  The set's handling is shared with schedule-add-dedupe-2.lua (includes/dedupe.lua, which says
  why): expired keys are dropped first; the key is recorded (ZADD) before its entry is added
  (XADD), and taken back if the XADD is refused, so a refused entry is never remembered as
  published; the set expires a window after its last write.

  Returns {processed, firstId, lastId, error, skipped}:
    processed  entries dealt with, in order: added, or skipped as published within the window
    firstId    ID of the first entry added, or false
    lastId     ID of the last entry added, or false
    error      false, or the error of the write that failed (e.g. OOM, NOPERM); the entry it
               stopped at and those after it were neither added nor recorded
    skipped    the positions (1-based, in this call's entries) of the processed entries skipped
]]
--- @include "dedupe.lua"
local width = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = dedupeOpen(KEYS[2])
local processed = 0
local skipped = {}
local first = false
local last = false
-- The entry whose idempotency key is ARGV[i].
local function append(i)
  return redis.pcall('XADD', KEYS[1], '*', unpack(ARGV, i + 1, i + width))
end
for i = 3, #ARGV, width + 1 do
  local id, err = storeOnce(KEYS[2], ARGV[i], now + window, append, i)
  if err then return {processed, first, last, err, skipped} end
  if id then
    if not first then first = id end
    last = id
  else
    skipped[#skipped + 1] = processed + 1
  end
  processed = processed + 1
end
dedupeClose(KEYS[2], window, processed - #skipped)
return {processed, first, last, false, skipped}
