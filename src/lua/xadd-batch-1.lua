--[[
  xadd-batch-1.lua: append a batch of entries to one stream in one round trip (qctl publish).

  One command per batch instead of one per message: the client encodes and parses a single
  command, which makes publishing several times faster than pipelined XADDs. Entries are
  added in order with auto-generated IDs, exactly as `XADD key * field value ...` would.

  KEYS[1]  the topic stream
  ARGV[1]  W, the number of arguments per entry (field/value pairs, so even)
  ARGV[2..] the entries, W arguments each, in wire-format order

  Each XADD takes its W arguments with unpack(ARGV, i, i + W - 1): W is at most 8 (the wire
  format's data, key, headers and enc fields, all qctl publish writes), far under the 7,999
  values unpack can pass to one command (Lua's C stack; see src/lua/includes/spread.lua).

  Returns {added, firstId, lastId, error}:
    added    number of entries added (all of them unless one failed)
    firstId  ID of the first entry added, or false
    lastId   ID of the last entry added, or false
    error    false, or the error of the XADD that failed (e.g. NOPERM, OOM); entries after it
             were not added, entries before it were
]]
local width = tonumber(ARGV[1])
local added = 0
local first = false
local last = false
for i = 2, #ARGV, width do
  local id = redis.pcall('XADD', KEYS[1], '*', unpack(ARGV, i, i + width - 1))
  if type(id) == 'table' and id.err then
    return {added, first, last, id.err}
  end
  if not first then first = id end
  last = id
  added = added + 1
end
return {added, first, last, false}
