--[[
  ack-replayed-2.lua: acknowledge entries of a group's replay stream, and delete those this consumer
  held (qctl work).

  A replay stream belongs to one group (`{T}:replay:G`, keys.ts replayKey): an entry that group
  acknowledged is done, and nothing else reads it. Deleting it keeps the stream as long as its
  backlog instead of every replay ever made, and a group recreated on it (the worker creates its
  group there at ID 0, so entries replayed before any worker ran are its own) gets only what was
  never handled, not everything again.

  Only entries pending to this consumer are deleted. One another worker took over (it may be
  running it now) is only acknowledged, as on a topic: that worker finds it acknowledged, not
  deleted (and heartbeat-4.lua tells a deleted entry taken over from a worker apart from a lost one).

  KEYS[1]  the replay stream
  KEYS[2]  its retry hash (the entries' attempt records are removed)
  ARGV[1]  group
  ARGV[2]  consumer
  ARGV[3..] entry IDs (at most a few hundred: one acknowledgement batch)

  Returns {acknowledged, deleted}: acknowledged as XACK counts it (entries still pending);
  deleted -1 when the ACL user may not XDEL the replay stream (from a role file older than this;
  nothing is deleted, the acknowledgements are made). The XACK is the first write: refused, the
  call fails and changes nothing.
]]
local ids = {}
local owned = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  ids[#ids + 1] = id
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)[1]
  if pending and pending[2] == ARGV[2] then owned[#owned + 1] = id end
end
local acknowledged = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
-- Attempt records are kept as `id` and `id+` (attempt-record.lua). A refused HDEL is passed over,
-- as the plain acknowledgement (GroupOps.ack) passes over its HDEL's reply.
for _, id in ipairs(ids) do redis.pcall('HDEL', KEYS[2], id, id .. '+') end
local deleted = 0
if #owned > 0 then
  if redis.acl_check_cmd('XDEL', KEYS[1], owned[1]) then
    deleted = redis.call('XDEL', KEYS[1], unpack(owned))
  else
    deleted = -1
  end
end
return {acknowledged, deleted}
