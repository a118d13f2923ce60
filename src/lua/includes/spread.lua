--[[
  spread.lua (included by scripts that copy a whole entry, see src/core/scripts.ts):
  spread(t, n) returns t[1], ..., t[n] as multiple values, for any n, so that
  `redis.call('XADD', key, '*', spread(fields, #fields))` passes every field of an entry.

  unpack(t) cannot: its results go on the Lua stack of a C function, which holds at most
  LUAI_MAXCSTACK = 8,000 slots. Measured on Redis 7.0.15 and Valkey 8.0.1: 7,999 values unpack,
  8,000 fail with "too many results to unpack"; an XADD of an entry with 3,991 fields plus
  qctl's 9 metadata fields (8,000 values) failed that way. Values returned by a Lua function
  are not bounded like that, and redis.call takes any number of arguments: `peel` returns 128
  values written out followed by the results of the next level, down to a last level that
  returns what is left (at most UNPACK_MAX) with unpack. 128 values a level: each level copies
  what follows it, so wider levels cost less (200,000 values on Redis 7.0.15: 32 a level 0.45 s,
  64 a level 0.27 s, 128 a level 0.10 s), and a Lua function has at most 250 registers.

  Cost: each level copies the values after it once, about n * n / 256 copies in all, while the
  script holds the server. Measured, spreading alone (best of several runs on a 2-core machine
  shared with other work; Redis 7.0.15, Valkey 8.0.1 alike): 8,000 values 0.1 ms, 40,000 values
  5 ms, 100,000 values 25-45 ms, 200,000 values 0.13-0.16 s, 1,000,000 values 3.2-3.9 s.
  Lua allows 20,000 nested calls (LUAI_MAXCALLS; peeling alone failed with "stack overflow" at
  2,600,000 values): past PEEL_DEPTH_MAX levels (about 1.9 million values) the rest is gathered
  by tail calls, which do not nest, at about three times the cost per value (2,600,000 values:
  32 s on Valkey 8.0.1). So no entry is too wide for it; a very wide one is slow.
]]
local UNPACK_MAX = 7000
local PEEL_DEPTH_MAX = 15000

-- t[lo], ..., t[i] followed by the values passed after i, built by tail calls from the end.
local function gather(t, lo, i, ...)
  if i - lo >= 127 then
    return gather(t, lo, i - 128,
      t[i - 127], t[i - 126], t[i - 125], t[i - 124], t[i - 123], t[i - 122], t[i - 121], t[i - 120],
      t[i - 119], t[i - 118], t[i - 117], t[i - 116], t[i - 115], t[i - 114], t[i - 113], t[i - 112],
      t[i - 111], t[i - 110], t[i - 109], t[i - 108], t[i - 107], t[i - 106], t[i - 105], t[i - 104],
      t[i - 103], t[i - 102], t[i - 101], t[i - 100], t[i - 99], t[i - 98], t[i - 97], t[i - 96],
      t[i - 95], t[i - 94], t[i - 93], t[i - 92], t[i - 91], t[i - 90], t[i - 89], t[i - 88],
      t[i - 87], t[i - 86], t[i - 85], t[i - 84], t[i - 83], t[i - 82], t[i - 81], t[i - 80],
      t[i - 79], t[i - 78], t[i - 77], t[i - 76], t[i - 75], t[i - 74], t[i - 73], t[i - 72],
      t[i - 71], t[i - 70], t[i - 69], t[i - 68], t[i - 67], t[i - 66], t[i - 65], t[i - 64],
      t[i - 63], t[i - 62], t[i - 61], t[i - 60], t[i - 59], t[i - 58], t[i - 57], t[i - 56],
      t[i - 55], t[i - 54], t[i - 53], t[i - 52], t[i - 51], t[i - 50], t[i - 49], t[i - 48],
      t[i - 47], t[i - 46], t[i - 45], t[i - 44], t[i - 43], t[i - 42], t[i - 41], t[i - 40],
      t[i - 39], t[i - 38], t[i - 37], t[i - 36], t[i - 35], t[i - 34], t[i - 33], t[i - 32],
      t[i - 31], t[i - 30], t[i - 29], t[i - 28], t[i - 27], t[i - 26], t[i - 25], t[i - 24],
      t[i - 23], t[i - 22], t[i - 21], t[i - 20], t[i - 19], t[i - 18], t[i - 17], t[i - 16],
      t[i - 15], t[i - 14], t[i - 13], t[i - 12], t[i - 11], t[i - 10], t[i - 9], t[i - 8],
      t[i - 7], t[i - 6], t[i - 5], t[i - 4], t[i - 3], t[i - 2], t[i - 1], t[i],
      ...)
  end
  if i >= lo then return gather(t, lo, i - 1, t[i], ...) end
  return ...
end

-- t[i], ..., t[j]: 128 values, then the next level's.
local function peel(t, i, j, depth)
  if j - i < UNPACK_MAX then return unpack(t, i, j) end
  if depth >= PEEL_DEPTH_MAX then return gather(t, i, j - UNPACK_MAX, unpack(t, j - UNPACK_MAX + 1, j)) end
  return
    t[i], t[i + 1], t[i + 2], t[i + 3], t[i + 4], t[i + 5], t[i + 6], t[i + 7],
    t[i + 8], t[i + 9], t[i + 10], t[i + 11], t[i + 12], t[i + 13], t[i + 14], t[i + 15],
    t[i + 16], t[i + 17], t[i + 18], t[i + 19], t[i + 20], t[i + 21], t[i + 22], t[i + 23],
    t[i + 24], t[i + 25], t[i + 26], t[i + 27], t[i + 28], t[i + 29], t[i + 30], t[i + 31],
    t[i + 32], t[i + 33], t[i + 34], t[i + 35], t[i + 36], t[i + 37], t[i + 38], t[i + 39],
    t[i + 40], t[i + 41], t[i + 42], t[i + 43], t[i + 44], t[i + 45], t[i + 46], t[i + 47],
    t[i + 48], t[i + 49], t[i + 50], t[i + 51], t[i + 52], t[i + 53], t[i + 54], t[i + 55],
    t[i + 56], t[i + 57], t[i + 58], t[i + 59], t[i + 60], t[i + 61], t[i + 62], t[i + 63],
    t[i + 64], t[i + 65], t[i + 66], t[i + 67], t[i + 68], t[i + 69], t[i + 70], t[i + 71],
    t[i + 72], t[i + 73], t[i + 74], t[i + 75], t[i + 76], t[i + 77], t[i + 78], t[i + 79],
    t[i + 80], t[i + 81], t[i + 82], t[i + 83], t[i + 84], t[i + 85], t[i + 86], t[i + 87],
    t[i + 88], t[i + 89], t[i + 90], t[i + 91], t[i + 92], t[i + 93], t[i + 94], t[i + 95],
    t[i + 96], t[i + 97], t[i + 98], t[i + 99], t[i + 100], t[i + 101], t[i + 102], t[i + 103],
    t[i + 104], t[i + 105], t[i + 106], t[i + 107], t[i + 108], t[i + 109], t[i + 110], t[i + 111],
    t[i + 112], t[i + 113], t[i + 114], t[i + 115], t[i + 116], t[i + 117], t[i + 118], t[i + 119],
    t[i + 120], t[i + 121], t[i + 122], t[i + 123], t[i + 124], t[i + 125], t[i + 126], t[i + 127],
    peel(t, i + 128, j, depth + 1)
end

local function spread(t, n)
  return peel(t, 1, n, 0)
end
