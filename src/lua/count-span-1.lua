#!lua flags=no-writes
--[[
  count-span-1.lua: count a run of a stream's entries and their bytes inside Redis, returning only
  the figures (`qctl trim --dry-run` and the plan `qctl trim` asks about): how many entries a trim
  would remove, and how many bytes they hold, without sending them to the client. At most ARGV[3]
  entries per call, so one call never holds Redis long; the caller goes on from the last ID.

  Bytes are the entries' own: the lengths of their field names and values, as XRANGE returns them
  (what a reader gets). Redis's memory for them differs: a listpack stores the field names of an
  entry with the same fields as its node's first entry only once, and adds per-entry overhead (see
  the README, "qctl trim", for a measurement).

  KEYS[1]  the stream
  ARGV[1]  where to start: '-' or '(' .. ID (after that ID)
  ARGV[2]  where to stop: '+' (the end), or an ID: entries below it only
  ARGV[3]  most entries to count in this call

  Returns {entries, bytes, lastId}: lastId false when none was counted. Fewer than ARGV[3] entries
  means the run ended.
]]
local stop = ARGV[2]
if stop ~= '+' then stop = '(' .. stop end
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], stop, 'COUNT', tonumber(ARGV[3]))
local bytes = 0
for _, entry in ipairs(entries) do
  for _, value in ipairs(entry[2]) do bytes = bytes + #value end
end
local last = entries[#entries]
return {#entries, bytes, last and last[1] or false}
