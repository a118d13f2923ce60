--[[
  group-position-1.lua: create a consumer group at a position, or move one there, with the entries-read
  counter that keeps its lag exact (qctl group create and group seek).

  XINFO GROUPS reports a group's lag as entries-added minus its entries-read counter. XGROUP CREATE and
  SETID at an arbitrary ID leave the counter unknown (lag null until Redis can estimate it), and a
  wrong ENTRIESREAD makes the lag wrong (even negative), so the counter must be the number of entries
  ever added minus those after the position:

    - at the stream's last generated ID (`$`): entries-added;
    - before its first entry, or in an empty stream: entries-added minus its length;
    - elsewhere: entries-added minus the entries after the position, which only counting tells
      (count-entries-1.lua): the caller counts and passes the counter (ARGV[4]). It stays right while
      entries are only added (they all come after the position: entries-added and the entries after
      it grow together), not once any is deleted or trimmed: the caller passes how many entries had
      been removed (entries-added minus length) and the stream's max-deleted-entry-id when it
      counted, and the counter is used only if both are the same now; otherwise the reply asks for
      a new count.

  With a deleted entry after the position, Redis reports the lag as null whatever the counter (it
  cannot know how many of the entries added after the position were deleted), and a read that
  delivers an entry before that deleted one makes Redis estimate the counter again (unknown until
  the group reaches the stream's last entry). The counter is still set as if the deleted entries had
  never been added, so that a group whose next read is past them (a seek to just before them, or
  entries trimmed meanwhile) keeps an exact lag. `qctl lag` counts such a lag itself.

  KEYS[1]  the stream
  ARGV[1]  'setid' (move the existing group), 'create', or 'create-mkstream' (create the stream too
           if it does not exist: a partition's stream appears with its first message or group)
  ARGV[2]  group
  ARGV[3]  the position: an ID, or `$` (the stream's last generated ID, read here)
  ARGV[4]  the counter as counted (entries-added minus the entries after the position), or '' (not counted)
  ARGV[5]  entries-added minus length when it was counted
  ARGV[6]  max-deleted-entry-id when it was counted

  Returns {1, position, entriesRead} when done; {0} for create when the group exists (nothing
  changed); {-1} when the stream does not exist (setid, create); {-2} when the count is missing or
  out of date (count again); {-3, lastGeneratedId} when the position is past the stream's last
  generated ID (entries added later would be skipped); {-4} for setid when the group does not exist.
]]
--- @include "stream-info.lua"
local mode, group, position, counted = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local reply = redis.pcall('XINFO', 'STREAM', KEYS[1])
if type(reply) == 'table' and reply.err then
  if not string.find(reply.err, 'no such key', 1, true) then return redis.error_reply(reply.err) end
  if mode ~= 'create-mkstream' then return {-1} end
  if position == '$' then position = '0-0' end
  if position ~= '0-0' then return {-3, '0-0'} end
  redis.call('XGROUP', 'CREATE', KEYS[1], group, position, 'MKSTREAM', 'ENTRIESREAD', 0)
  return {1, position, 0}
end

local info = streamInfo(reply)
local added, length = tonumber(info['entries-added']), tonumber(info['length'])
local lastGenerated = info['last-generated-id']
local first = info['first-entry'] and info['first-entry'][1]
local entriesRead
if position == '$' then
  position, entriesRead = lastGenerated, added
elseif compareIds(position, lastGenerated) > 0 then
  return {-3, lastGenerated}
elseif length == 0 or compareIds(position, first) < 0 then
  entriesRead = added - length
elseif counted ~= '' and added - length == tonumber(ARGV[5]) and info['max-deleted-entry-id'] == ARGV[6] then
  entriesRead = tonumber(counted)
else
  return {-2}
end

-- As an integer: a Lua number past 1e14 would be written in exponent form.
local entriesReadText = string.format('%.0f', entriesRead)
local done
if mode == 'setid' then
  done = redis.pcall('XGROUP', 'SETID', KEYS[1], group, position, 'ENTRIESREAD', entriesReadText)
else
  done = redis.pcall('XGROUP', 'CREATE', KEYS[1], group, position, 'ENTRIESREAD', entriesReadText)
end
if type(done) == 'table' and done.err then
  if string.sub(done.err, 1, 9) == 'BUSYGROUP' then return {0} end
  if string.sub(done.err, 1, 7) == 'NOGROUP' then return {-4} end
  return redis.error_reply(done.err)
end
return {1, position, entriesReadText}
