--[[
  park-retry-3.lua: park failed entries until their backoff has passed (qctl work). Several entries
  per call: the worker batches the failures of a few milliseconds, as it batches acknowledgements.

  The backoff lives in Redis, not in the worker's memory, so it survives a crash, and its due
  time is taken from Redis's clock (TIME), so workers whose clocks disagree cannot stall each
  other. The entry goes into the group's due set scored by its due time (workers pop due
  entries from there: finding them costs nothing per entry still waiting), and is handed to the
  pseudo-consumer that holds parked entries (XCLAIM … JUSTID: no delivery counted), so it stays
  pending (nothing is lost if every worker dies) without being any live worker's: the worker that
  failed it can exit and remove its own consumer, and the dead-consumer takeover never touches it.

  The entry's attempt record (see includes/attempt-record.lua) records the failure: this start is
  proven (it threw), so `starts` is at least the failed attempt, and `settled` (starts that reported
  back) catches up. An entry no longer this consumer's (another worker took it over) is left alone.

  KEYS[1]  the topic stream
  KEYS[2]  the group's retry hash
  KEYS[3]  the group's due set
  ARGV[1]  group
  ARGV[2]  consumer that failed the entries
  ARGV[3]  the parked pseudo-consumer
  ARGV[4..] triples: entry ID, backoff delay (ms), the attempt that failed

  Returns, per entry in order, {dueMs, firstFailureMs} (Redis time) if parked (or already parked: the
  call was re-sent after a reconnect, its first reply lost), 0 if it is not this consumer's, -1 if it was deleted from the stream meanwhile (its record is removed: report it lost).
]]
--- @include "attempt-record.lua"
--- @include "pending-to.lua"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local results = {}
local ids = {}
for i = 4, #ARGV, 3 do ids[#ids + 1] = ARGV[i] end
local isMine = pendingTo(KEYS[1], ARGV[1], ARGV[2], ids)
-- Entries still this consumer's, handed to the parked consumer in one XCLAIM (the worker sends at most 100).
local mine = {}
-- Already parked (this call re-sent after a reconnect, its first reply lost): reported as parked again.
local again = {}
for _, id in ipairs(ids) do
  if isMine[id] then
    mine[#mine + 1] = id
  else
    local pending = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    if pending[1] and pending[1][2] == ARGV[3] then
      local due = redis.call('ZSCORE', KEYS[3], id)
      if due then again[id] = {tonumber(due), (readRecord(KEYS[2], id))} end
    end
  end
end
local claimed = {}
if #mine > 0 then
  local args = {KEYS[1], ARGV[1], ARGV[3], 0}
  for _, id in ipairs(mine) do args[#args + 1] = id end
  args[#args + 1] = 'JUSTID'
  for _, id in ipairs(redis.call('XCLAIM', unpack(args))) do claimed[id] = true end
end
local owned = {}
for _, id in ipairs(mine) do owned[id] = true end
local parked = {}
for _, id in ipairs(mine) do
  if claimed[id] then parked[#parked + 1] = id end
end
-- The records of the parked entries: read with one HMGET, written with one HSET (and one HDEL of
-- the start counts folded into them), their due times with one ZADD.
local records = readRecords(KEYS[2], parked)
local recordOf = {}
for i, id in ipairs(parked) do recordOf[id] = records[i] end
local written, folded, dues = {}, {}, {}
for i = 4, #ARGV, 3 do
  local id = ARGV[i]
  if again[id] then
    results[#results + 1] = again[id]
  elseif not owned[id] then
    results[#results + 1] = 0
  elseif not claimed[id] then
    -- Deleted from the stream while its handler ran: Redis 7 dropped it from the pending list on the claim.
    forgetRecord(KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    results[#results + 1] = -1
  else
    local first, starts, settled, solo, _, plus = unpack(recordOf[id])
    if first == 0 then first = now end
    local attempt = tonumber(ARGV[i + 2])
    if attempt > starts then starts = attempt end
    settled = starts
    local due = now + tonumber(ARGV[i + 1])
    written[#written + 1] = id
    written[#written + 1] = first .. ':' .. starts .. ':' .. settled .. ':' .. solo
    if plus then folded[#folded + 1] = id .. '+' end
    dues[#dues + 1] = due
    dues[#dues + 1] = id
    results[#results + 1] = {due, first}
  end
end
if #written > 0 then
  redis.call('HSET', KEYS[2], unpack(written))
  redis.call('ZADD', KEYS[3], unpack(dues))
end
if #folded > 0 then redis.call('HDEL', KEYS[2], unpack(folded)) end
return results
