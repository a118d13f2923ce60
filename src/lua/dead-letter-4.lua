--[[
  dead-letter-4.lua: move one entry to the dead-letter stream and acknowledge it, atomically
  (qctl work). Either both happen or neither: a crash cannot lose the entry or file it twice.

  Only an entry still pending in the group is moved, so two workers failing the same poison
  entry produce exactly one dead-letter entry. The original fields are copied byte for byte and
  in order, followed by the dead-letter metadata fields. The entry's retry state (its record in
  the retry hash, its place in the due set) is removed with it.

  KEYS[1]  the topic stream
  KEYS[2]  the dead-letter stream (same hash slot as the topic)
  KEYS[3]  the retry hash of the group (its record of the entry is removed)
  KEYS[4]  the due set of the group (a sorted set of entry IDs; the entry is removed)
  ARGV[1]  group
  ARGV[2]  entry ID
  ARGV[3]  '' on a topic; on a group's replay stream, this consumer: the entry, moved, is also
           deleted from the replay stream if it was pending to this consumer (see
           ack-replayed-2.lua for why, and why only then) and the user may XDEL there
  ARGV[4..] metadata field/value pairs to append

  Returns the new dead-letter entry ID; 0 if the entry was not pending (already acknowledged
  or dead-lettered elsewhere; nothing is changed); -1 if it no longer exists in the stream (it
  is acknowledged and its retry state removed: lost). Error NOPERM, naming the command and key,
  if the caller's ACL user may not do one of the writes; then nothing was changed.

  Entries of any width: an entry written by another program may have any number of fields, far
  more than Lua's unpack can pass to one command (at most 7,999 values, measured on Redis 7.0.15
  and Valkey 8.0.1; dead-letter-3.lua failed with "too many results to unpack" from 3,991 fields,
  which with the 9 metadata fields make 8,000 values). The XADD takes its arguments from
  spread() (src/lua/includes/spread.lua), which has no such limit; tested with 20,000 fields and
  100,000 values, the cost is in spread.lua's header. A client-side move (XRANGE, then XADD and
  XACK in MULTI/EXEC) was not chosen: WATCH on the topic cannot guard it, since an XACK by another
  consumer does not trip the watch (measured on Redis 7.0.15) while every publisher's XADD does,
  so it would file twice or retry for as long as the topic is busy.

  Redis does not roll back a script that fails half-way: an XACK refused after the XADD would
  leave the entry both in the dead-letter stream and pending (filed again on its next failure).
  So every write is checked first (includes/first-denied.lua: redis.acl_check_cmd, Redis 7.0+),
  before anything changes, and the XADD (the write that depends on the entry itself) comes before
  the XACK, HDEL and ZREM.

  The move itself is includes/dead-letter-move.lua, which dead-letter-fenced-5.lua (the same move
  for a leased partition, under its lease) makes too.
]]
--- @include "spread.lua"
--- @include "first-denied.lua"
--- @include "dead-letter-move.lua"
return deadLetterMove(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], 4)
