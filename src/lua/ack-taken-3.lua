--[[
  ack-taken-3.lua: acknowledge entries this consumer took over from another consumer, one by one,
  and settle their takeover marks, so that a second handling is counted once, by one of the two
  workers, and an entry handled once is counted by neither (qctl work).

  reclaim-4.lua marks each entry it takes with the consumer it was taken from (field `<id>` of
  KEYS[3]). That consumer was frozen or cut off, not necessarily dead: it may have handled the entry
  already, its acknowledgement still on the way (sent before a freeze of Redis and re-sent after it,
  or sent on waking), and that acknowledgement is a plain XACK of a whole batch, which says nothing
  per entry. It may reach Redis before this worker starts the entry (then this worker does not
  start it: heartbeat-4.lua reports it finished by the consumer it was taken from), while the
  handler runs here, or after this worker finished it. So which of the two finished first is
  settled here, where this worker's own outcome of each entry is applied, in field `<id>+`:

    - this worker's outcome came first (its XACK found the entry pending; or, mode `held`, its
      dead-letter move or park was applied while it held the entry): `<id>+` = this consumer. The
      consumer it was taken from, if its acknowledgement then finds the entry gone, counts the
      second handling (GroupOps.finishedByTaker);
    - the consumer it was taken from came first (this XACK found the entry already acknowledged,
      and no outcome of this worker's is recorded; or, mode `gone`, this worker's dead-letter move
      or park found it no longer its own): this worker counts the second handling, and sets
      `<id>+` = that consumer, so that one does not count it too. A re-sent call whose first sending
      was applied (its reply lost) finds that and counts it again: it is reported once.

  A mark naming this consumer itself (another worker took the entry from it since) is left alone:
  this worker counts that second handling the other way (GroupOps.finishedByTaker).

  KEYS[1]  the stream (the topic, or the group's replay stream)
  KEYS[2]  its retry hash (the entries' attempt records are removed)
  KEYS[3]  its takeover marks (reclaim-4.lua)
  ARGV[1]  group
  ARGV[2]  consumer (the one that took the entries over)
  ARGV[3]  mode: `ack` (acknowledge each entry), `held` (no XACK: this worker's dead-letter move or
           park was applied while it held them), `gone` (no XACK: its dead-letter move or park found
           them no longer its own)
  ARGV[4]  `1` on a replay stream (mode `ack`): delete the entries acknowledged here that this
           consumer held, and those the consumer they were taken from had acknowledged first (both
           workers are done with them), as ack-replayed-2.lua does, if the user may XDEL there
  ARGV[5..] entry IDs (at most an acknowledgement batch)

  Returns {acknowledged, duplicates, deleted}: acknowledged as XACK counts it (entries still
  pending; 0 in modes `held` and `gone`); duplicates, the second handlings this worker counts;
  deleted -1 when the user may not XDEL the replay stream (nothing deleted, all acknowledged).
  The XACK of the first entry is the first write: refused, the call fails and changes nothing.
]]
local me = ARGV[2]
local mode = ARGV[3]
local replay = ARGV[4] == '1'
local acknowledged = 0
local duplicates = 0
local done = {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local first
  local held = false
  if mode == 'ack' then
    if replay then
      local pending = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)[1]
      held = pending ~= nil and pending[2] == me
    end
    first = redis.call('XACK', KEYS[1], ARGV[1], id) == 1
    if first then acknowledged = acknowledged + 1 end
    -- Attempt records are kept as `id` and `id+` (attempt-record.lua); a refused HDEL is passed over,
    -- as the plain acknowledgement (GroupOps.ack) passes over its HDEL's reply.
    redis.pcall('HDEL', KEYS[2], id, id .. '+')
  else
    first = mode == 'held'
  end
  local from = redis.call('HGET', KEYS[3], id)
  local theirsFirst = false
  if from and from ~= me then
    local settled = redis.call('HGET', KEYS[3], id .. '+')
    if first then
      if not settled then redis.call('HSET', KEYS[3], id .. '+', me) end
    elseif not settled or settled == from then
      redis.call('HSET', KEYS[3], id .. '+', from)
      duplicates = duplicates + 1
      theirsFirst = true
    end
  end
  if held or theirsFirst then done[#done + 1] = id end
end
local deleted = 0
if replay and mode == 'ack' and #done > 0 then
  if redis.acl_check_cmd('XDEL', KEYS[1], done[1]) then
    deleted = redis.call('XDEL', KEYS[1], unpack(done))
  else
    deleted = -1
  end
end
return {acknowledged, duplicates, deleted}
