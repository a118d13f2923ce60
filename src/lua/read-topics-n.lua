#!lua flags=no-writes
--[[
  read-topics-n.lua: the figures `qctl lag`, `inspect` and `top` show for several topics, read on
  the server in one call (sent with EVAL_RO / EVALSHA_RO; `n`: the number of keys varies).

  Why a script: read with plain commands, a topic with one group costs six commands (XINFO STREAM,
  XINFO GROUPS, XLEN of its DLQ, XINFO CONSUMERS, XPENDING, XINFO GROUPS of its replay stream),
  and over 10,000 topics the client's cost per command and per reply, not Redis, took most of a
  second. Here the same commands run inside Redis and one short array per topic comes back. The
  script writes nothing (flags=no-writes): it runs on replicas, under OOM, and with EVAL_RO, and
  every command in it is still checked against the caller's ACL. Each call is atomic, so a group
  cannot vanish between reading its figures and its consumers.

  KEYS     per topic, its stream; then, unless its ARGV entry is empty, its dead-letter stream and,
           when ARGV[4] is '1', its schedule (keys.ts scheduleKey: messages held by publish --delay/--at)
  ARGV[1]  a consumer counts as active when its idle time (ms) is below this
  ARGV[2]  the name of qctl's parked pseudo-consumer (its pending count: entries waiting out a retry)
  ARGV[3]  what to read: 'lag' (a topic's length by XLEN, no XINFO STREAM: `lag` shows nothing else
           of the stream, and XINFO STREAM costs a third of the call, copying the first and last
           entries), 'full' (XINFO STREAM, and entries-added of dead-letter streams that hold
           entries, for rates), 'top' (as 'full' without the stream's IDs, which `top` does not
           show: entries-added from the groups where they tell it, see addedFromGroups, so XINFO
           STREAM only for topics whose groups do not), or 'rates' (as 'top', but of groups only
           what XINFO GROUPS says: the first reading of `top --once`, which only serves as the
           start of the rates; consumers are counted, not read: no active count, parked count or
           oldest pending entry)
  ARGV[4]  '1': read each topic's schedule too; '0': not (a caller whose ACL may not name the
           schedule keys: Redis refuses the whole call when one declared key is out of the user's
           patterns, so it calls again without them)
  ARGV[4+i] for the i-th topic: the prefix of its groups' replay streams (`{T}:replay:`, the group
           name follows), or '' for a dead-letter stream read as a topic of its own (no DLQ, no replay)

  Returns one array per topic (firstId, lastId and lastGeneratedId nil in 'lag', 'top' and 'rates';
  entriesAdded and dlqEntriesAdded nil in 'lag'):
    {'missing', dlqLength, scheduled, scheduledDue}   the topic does not exist (its dead-letter
                                  stream or schedule may: a topic published to only with --delay)
    {'not-a-stream'}              the topic's key holds something else
    {'stream', length, firstId, lastId, lastGeneratedId, entriesAdded,
     dlqState, dlqLength, dlqEntriesAdded, groupCount, <12 fields per group>, scheduled, scheduledDue}
  scheduled: the messages in the topic's schedule, scheduledDue: of them, those due by Redis's clock
  (held past their time: no worker or `schedule run` appends them); 0 and 0 when the schedule is not
  read (ARGV[4] '0', or a dead-letter stream); nil when it cannot be (the key holds something else, or
  the user may not run ZCARD, ZCOUNT or TIME): an optional figure never fails the reading.
  dlqState: 'stream', 'none' (no dead-letter stream read) or 'not-a-stream'. Per group:
    name, lastDeliveredId, entriesRead, lag, pending, consumers, activeConsumers, parkedPending,
    oldestPendingId, oldestPendingIdleMs, replayLag, replayPending (of the group on its replay
    stream; 0 and 0 when it has none). An absent value (lag Redis cannot tell, no entry) is nil.
  An error other than "no such key" or WRONGTYPE where those are expected fails the call.
]]
local activeWindow = tonumber(ARGV[1])
local parkedConsumer = ARGV[2]
local mode = ARGV[3]
local withSchedules = ARGV[4] == '1'

local function fields(reply)
  local map = {}
  for i = 1, #reply, 2 do map[reply[i]] = reply[i + 1] end
  return map
end

-- A reply of redis.pcall: the value, or nil and 'missing' / 'not-a-stream'; other errors are raised.
local function expected(reply)
  if type(reply) == 'table' and reply.err then
    if string.find(reply.err, 'no such key', 1, true) then return nil, 'missing' end
    if string.sub(reply.err, 1, 9) == 'WRONGTYPE' then return nil, 'not-a-stream' end
    error(reply)
  end
  return reply
end

--[[
  The entries ever added to a stream, from XINFO GROUPS: Redis reports a group's lag as entries-added
  minus the group's entries-read whenever it has both (t_stream.c, streamReplyWithCGLag), so their
  sum is entries-added, even for a counter set by hand (XGROUP SETID … ENTRIESREAD), as long as no
  deleted entry lies ahead of the group. With one there (and the lag still known), Redis counts the
  group's position itself and the sum may be off: so every group that has both must give the same
  sum, else (or with none) nil, and the caller reads XINFO STREAM.
]]
local function addedFromGroups(groups)
  local added = nil
  for _, info in ipairs(groups) do
    local read, lag = info['entries-read'], info['lag']
    if read and lag then
      if added and added ~= read + lag then return nil end
      added = read + lag
    end
  end
  return added
end

-- XINFO GROUPS's reply, each group as a map.
local function groupInfos(reply)
  local infos = {}
  for i, entry in ipairs(reply) do infos[i] = fields(entry) end
  return infos
end

local function replayOf(prefix, group)
  -- EXISTS first: an error reply (no such key) costs more than the command, and most groups never had a replay.
  if prefix == '' or redis.call('EXISTS', prefix .. group) == 0 then return 0, 0 end
  local groups = expected(redis.pcall('XINFO', 'GROUPS', prefix .. group))
  if groups then
    for _, entry in ipairs(groups) do
      local info = fields(entry)
      if info['name'] == group then return info['lag'], info['pending'] end
    end
  end
  return 0, 0
end

local function pushGroup(row, topic, info, prefix)
  local name = info['name']
  local count, active, parked, oldest = info['consumers'], false, false, nil
  if mode ~= 'rates' then
    local consumers = redis.call('XINFO', 'CONSUMERS', topic, name)
    count, active, parked = #consumers, 0, 0
    for _, entry in ipairs(consumers) do
      local consumer = fields(entry)
      if consumer['idle'] < activeWindow then active = active + 1 end
      if consumer['name'] == parkedConsumer then parked = consumer['pending'] end
    end
    oldest = redis.call('XPENDING', topic, name, '-', '+', 1)[1]
  end
  local replayLag, replayPending = replayOf(prefix, name)
  local values = {
    name, info['last-delivered-id'], info['entries-read'], info['lag'], info['pending'], count, active, parked,
    oldest and oldest[1] or false, oldest and oldest[3] or false, replayLag, replayPending,
  }
  -- Not table.insert over a list with holes: a nil (false) value must keep its place.
  for i = 1, 12 do row[#row + 1] = values[i] end
end

-- Redis's clock (ms), read once per call and only when a schedule holds something; nil if refused.
local nowMs = nil
local function redisNow()
  if nowMs == nil then
    local time = redis.pcall('TIME')
    nowMs = (type(time) == 'table' and not time.err) and (tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)) or false
  end
  return nowMs or nil
end

-- A schedule's size and how many of its messages are due; nil, nil when it cannot be read (any error).
local function scheduleOf(scheduleKey)
  if not scheduleKey then return 0, 0 end
  local held = redis.pcall('ZCARD', scheduleKey)
  if type(held) ~= 'number' then return nil, nil end
  if held == 0 then return 0, 0 end
  local now = redisNow()
  if not now then return held, nil end
  local due = redis.pcall('ZCOUNT', scheduleKey, '-inf', now)
  return held, type(due) == 'number' and due or nil
end

local out = {}
local key = 1
for i = 5, #ARGV do
  local topic = KEYS[key]
  local prefix = ARGV[i]
  local deadLetterKey = prefix ~= '' and KEYS[key + 1] or nil
  local scheduleKey = (deadLetterKey and withSchedules) and KEYS[key + 2] or nil
  key = key + 1 + (deadLetterKey and 1 or 0) + (scheduleKey and 1 or 0)
  local scheduled, scheduledDue = scheduleOf(scheduleKey)

  local dlqState, dlqLength, dlqAdded = 'none', 0, false
  if deadLetterKey then
    local length, problem = expected(redis.pcall('XLEN', deadLetterKey))
    if problem then
      dlqState = problem
    else
      dlqState, dlqLength = 'stream', length
      if mode ~= 'lag' and length > 0 then dlqAdded = fields(redis.call('XINFO', 'STREAM', deadLetterKey))['entries-added'] or false end
    end
  end

  -- info: the stream as XINFO STREAM tells it (a map), with `groups` as a list of maps.
  local info, problem
  if mode ~= 'full' then
    -- XINFO GROUPS tells a missing key and another type apart (XLEN answers 0 for a missing key).
    local groups
    groups, problem = expected(redis.pcall('XINFO', 'GROUPS', topic))
    if groups then
      info = {length = redis.call('XLEN', topic), groups = groupInfos(groups)}
      if mode ~= 'lag' then
        info['entries-added'] = addedFromGroups(info.groups) or fields(redis.call('XINFO', 'STREAM', topic))['entries-added']
      end
    end
  else
    local stream
    stream, problem = expected(redis.pcall('XINFO', 'STREAM', topic))
    if stream then
      info = fields(stream)
      -- Redis 7 lists the groups in XINFO STREAM only with FULL: read them apart.
      info.groups = groupInfos(type(info.groups) == 'table' and info.groups or redis.call('XINFO', 'GROUPS', topic))
    end
  end
  if problem == 'missing' then
    out[#out + 1] = {'missing', dlqLength, scheduled or false, scheduledDue or false}
  elseif problem then
    out[#out + 1] = {'not-a-stream'}
  else
    local first, last = info['first-entry'], info['last-entry']
    local row = {'stream', info['length'], first and first[1] or false, last and last[1] or false,
      info['last-generated-id'] or false, info['entries-added'] or false, dlqState, dlqLength, dlqAdded, #info.groups}
    for _, group in ipairs(info.groups) do pushGroup(row, topic, group, prefix) end
    row[#row + 1] = scheduled or false
    row[#row + 1] = scheduledDue or false
    out[#out + 1] = row
  end
end
return out
