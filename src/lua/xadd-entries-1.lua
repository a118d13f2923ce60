--[[
  xadd-entries-1.lua: append a batch of whole entries to one stream in one round trip
  (`qctl publish --envelope`, which copies entries as `qctl tail` printed them).

  Unlike xadd-batch-1.lua, whose entries all have qctl's few wire-format fields, each entry here
  has its own width (an entry another program wrote may have thousands of fields) and its own ID:
  `*` for a new one, or the entry's original ID with `--keep-ids`.

  KEYS[1]  the stream
  ARGV     the entries, one after the other, each as:
             ID     `*`, or an explicit `<ms>-<seq>`
             N      the number of field/value arguments that follow (even, at least 2)
             N field/value arguments, in the entry's order

  Each XADD passes its N values through spread() (src/lua/includes/spread.lua): unpack() alone
  fails past 7,999 values.

  Returns {added, firstId, lastId, error}:
    added    number of entries added (all of them unless one failed)
    firstId  ID of the first entry added, or false
    lastId   ID of the last entry added, or false
    error    false, or the error of the XADD that failed (an ID at or below the stream's last
             one, NOPERM, OOM); entries after it were not added, entries before it were
]]
--- @include "spread.lua"

local added = 0
local first = false
local last = false
local i = 1
while i <= #ARGV do
  local width = tonumber(ARGV[i + 1])
  local id = redis.pcall('XADD', KEYS[1], ARGV[i], peel(ARGV, i + 2, i + 1 + width, 0))
  if type(id) == 'table' and id.err then
    return {added, first, last, id.err}
  end
  if not first then first = id end
  last = id
  added = added + 1
  i = i + 2 + width
end
return {added, first, last, false}
