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
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local results = {}
-- Entries still this consumer's, handed to the parked consumer in one XCLAIM (the worker sends at most 100).
local mine = {}
-- Already parked (this call re-sent after a reconnect, its first reply lost): reported as parked again.
local again = {}
for i = 4, #ARGV, 3 do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if pending[1] and pending[1][2] == ARGV[2] then
    mine[#mine + 1] = ARGV[i]
  elseif pending[1] and pending[1][2] == ARGV[3] then
    local due = redis.call('ZSCORE', KEYS[3], ARGV[i])
    if due then again[ARGV[i]] = {tonumber(due), (readRecord(KEYS[2], ARGV[i]))} end
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
    local first, starts, settled, solo, _, plus = readRecord(KEYS[2], id)
    if first == 0 then first = now end
    local attempt = tonumber(ARGV[i + 2])
    if attempt > starts then starts = attempt end
    settled = starts
    local due = now + tonumber(ARGV[i + 1])
    writeRecord(KEYS[2], id, first, starts, settled, solo, plus)
    redis.call('ZADD', KEYS[3], due, id)
    results[#results + 1] = {due, first}
  end
end
return results
