--[[
  attempt-record.lua (included by the worker's scripts): an entry's attempt record in the group's
  retry hash (see src/core/worker/attempts.ts). Two fields per entry:
    <id>   "firstFailureMs:starts:settled:solo", written by scripts (a failure, a start alone);
    <id>+  starts counted by a plain HINCRBY just before a handler ran (qctl before December 2026;
           now the worker writes `<id>` whole, see GroupOps.markStarts), added to `starts`.
]]
-- A record from its two fields' values (false when missing, as HMGET returns them).
local function parseRecord(text, plusText)
  local first, starts, settled, solo = 0, 0, 0, 0
  local found = false
  if text then
    found = true
    local parts = {}
    for part in string.gmatch(text, '[^:]+') do parts[#parts + 1] = tonumber(part) or 0 end
    first = parts[1] or 0
    if #parts >= 4 then starts, settled, solo = parts[2], parts[3], parts[4] else starts, settled = 1, 1 end
  end
  local plus = plusText ~= false and plusText ~= nil
  if plus then
    found = true
    starts = starts + (tonumber(plusText) or 0)
  end
  return first, starts, settled, solo, found, plus
end

local function readRecord(hash, id)
  local values = redis.call('HMGET', hash, id, id .. '+')
  return parseRecord(values[1], values[2])
end

local function formatRecord(first, starts, settled, solo, found)
  if not found then return '' end
  return first .. ':' .. starts .. ':' .. settled .. ':' .. solo
end

local function recordText(hash, id)
  return formatRecord(readRecord(hash, id))
end

-- The records of many entries (as readRecord: {first, starts, settled, solo, found, plus} each), with one HMGET.
local function readRecords(hash, ids)
  local records = {}
  if #ids == 0 then return records end
  local fields = {}
  for i, id in ipairs(ids) do
    fields[2 * i - 1] = id
    fields[2 * i] = id .. '+'
  end
  local values = redis.call('HMGET', hash, unpack(fields))
  for i = 1, #ids do records[i] = {parseRecord(values[2 * i - 1], values[2 * i])} end
  return records
end

-- The records of many entries as recordText gives them, with one HMGET.
local function recordTexts(hash, ids)
  local texts = {}
  for i, record in ipairs(readRecords(hash, ids)) do texts[i] = formatRecord(unpack(record)) end
  return texts
end

-- `plus`: whether the record had a `<id>+` field (readRecord's sixth value), now folded into `starts`.
local function writeRecord(hash, id, first, starts, settled, solo, plus)
  redis.call('HSET', hash, id, first .. ':' .. starts .. ':' .. settled .. ':' .. solo)
  if plus then redis.call('HDEL', hash, id .. '+') end
end

local function forgetRecord(hash, id)
  redis.call('HDEL', hash, id, id .. '+')
end
