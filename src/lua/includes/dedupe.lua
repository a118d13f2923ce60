--[[
  dedupe.lua (included by the scripts that store messages once per idempotency key:
  xadd-dedupe-2.lua appends them, schedule-add-dedupe-2.lua schedules them). A stream's dedupe set
  (keys.ts dedupeKey, the stream's slot) holds the idempotency keys stored lately, each scored by
  when it stops counting: Redis's clock when it was stored plus the window. Both scripts share the
  one set, so a key counts whether its message was appended or scheduled.
    dedupeOpen(set)  Redis's clock (ms), after dropping the keys whose window is over
                     (ZREMRANGEBYSCORE: a cost in what expired, not in what is kept)
    storeOnce(set, key, expires, store, at)
                     false when the key is in the set: nothing is stored. Else records the key
                     (ZADD, scored `expires`) and calls store(at), which writes the message with
                     redis.pcall: returns that write's reply, or nil and the error of the write
                     refused (the ZADD's or store's; the key is then not kept)
    dedupeClose(set, window, stored)
                     when `stored` > 0, the set expires a window after this write, so a stream no
                     longer published to keeps nothing

  The key is recorded before its message is stored: under maxmemory the ZADD is the write refused
  first, before anything is stored; a write refused after it takes the key back (ZREM needs no
  memory), so a message refused is never remembered as stored.
]]
local function dedupeOpen(set)
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', set, '-inf', now)
  return now
end

local function storeOnce(set, key, expires, store, at)
  if redis.call('ZSCORE', set, key) then return false end
  local recorded = redis.pcall('ZADD', set, expires, key)
  if type(recorded) == 'table' and recorded.err then return nil, recorded.err end
  local reply = store(at)
  if type(reply) == 'table' and reply.err then
    redis.call('ZREM', set, key)
    return nil, reply.err
  end
  return reply
end

local function dedupeClose(set, window, stored)
  if stored > 0 then redis.call('PEXPIRE', set, window) end
end
