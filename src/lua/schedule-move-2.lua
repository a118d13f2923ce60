--[[
  schedule-move-2.lua: append the due messages of a stream's schedule to the stream, oldest due
  first, each removed from the schedule in the same step (qctl work, qctl schedule run).

  Atomic: a mover that dies (killed, its connection lost) either moved a message or did not; a
  message is never in both places, never in neither, and two movers racing move it once (the
  second finds it gone). Due is by Redis's clock, so movers on hosts whose clocks differ agree.

  KEYS[1]  the stream (a plain topic, or one partition's stream)
  KEYS[2]  its schedule (schedule-add-1.lua says what a member holds)
  ARGV[1]  how many to move at most

  Returns {moved, nextDueInMs, error, bad}: how many were appended; in how many ms the next one is
  due (-1 when none is scheduled; 0 when one is due now); false or the error of the XADD that
  stopped it (OOM, WRONGTYPE: the message it stopped at stays scheduled); how many due members were
  not messages qctl scheduled (another program wrote them): left in place, never dropped, for the
  caller to say so. Fields are passed to XADD with unpack, so a message of at most 7,998 values
  (qctl publishes at most 8).
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local moved = 0
local bad = 0
-- The fields of a member qctl scheduled, or nil for one it did not write.
local function fieldsOf(member)
  local at = string.find(member, '\n', 1, true)
  if not at then return nil end
  local fields = {}
  local pos = at + 1
  while pos <= #member do
    local colon = string.find(member, ':', pos, true)
    local length = colon and tonumber(string.sub(member, pos, colon - 1))
    if not length or colon + length > #member then return nil end
    fields[#fields + 1] = string.sub(member, colon + 1, colon + length)
    pos = colon + length + 1
  end
  if #fields == 0 or #fields % 2 == 1 or #fields > 7998 then return nil end
  return fields
end
for _, member in ipairs(due) do
  local fields = fieldsOf(member)
  if not fields then
    bad = bad + 1
  else
    local id = redis.pcall('XADD', KEYS[1], '*', unpack(fields))
    if type(id) == 'table' and id.err then return {moved, 0, id.err, bad} end
    redis.call('ZREM', KEYS[2], member)
    moved = moved + 1
  end
end
local next = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local nextDueInMs = -1
if next[2] then nextDueInMs = math.max(0, tonumber(next[2]) - now) end
return {moved, nextDueInMs, false, bad}
