--[[
  stream-ids.lua (included by scripts that compare stream IDs): IDs as Redis writes them,
  `<ms>-<seq>`, both parts decimal without leading zeros and up to 2^64 - 1, which a Lua number
  (a double) cannot hold exactly; so they are compared and incremented as text.
    idLess(a, b)   whether a < b
    idAfter(id)    the next possible ID (`5-3` -> `5-4`; `5-18446744073709551615` -> `6-0`); the
                   largest ID itself for the largest (nothing comes after it)
]]
local MAX_PART = '18446744073709551615'

local function splitId(id)
  local dash = string.find(id, '-', 1, true)
  if not dash then return id, '0' end
  return string.sub(id, 1, dash - 1), string.sub(id, dash + 1)
end

-- Decimal texts without leading zeros: the longer is larger, else the text order is the number order.
local function partLess(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end

local function idLess(a, b)
  local ams, aseq = splitId(a)
  local bms, bseq = splitId(b)
  if ams ~= bms then return partLess(ams, bms) end
  return partLess(aseq, bseq)
end

local function increment(digits)
  local out = {}
  local carry = 1
  for i = #digits, 1, -1 do
    local digit = string.byte(digits, i) - 48 + carry
    if digit == 10 then
      digit, carry = 0, 1
    else
      carry = 0
    end
    out[i] = string.char(48 + digit)
  end
  local text = table.concat(out)
  if carry == 1 then text = '1' .. text end
  return text
end

local function idAfter(id)
  local ms, seq = splitId(id)
  if seq == MAX_PART and ms == MAX_PART then return id end
  if seq == MAX_PART then return increment(ms) .. '-0' end
  return ms .. '-' .. increment(seq)
end
