--[[
  group-delete-n.lua: delete a consumer group on one stream, and the keys qctl keeps for it there
  (qctl group delete), in one step per hash slot: without --force, only if the group holds no pending
  entries and its replay stream no entries, checked in the same step, so an entry delivered after
  qctl looked is never dropped unasked.

  KEYS[1]  the stream (a plain topic, or a partition's stream)
  KEYS[2…] the group's keys in the stream's slot (keys.ts groupStateKeys, and the members set of a
           plain topic): deleted with UNLINK (freed in the background)
  ARGV[1]  group
  ARGV[2]  '1' to delete even with pending entries or replayed entries (--force), else ''
  ARGV[3]  the index in KEYS of the group's replay stream, or 0 when it is not among them

  Returns {destroyed, keysDeleted}: destroyed 1 if the group existed on the stream; or
  {-1, pending, replayEntries} when refused (nothing changed).
]]
local group, force, replayAt = ARGV[1], ARGV[2] == '1', tonumber(ARGV[3])
local isStream = redis.call('TYPE', KEYS[1])['ok'] == 'stream'

if not force then
  local pending = 0
  if isStream then
    for _, entry in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
      local info = {}
      for i = 1, #entry, 2 do info[entry[i]] = entry[i + 1] end
      if info['name'] == group then pending = info['pending'] end
    end
  end
  local replayEntries = 0
  if replayAt > 0 and redis.call('TYPE', KEYS[replayAt])['ok'] == 'stream' then replayEntries = redis.call('XLEN', KEYS[replayAt]) end
  if pending > 0 or replayEntries > 0 then return {-1, pending, replayEntries} end
end

local destroyed = 0
if isStream then destroyed = redis.call('XGROUP', 'DESTROY', KEYS[1], group) end
local deleted = 0
if #KEYS > 1 then deleted = redis.call('UNLINK', unpack(KEYS, 2)) end
return {destroyed, deleted}
