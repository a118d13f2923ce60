--[[
  schedule-add-1.lua: hold a batch of messages until they are due (qctl publish --delay / --at).

  A scheduled message is a member of the stream's schedule (keys.ts scheduleKey, a sorted set in the
  stream's slot) scored by its due time, Redis's clock in ms: "<id>\n" followed by its stream fields,
  each as "<byte length>:<bytes>" (src/core/schedule/schedule-entry.ts), binary-safe, with an id
  unique to the message so equal messages stay two. Until it is due it is in no stream: no group
  sees it, and `qctl lag`, `top` and `inspect` count it as scheduled. A mover (schedule-move-2.lua,
  run by `qctl work` of the topic or `qctl schedule run`) appends it to the stream when it is due.

  KEYS[1]  the schedule of the stream (a plain topic, or one partition's stream)
  ARGV[1]  'delay' (ARGV[2] ms from now, by Redis's clock) or 'at' (ARGV[2] a Unix time in ms)
  ARGV[2]  the delay or the due time, ms
  ARGV[3..] the members, one per message

  Returns {added, dueMs, error}: how many were added (all, unless a ZADD was refused: OOM), the due
  time given to them, and false or the error of the ZADD that stopped the batch.
]]
local due = tonumber(ARGV[2])
if ARGV[1] == 'delay' then
  local time = redis.call('TIME')
  due = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + due
end
local added = 0
for i = 3, #ARGV do
  local reply = redis.pcall('ZADD', KEYS[1], due, ARGV[i])
  if type(reply) == 'table' and reply.err then return {added, due, reply.err} end
  added = added + 1
end
return {added, due, false}
