--[[
  schedule-add-dedupe-2.lua: hold a batch of messages until they are due, each only if its
  idempotency key was not published or scheduled to that stream within the dedupe window (qctl
  publish --delay / --at with --idempotency-key-field / --idempotency-key).

  The check is made when the message is scheduled, not when it is due: checking the key, recording
  it in the stream's dedupe set (the set xadd-dedupe-2.lua checks, so a key counts whether its
  message was appended or scheduled) and adding the message to the schedule happen in this one
  script, so two publishers racing with the same key schedule it once, and a publish cut off and
  run again from the start schedules nothing twice. The window counts from now, as for a message
  appended at once: a key stops counting a window after it was scheduled, whether or not its
  message is due by then. The mover (schedule-move-2.lua) appends what is scheduled without looking
  at the set again.

  KEYS[1]  the schedule of the stream (a plain topic, or one partition's stream; schedule-add-1.lua
           says what a member holds)
  KEYS[2]  the stream's dedupe set (both keys in the stream's slot)
  ARGV[1]  'delay' (ARGV[2] ms from now, by Redis's clock) or 'at' (ARGV[2] a Unix time in ms)
  ARGV[2]  the delay or the due time, ms
  ARGV[3]  the dedupe window, ms
  ARGV[4..] per message: its idempotency key, then its member

  The set's handling is shared with xadd-dedupe-2.lua (includes/dedupe.lua, which says why):
  expired keys are dropped first; the key is recorded before its message is scheduled, and taken
  back if the schedule's ZADD is refused (OOM, NOPERM); the set expires a window after its last write.

  Returns {processed, dueMs, error, skipped}:
    processed  messages dealt with, in order: scheduled, or skipped as published or scheduled
               within the window
    dueMs      the due time given to those scheduled
    error      false, or the error of the write that failed; the message it stopped at and those
               after it were neither scheduled nor recorded
    skipped    the positions (1-based, in this call's messages) of the processed messages skipped
]]
--- @include "dedupe.lua"
local window = tonumber(ARGV[3])
local now = dedupeOpen(KEYS[2])
local due = tonumber(ARGV[2])
if ARGV[1] == 'delay' then due = now + due end
local processed = 0
local skipped = {}
-- The member after the idempotency key ARGV[i].
local function hold(i)
  return redis.pcall('ZADD', KEYS[1], due, ARGV[i + 1])
end
for i = 4, #ARGV, 2 do
  local added, err = storeOnce(KEYS[2], ARGV[i], now + window, hold, i)
  if err then return {processed, due, err, skipped} end
  if not added then skipped[#skipped + 1] = processed + 1 end
  processed = processed + 1
end
dedupeClose(KEYS[2], window, processed - #skipped)
return {processed, due, false, skipped}
