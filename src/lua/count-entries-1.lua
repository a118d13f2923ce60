#!lua flags=no-writes
--[[
  count-entries-1.lua: how many entries of a stream lie in a range, counted inside Redis without
  sending them (qctl group seek and create, for XGROUP … ENTRIESREAD), with the stream's counters at
  that instant.

  Redis has no command that counts a range of a stream. XRANGE reads it in pages of ARGV[4] entries
  (a page of large entries is the most this holds in memory at once), up to ARGV[3] entries per call:
  a call stays short, and a larger range is counted over several calls (src/core/groups/entries.ts),
  which compare the counters each call returns to tell whether entries were deleted meanwhile.

  KEYS[1]  the stream
  ARGV[1]  start, as XRANGE takes it: `-`, an ID (inclusive) or `(ID` (exclusive)
  ARGV[2]  end: `+` or an ID (inclusive)
  ARGV[3]  count at most this many
  ARGV[4]  page size

  Returns {-1} when the stream does not exist; otherwise {count, lastCountedId or '', entriesAdded,
  length, maxDeletedEntryId, lastGeneratedId, firstEntryId or ''}. A key that is not a stream fails
  the call (WRONGTYPE).
]]
--- @include "stream-info.lua"
local reply = redis.pcall('XINFO', 'STREAM', KEYS[1])
if type(reply) == 'table' and reply.err then
  if string.find(reply.err, 'no such key', 1, true) then return {-1} end
  return redis.error_reply(reply.err)
end
local info = streamInfo(reply)
local first = info['first-entry'] and info['first-entry'][1] or ''
local limit, page = tonumber(ARGV[3]), tonumber(ARGV[4])
local count, last, start = 0, '', ARGV[1]
while count < limit do
  local want = math.min(page, limit - count)
  local rows = redis.call('XRANGE', KEYS[1], start, ARGV[2], 'COUNT', want)
  count = count + #rows
  if #rows > 0 then last = rows[#rows][1] end
  if #rows < want then break end
  start = '(' .. last
end
return {count, last, info['entries-added'], info['length'], info['max-deleted-entry-id'], info['last-generated-id'], first}
