--[[
  trim-behind-groups-n.lua: trim a stream, never past what a consumer group still needs, in one
  atomic step (`qctl trim`, and `qctl work --trim-acked`; `n`: the number of keys varies).

  The line: for each consumer group of the stream, the smallest of
    - its oldest pending entry (XPENDING's summary: entries pending to any consumer, qctl's parked
      retries included, since a parked retry is pending to the pseudo-consumer ARGV[4]),
    - the first ID after its last-delivered ID (entries it has not been delivered yet),
    - with its due set given (KEYS[1 + i]): the oldest parked retry, when the parked pseudo-consumer
      no longer exists (XGROUP DELCONSUMER dropped its pending list; qctl work still delivers what
      its due set names: take-due-3.lua's orphans),
    - with ARGV[5 + d + j] naming a group the stream does not have (a group of the topic missing on
      this partition; its workers would make it here and read from the start): the stream's start;
  and the line of the stream is the smallest over its groups. Every entry below it was delivered to
  every group and is pending in none: trimming below it takes nothing a group still needs.

  The trim is `XTRIM key MINID = T` with T = min(rule, line); never MAXLEN (a count cannot say which
  entries it removes). Computing the line and trimming in one script means no group can be made, no
  consumer read and no entry be delivered between them. Nothing here depends on a group's lag, which
  Redis may report as unknown (nil): only on positions and pending entries.

  On a server whose XTRIM takes ACKED (Redis 8.2+: "only trims entries that were read and
  acknowledged by all consumer groups") the trim adds it, so the server refuses anything a group still
  needs even if the line were wrong. Detected here, per call, on the server that runs the script: the
  probe `XTRIM key MINID 0 ACKED` removes nothing on any server (no ID is below 0-0) and is a syntax
  error where the option does not exist (Redis 7.0, Valkey 8). Skipped when the stream does not exist
  (XTRIM of a missing key answers 0 before it reads its options) and when the caller may not XTRIM.

  KEYS[1]      the stream
  KEYS[1 + i]  the due set of the group named by ARGV[4 + i] (optional: may be none)
  ARGV[1]      'plan' (change nothing), 'trim' (trim at min(rule, line)) or 'force' (trim at the rule)
  ARGV[2]      the rule: trim entries with IDs below this ID, or '+' for no rule (as far as the line)
  ARGV[3]      with no groups (no line): 'rule' (trim at the rule) or 'keep' (trim nothing)
  ARGV[4]      the name of qctl's parked pseudo-consumer
  ARGV[5 ..]   the names of the groups of KEYS[2 ..], in order; then groups the stream must have

  Returns {length, removed, trimAt, line, group, reason, oldestId, consumer, idleMs, groups, acked}:
    length    entries before the call, for 'plan' (0 otherwise; nil when the stream does not exist)
    removed   entries XTRIM removed (0 for 'plan')
    trimAt    the MINID used or that 'plan' would use (false: nothing would be trimmed)
    line      the stream's line (false: no groups), and the group holding it and why:
    reason    'pending' (its oldest pending entry), 'undelivered' (the next entry it has not had),
              'parked' (a parked retry whose pseudo-consumer is gone), 'missing' (no group here)
    oldestId  for 'pending' and 'parked': the entry; consumer and idleMs for 'pending'
    groups    how many groups the stream has
    acked     1: ACKED was used (or would be); 0: the server does not take it; -1: not probed
  An error reply NOPERM, before anything changed, when the caller may not XTRIM the stream.
]]
--- @include "stream-ids.lua"
local stream = KEYS[1]
local mode, rule, whenNoGroups, parkedConsumer = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local dueCount = #KEYS - 1

local function fields(reply)
  local map = {}
  for i = 1, #reply, 2 do map[reply[i]] = reply[i + 1] end
  return map
end

-- XINFO GROUPS first: it tells a missing stream ('no such key') without EXISTS, which the worker role lacks.
local groups = redis.pcall('XINFO', 'GROUPS', stream)
if type(groups) == 'table' and groups.err then
  if string.find(groups.err, 'no such key', 1, true) then return {false, 0, false, false, false, false, false, false, false, 0, -1} end
  return groups
end
local mayTrim = not redis.acl_check_cmd or redis.acl_check_cmd('XTRIM', stream, 'MINID', '0')
if mode ~= 'plan' and not mayTrim then
  return redis.error_reply("NOPERM this user has no permissions to run the 'xtrim' command on key '" .. stream .. "' (checked before trimming: nothing was changed)")
end
-- The length only for a plan (qctl trim reports it; the worker role has no XLEN).
local length = 0
if mode == 'plan' then length = redis.call('XLEN', stream) end

local line, holder = nil, nil
local function consider(id, group, reason, extra)
  if line == nil or idLess(id, line) then
    line = id
    holder = {group, reason, extra}
  end
end

local present = {}
for _, reply in ipairs(groups) do
  local group = fields(reply)
  local name = group['name']
  present[name] = true
  consider(idAfter(group['last-delivered-id']), name, 'undelivered', nil)
  if tonumber(group['pending']) > 0 then
    local oldest = redis.call('XPENDING', stream, name)[2]
    if oldest then consider(oldest, name, 'pending', oldest) end
  end
end

-- Parked retries whose pseudo-consumer is gone: pending nowhere, yet delivered again by the due set.
for i = 1, dueCount do
  local name = ARGV[4 + i]
  if present[name] and redis.call('ZRANGE', KEYS[1 + i], 0, 0)[1] then
    local parkedExists = false
    for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', stream, name)) do
      if fields(consumer)['name'] == parkedConsumer then parkedExists = true end
    end
    if not parkedExists then
      local oldest = nil
      for _, id in ipairs(redis.call('ZRANGE', KEYS[1 + i], 0, -1)) do
        if oldest == nil or idLess(id, oldest) then oldest = id end
      end
      consider(oldest, name, 'parked', oldest)
    end
  end
end

for j = 5 + dueCount, #ARGV do
  if not present[ARGV[j]] then consider('0-0', ARGV[j], 'missing', nil) end
end

local trimAt = nil
if mode == 'force' then
  trimAt = rule
elseif line == nil then
  if whenNoGroups == 'rule' then trimAt = rule end
elseif rule == '+' or idLess(line, rule) then
  trimAt = line
else
  trimAt = rule
end
if trimAt == '+' then trimAt = nil end

local acked = -1
if mayTrim then
  local probe = redis.pcall('XTRIM', stream, 'MINID', '0', 'ACKED')
  acked = (type(probe) == 'table' and probe.err) and 0 or 1
end
if mode == 'force' and acked == 1 then acked = 0 end

local removed = 0
if mode ~= 'plan' and trimAt then
  if acked == 1 then
    removed = redis.call('XTRIM', stream, 'MINID', '=', trimAt, 'ACKED')
  else
    removed = redis.call('XTRIM', stream, 'MINID', '=', trimAt)
  end
end

local oldestId, consumer, idleMs = false, false, false
if holder and holder[3] then
  oldestId = holder[3]
  if holder[2] == 'pending' then
    local detail = redis.call('XPENDING', stream, holder[1], oldestId, oldestId, 1)[1]
    if detail then consumer, idleMs = detail[2], detail[3] end
  end
end
return {length, removed, trimAt or false, line or false, holder and holder[1] or false, holder and holder[2] or false, oldestId, consumer, idleMs, #groups, acked}
