--[[
  stream-info.lua (included by the group scripts): XINFO STREAM's reply as a map, and an exact
  comparison of two stream IDs.

  IDs go up to 18446744073709551615-18446744073709551615, past what a Lua number holds exactly, so
  each part is compared as a decimal string: the longer is larger, else the larger string. IDs come
  from Redis or from qctl, which writes them without leading zeros.
]]
local function compareDecimal(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end

-- Negative when a < b, 0 when equal, positive when a > b (`<ms>-<seq>` IDs).
local function compareIds(a, b)
  local dashA, dashB = string.find(a, '-', 1, true), string.find(b, '-', 1, true)
  local byMs = compareDecimal(string.sub(a, 1, dashA - 1), string.sub(b, 1, dashB - 1))
  if byMs ~= 0 then return byMs end
  return compareDecimal(string.sub(a, dashA + 1), string.sub(b, dashB + 1))
end

-- XINFO STREAM's reply as a map.
local function streamInfo(reply)
  local map = {}
  for i = 1, #reply, 2 do map[reply[i]] = reply[i + 1] end
  return map
end
