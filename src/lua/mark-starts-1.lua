--[[
  mark-starts-1.lua: record that handlers are starting on entries taken back (qctl work), in one
  call for the wave of entries a worker starts together.

  qctl's attempt number counts handler starts, not deliveries (see mark-start-2.lua and
  src/core/worker/attempts.ts). Each start of an entry taken back (a due retry, an entry of a dead
  worker, a restarted worker's own) adds one to the `<id>+` field of the group's retry hash, which
  the attempt record reads as extra starts (includes/attempt-record.lua). The worker sends this
  with EVAL (see evalScript in src/core/scripts.ts), not EVALSHA: the marks must leave the process
  in the write made before the handlers are called, even if one of them then kills the process, and
  EVALSHA of a script the server does not have yet would be sent again only after a NOSCRIPT reply.
  One command for the wave, not one per entry: a write and a command per entry took half the CPU
  of a worker taking back 100,000 entries.

  No ownership check: a worker starts only entries it holds and renewed within the visibility
  timeout (an entry that went stale waits for a heartbeat first). Suspects, which may have ended a
  worker's process before, are marked alone and checked (mark-start-2.lua).

  KEYS[1]  the group's retry hash
  ARGV     entry IDs

  Returns the number of entries marked.
]]
for _, id in ipairs(ARGV) do
  redis.call('HINCRBY', KEYS[1], id .. '+', 1)
end
return #ARGV
