--[[
  replay-2.lua: move one dead-letter entry back onto its topic, atomically (qctl dlq replay).
  Either both happen or neither: a replay killed at any moment loses nothing and duplicates
  nothing, and running it again continues with what is still in the dead-letter stream.

  The new topic entry holds the ORIGINAL fields, byte for byte and in order, without the
  dead-letter metadata: the metadata block starts at the last `dlq.topic` field (qctl work
  appends dlq.topic first); without one, trailing `dlq.*` fields are dropped. The replay is
  recorded in the `headers` field (a JSON object, see the README's wire format):
    - no `headers` field: one is added, {"qctl-replayed-from": ID, "qctl-replayed-at": TIME};
    - a JSON object without replay keys: the two keys are inserted before its closing brace,
      leaving the rest of the text as it was;
    - a JSON object replayed before: both keys are replaced (the object is re-encoded by cjson,
      so key order may change);
    - anything else (not a JSON object): left untouched, the replay is not recorded there.
  The new entry gets a fresh ID (`*`), so workers deliver it again with fresh attempts.

  KEYS[1]  the dead-letter stream
  KEYS[2]  the topic stream (same hash slot as the dead-letter stream)
  ARGV[1]  dead-letter entry ID
  ARGV[2]  replay time (ISO 8601), for `qctl-replayed-at`

  Returns the new topic entry ID; 0 if the dead-letter entry no longer exists (already
  replayed or purged). Error NOPERM, naming the command and key, if the caller's ACL user may
  not do one of the writes; then nothing was changed.

  Entries of any width: the XADD takes its arguments from spread() (src/lua/includes/spread.lua),
  not from unpack, which passes at most 7,999 values to one command (measured on Redis 7.0.15 and
  Valkey 8.0.1: before, an entry of 3,999 fields without `headers` failed to replay with "too many
  results to unpack"). Tested with 20,000 fields and 100,000 values; the cost is in spread.lua.

  Redis does not roll back a script that fails half-way: an XDEL refused after the XADD would
  leave the entry both on the topic and in the dead-letter stream (replayed again by the next
  run). So both writes are checked first (redis.acl_check_cmd, Redis 7.0+), and the XADD comes
  first: if it fails (an entry too large for the memory left, a topic that is not a stream),
  nothing was changed.
]]
--- @include "spread.lua"
--- @include "first-denied.lua"
local denied = firstDenied({
  {'XADD', KEYS[2], '*', 'headers', ''},
  {'XDEL', KEYS[1], ARGV[1]},
})
if denied then
  return redis.error_reply("NOPERM this user has no permissions to run the '" .. string.lower(denied[1]) ..
    "' command on key '" .. denied[2] .. "' (checked before replaying: nothing was changed)")
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

local from = ARGV[1]
local at = ARGV[2]
local record = '"qctl-replayed-from":"' .. from .. '","qctl-replayed-at":"' .. at .. '"'

local function merged(text)
  if not string.match(text, '^%s*{') then return text end
  local ok, decoded = pcall(cjson.decode, text)
  if not ok or type(decoded) ~= 'table' then return text end
  if decoded['qctl-replayed-from'] == nil and decoded['qctl-replayed-at'] == nil then
    local head = string.match(text, '^(.*)}%s*$')
    if head == nil then return text end
    if string.match(head, '^%s*{%s*$') then return '{' .. record .. '}' end
    return head .. ',' .. record .. '}'
  end
  decoded['qctl-replayed-from'] = from
  decoded['qctl-replayed-at'] = at
  return cjson.encode(decoded)
end

local fields = {}
local hasHeaders = false
for i = 1, cut - 1, 2 do
  local name = pairs_[i]
  local value = pairs_[i + 1]
  if name == 'headers' and not hasHeaders then
    hasHeaders = true
    value = merged(value)
  end
  fields[#fields + 1] = name
  fields[#fields + 1] = value
end
if not hasHeaders then
  fields[#fields + 1] = 'headers'
  fields[#fields + 1] = '{' .. record .. '}'
end

local id = redis.call('XADD', KEYS[2], '*', spread(fields, #fields))
redis.call('XDEL', KEYS[1], ARGV[1])
return id
