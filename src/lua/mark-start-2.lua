--[[
  mark-start-2.lua: record that a handler is starting on an entry taken back (qctl work).

  qctl's attempt number counts handler starts, not deliveries: an entry that sat in a worker's
  read-ahead when the worker died was delivered but never started, and must not move closer to
  --max-attempts for it. Entries read for the first time are not marked (a write per message
  would cost the drain; see the README): their start is inferred. Entries taken back (retries
  that are due, entries of dead workers, a restarted worker's own) are marked here, just before
  their handler is called, so a handler that kills its process still leaves the mark.

  The attempt record (retry hash) is "firstFailureMs:starts:settled:solo": starts proven, starts
  that reported back (a failure was recorded), and starts made while the entry ran alone in its
  worker (a suspect: see src/core/worker/attempts.ts).

  KEYS[1]  the topic stream
  KEYS[2]  the group's retry hash
  ARGV[1]  group
  ARGV[2]  consumer starting the handler
  ARGV[3]  entry ID
  ARGV[4]  1 if the entry runs alone in its worker, else 0

  Returns the number of starts recorded, or -1 if the entry is no longer this consumer's (then
  nothing is written and the handler must not start).
]]
--- @include "attempt-record.lua"
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not pending[1] or pending[1][2] ~= ARGV[2] then return -1 end
local first, starts, settled, solo, _, plus = readRecord(KEYS[2], ARGV[3])
starts = starts + 1
if ARGV[4] == '1' then solo = solo + 1 end
writeRecord(KEYS[2], ARGV[3], first, starts, settled, solo, plus)
return starts
