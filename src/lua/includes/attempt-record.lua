--[[
  attempt-record.lua (included by the worker's scripts): an entry's attempt record in the group's
  retry hash (see src/core/worker/attempts.ts). Two fields per entry:
    <id>   "firstFailureMs:starts:settled:solo", written by scripts (a failure, a start alone);
    <id>+  starts counted by a plain HINCRBY just before a handler runs (the worker's hot path for
           entries taken back sends no script), added to `starts`.
]]
local function readRecord(hash, id)
  local values = redis.call('HMGET', hash, id, id .. '+')
  local first, starts, settled, solo = 0, 0, 0, 0
  local found = false
  if values[1] then
    found = true
    local parts = {}
    for part in string.gmatch(values[1], '[^:]+') do parts[#parts + 1] = tonumber(part) or 0 end
    first = parts[1] or 0
    if #parts >= 4 then starts, settled, solo = parts[2], parts[3], parts[4] else starts, settled = 1, 1 end
  end
  local plus = values[2] ~= false and values[2] ~= nil
  if plus then
    found = true
    starts = starts + (tonumber(values[2]) or 0)
  end
  return first, starts, settled, solo, found, plus
end

local function recordText(hash, id)
  local first, starts, settled, solo, found = readRecord(hash, id)
  if not found then return '' end
  return first .. ':' .. starts .. ':' .. settled .. ':' .. solo
end

-- `plus`: whether the record had a `<id>+` field (readRecord's sixth value), now folded into `starts`.
local function writeRecord(hash, id, first, starts, settled, solo, plus)
  redis.call('HSET', hash, id, first .. ':' .. starts .. ':' .. settled .. ':' .. solo)
  if plus then redis.call('HDEL', hash, id .. '+') end
end

local function forgetRecord(hash, id)
  redis.call('HDEL', hash, id, id .. '+')
end
