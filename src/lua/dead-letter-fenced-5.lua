--[[
  dead-letter-fenced-5.lua: dead-letter-4.lua's move of one entry to the dead-letter stream, for an
  entry of a leased partition (qctl work --ordered on a partitioned topic), made only while the
  partition's lease is still held under the same fencing token.

  A worker that lost its partition's lease (frozen or cut off longer than the lease) may finish a
  handler it had started, see it fail for good (a PermanentError, its last attempt) and try to move
  the entry late. Refused here, as its acknowledgement would be (ack-fenced-3.lua): the entry stays
  pending, with its attempt record, for the partition's new holder, which took it with the
  partition's other pending entries and handles them in ID order. Moved anyway, it would leave the
  new holder's view (it may be handling the entry now) and break its key's order in the dead-letter
  stream (a later message of the key dead-lettered before it, by the new holder).

  KEYS[1..4]  as dead-letter-4.lua: the stream (a partition's, or its replay stream for the group),
              its dead-letter stream, the group's retry hash and due set for it
  KEYS[5]     the partition's lease (keys.ts leaseKey)
  ARGV[1..3]  as dead-letter-4.lua: group, entry ID, '' or (replay stream) this consumer
  ARGV[4]     the lease as the worker holds it, "<token>:<owner>"
  ARGV[5..]   metadata field/value pairs to append

  Returns as dead-letter-4.lua (the new dead-letter entry ID; 0 not pending; -1 deleted from the
  stream; a NOPERM error, nothing changed), and -2 when the lease is not held under that token
  (nothing changed).
]]
--- @include "spread.lua"
--- @include "first-denied.lua"
--- @include "dead-letter-move.lua"
if redis.call('GET', KEYS[5]) ~= ARGV[4] then
  return -2
end
return deadLetterMove(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], 5)
