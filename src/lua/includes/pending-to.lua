--[[
  pending-to.lua (included by the worker's scripts): which of some entry IDs are pending to one
  consumer, without one XPENDING per entry.

  One XPENDING of that consumer over the IDs' range (lowest to highest) lists them, and whatever
  else of that consumer's lies between. The entries a worker parks together, and the due entries it
  takes together, are close in the stream (failed, or due, at about the same time), so the range
  holds few others; when it holds more than the listing asks for (2 per ID, plus 16), each ID not
  listed is asked for on its own, so the answer is exact either way. Measured on a retry storm of
  100,000 entries: one XPENDING per entry in the park and take scripts, with its reply turned into a
  Lua table, was the larger part of Redis's time.
]]
-- An ID's two parts as numbers, or nil where a part has more than 15 digits (a double holds those
-- exactly; IDs may go to 2^64 - 1, written by other programs): such a batch is asked for ID by ID.
-- One find and two conversions per ID, once: pattern matching on every comparison cost more than
-- the XPENDING calls it saved.
local function idKey(id)
  local dash = string.find(id, '-', 1, true)
  if not dash or dash > 16 or #id - dash > 15 then return nil end
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end

-- A set (ID -> true) holding those of `ids` pending to `consumer` (and maybe others of its entries).
local function pendingTo(stream, group, consumer, ids)
  local found = {}
  if #ids == 0 then return found end
  local listed = true
  local first, firstMs, firstSeq, last, lastMs, lastSeq
  for _, id in ipairs(ids) do
    local ms, seq = idKey(id)
    if not ms or not seq then
      listed = false
      break
    end
    if not first or ms < firstMs or (ms == firstMs and seq < firstSeq) then first, firstMs, firstSeq = id, ms, seq end
    if not last or ms > lastMs or (ms == lastMs and seq > lastSeq) then last, lastMs, lastSeq = id, ms, seq end
  end
  if listed then
    local count = 2 * #ids + 16
    local rows = redis.call('XPENDING', stream, group, first, last, count, consumer)
    for _, row in ipairs(rows) do found[row[1]] = true end
    listed = #rows < count
  end
  if not listed then
    for _, id in ipairs(ids) do
      if not found[id] and redis.call('XPENDING', stream, group, id, id, 1, consumer)[1] then found[id] = true end
    end
  end
  return found
end
