--[[
  replay-2.lua: move one dead-letter entry to where it is handled again, atomically (qctl dlq replay).
  Either both happen or neither: a replay killed at any moment loses nothing and duplicates
  nothing, and running it again continues with what is still in the dead-letter stream.

  Where it goes (KEYS[2]): the replay stream of the group that dead-lettered it (`{T}:replay:G`,
  src/core/keys.ts), which only that group's workers read, so the topic's other groups never see it
  again; ARGV[3] names the group. The entry's `dlq.group` must be that group (an error otherwise,
  nothing changed), and the group is created on the replay stream at ID 0 (with the stream) if
  missing, in the same step, so a worker that starts later still gets it. With ARGV[3] empty
  (`--to-topic`), the entry is appended to the topic itself, as every group's new message.

  The new entry holds the ORIGINAL fields, byte for byte and in order, without the
  dead-letter metadata: the metadata block starts at the last `dlq.topic` field (qctl work
  appends dlq.topic first); without one, trailing `dlq.*` fields are dropped. The replay is
  recorded in the `headers` field (the last one, if a foreign producer wrote several: the one the
  worker decodes; a JSON object, see the README's wire format):
  `qctl-replayed-from` (the dead-letter entry ID), `qctl-replayed-at` (ARGV[2]) and
  `qctl-original-id`, the message's ID on its topic when first published: kept from the headers
  if a replay recorded it before, else the entry's `dlq.id` (left out when it has neither).
    - no `headers` field: one is added with those keys;
    - a JSON object without replay keys: the keys are inserted before its closing brace,
      leaving the rest of the text as it was;
    - a JSON object replayed before: the keys are replaced (the object is re-encoded by cjson,
      so key order may change);
    - anything else (not a JSON object): left untouched, the replay is not recorded there.
  The new entry gets a fresh ID (`*`), so workers deliver it again with fresh attempts.

  KEYS[1]  the dead-letter stream
  KEYS[2]  the group's replay stream, or with ARGV[3] empty the topic (same hash slot as KEYS[1])
  ARGV[1]  dead-letter entry ID
  ARGV[2]  replay time (ISO 8601), for `qctl-replayed-at`
  ARGV[3]  the group whose replay stream KEYS[2] is; empty to append to the topic

  Returns the new entry ID; 0 if the dead-letter entry no longer exists (already replayed or
  purged). Error NOPERM, naming the command and key, if the caller's ACL user may not do one of
  the writes; error QCTLGROUP if the entry's dlq.group is not ARGV[3]; then nothing was changed.

  Entries of any width: the XADD takes its arguments from spread() (src/lua/includes/spread.lua),
  not from unpack, which passes at most 7,999 values to one command (measured on Redis 7.0.15 and
  Valkey 8.0.1: before, an entry of 3,999 fields without `headers` failed to replay with "too many
  results to unpack"). Tested with 20,000 fields and 100,000 values; the cost is in spread.lua.

  Redis does not roll back a script that fails half-way: an XDEL refused after the XADD would
  leave the entry both replayed and in the dead-letter stream (replayed again by the next run).
  So every write is checked first (redis.acl_check_cmd, Redis 7.0+), and the XADD comes before
  the XDEL: if it fails (an entry too large for the memory left, a key that is not a stream),
  nothing was changed but, at most, the empty replay stream and its group.
]]
--- @include "spread.lua"
--- @include "first-denied.lua"
local group = ARGV[3]
local checks = {
  {'XADD', KEYS[2], '*', 'headers', ''},
  {'XDEL', KEYS[1], ARGV[1]},
}
if group ~= '' then table.insert(checks, 1, {'XGROUP', 'CREATE', KEYS[2], group, '0', 'MKSTREAM'}) end
local denied = firstDenied(checks)
if denied then
  -- XGROUP CREATE names its subcommand before its key.
  local command, key = string.lower(denied[1]), denied[2]
  if denied[1] == 'XGROUP' then command, key = 'xgroup|create', denied[3] end
  return redis.error_reply("NOPERM this user has no permissions to run the '" .. command ..
    "' command on key '" .. key .. "' (checked before replaying: nothing was changed)")
end

local entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if not entries[1] then return 0 end
local pairs_ = entries[1][2]

-- Where the metadata block starts (index of its first field name).
local cut = nil
for i = 1, #pairs_, 2 do
  if pairs_[i] == 'dlq.topic' then cut = i end
end
if cut == nil then
  cut = #pairs_ + 1
  while cut > 1 and string.sub(pairs_[cut - 2], 1, 4) == 'dlq.' do cut = cut - 2 end
end

-- The metadata the routing and the original ID need.
local deadGroup, deadId = nil, nil
for i = cut, #pairs_ - 1, 2 do
  if pairs_[i] == 'dlq.group' then deadGroup = pairs_[i + 1] end
  if pairs_[i] == 'dlq.id' then deadId = pairs_[i + 1] end
end
if group ~= '' then
  if deadGroup ~= group then
    return redis.error_reply('QCTLGROUP dead-letter entry ' .. ARGV[1] .. ' was not dead-lettered by group "' .. group .. '" (nothing was changed)')
  end
  local created = redis.pcall('XGROUP', 'CREATE', KEYS[2], group, '0', 'MKSTREAM')
  if type(created) == 'table' and created.err and not string.find(created.err, '^BUSYGROUP') then return created end
end

-- The headers field that counts is the LAST one, as the worker's decoder reads an entry with several
-- (src/core/worker/message.ts): the replay record goes there, and the original ID is read from it.
local headersAt = nil
for i = 1, cut - 1, 2 do
  if pairs_[i] == 'headers' then headersAt = i end
end

-- The original ID: recorded by an earlier replay, else the ID the entry had on its topic.
local original = deadId
if headersAt ~= nil then
  local ok, decoded = pcall(cjson.decode, pairs_[headersAt + 1])
  if ok and type(decoded) == 'table' and type(decoded['qctl-original-id']) == 'string' then original = decoded['qctl-original-id'] end
end

local from = ARGV[1]
local at = ARGV[2]
local record = '"qctl-replayed-from":"' .. from .. '","qctl-replayed-at":"' .. at .. '"'
if original ~= nil then record = record .. ',"qctl-original-id":' .. cjson.encode(original) end

local function merged(text)
  if not string.match(text, '^%s*{') then return text end
  local ok, decoded = pcall(cjson.decode, text)
  if not ok or type(decoded) ~= 'table' then return text end
  if decoded['qctl-replayed-from'] == nil and decoded['qctl-replayed-at'] == nil and decoded['qctl-original-id'] == nil then
    local head = string.match(text, '^(.*)}%s*$')
    if head == nil then return text end
    if string.match(head, '^%s*{%s*$') then return '{' .. record .. '}' end
    return head .. ',' .. record .. '}'
  end
  decoded['qctl-replayed-from'] = from
  decoded['qctl-replayed-at'] = at
  decoded['qctl-original-id'] = original
  return cjson.encode(decoded)
end

local fields = {}
for i = 1, cut - 1, 2 do
  local name = pairs_[i]
  local value = pairs_[i + 1]
  if i == headersAt then value = merged(value) end
  fields[#fields + 1] = name
  fields[#fields + 1] = value
end
if headersAt == nil then
  fields[#fields + 1] = 'headers'
  fields[#fields + 1] = '{' .. record .. '}'
end

local id = redis.call('XADD', KEYS[2], '*', spread(fields, #fields))
redis.call('XDEL', KEYS[1], ARGV[1])
return id
