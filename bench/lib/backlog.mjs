// Backlogs for the drain scenarios (work, memory), written untimed and fast, and the Redis-side
// helpers around them.
//
// A backlog is written once per run of the suite into a template (a stream with its group created
// at the start, or a BullMQ queue under its own key prefix), then COPY'd server-side into a fresh
// key (or prefix) before each timed run: copying a 1M-entry stream takes well under a second,
// writing it takes several, and adding 1M BullMQ jobs with addBulk about half a minute. The copy
// holds the same entries (and for BullMQ the same keys: wait list, job hashes, id, meta, marker,
// events) as a fresh write.
import {makeRecord, prng} from './ndjson-data.mjs'

/** Entries per XADD script call / addBulk call. */
export const CHUNK = 1000

/** XADD every ARGV as field `data` of a new entry of KEYS[1]; returns how many were added. */
const XADD_MANY = `for i = 1, #ARGV do redis.call('XADD', KEYS[1], '*', 'data', ARGV[i]) end
return #ARGV`

/** One SCAN step over ARGV[1]* (cursor ARGV[3], COUNT ARGV[4]), COPYing each key to ARGV[2] + the rest of its name. */
const COPY_PREFIX_STEP = `local reply = redis.call('SCAN', ARGV[3], 'MATCH', ARGV[1] .. '*', 'COUNT', tonumber(ARGV[4]))
for _, key in ipairs(reply[2]) do redis.call('COPY', key, ARGV[2] .. string.sub(key, #ARGV[1] + 1)) end
return reply[1]`

/** One SCAN step over keys matching ARGV[1] (cursor ARGV[2], COUNT ARGV[3]), UNLINKing them. */
const UNLINK_STEP = `local reply = redis.call('SCAN', ARGV[2], 'MATCH', ARGV[1], 'COUNT', tonumber(ARGV[3]))
for _, key in ipairs(reply[2]) do redis.call('UNLINK', key) end
return reply[1]`

/** Deterministic ~200-byte JSON records in chunks of CHUNK, generated as they are needed (never all at once). */
export function* recordChunks(count, seed) {
  const random = prng(seed)
  for (let start = 0; start < count; start += CHUNK) {
    const chunk = []
    for (let index = start; index < Math.min(count, start + CHUNK); index++) chunk.push(makeRecord(index, random))
    yield chunk
  }
}

/**
 * Write `count` records into stream `key` (which must not exist), a few script calls in flight.
 * Returns {count, bytes} (total payload bytes).
 */
export async function fillStream(admin, key, count, seed) {
  let bytes = 0
  const inFlight = []
  for (const chunk of recordChunks(count, seed)) {
    for (const record of chunk) bytes += Buffer.byteLength(record)
    inFlight.push(admin.eval(XADD_MANY, 1, key, ...chunk))
    if (inFlight.length >= 4) await inFlight.shift()
  }
  await Promise.all(inFlight)
  const length = await admin.xlen(key)
  if (length !== count) throw new Error(`backlog: ${key} has ${length} entries, expected ${count}`)
  return {count, bytes}
}

/**
 * Add `count` records as BullMQ jobs (data: the parsed record; removeOnComplete, plus `opts`, e.g.
 * attempts and backoff) with addBulk, CHUNK at a time.
 */
export async function fillBullQueue(queue, count, seed, opts = {}) {
  for (const chunk of recordChunks(count, seed)) {
    await queue.addBulk(chunk.map((record) => ({name: 'order', data: JSON.parse(record), opts: {removeOnComplete: true, ...opts}})))
  }
}

/** COPY every key named `${from}...` to `${to}...` (server-side, 10,000 keys per script call). */
export async function copyPrefix(admin, from, to) {
  let cursor = '0'
  do {
    cursor = await admin.eval(COPY_PREFIX_STEP, 0, from, to, cursor, 10_000)
  } while (cursor !== '0')
}

/** XREADGROUP ... > of up to ARGV[3] entries as consumer ARGV[2] of group ARGV[1], server-side; returns how many were delivered. */
const DELIVER_STEP = `local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', tonumber(ARGV[3]), 'STREAMS', KEYS[1], '>')
if not reply then return 0 end
return #reply[1][2]`

/**
 * Deliver every new entry of stream `key` to `consumer` of `group` without acknowledging any (they
 * are then pending for that consumer, as if it had read them and died), 10,000 per script call, the
 * entries never leaving Redis. Returns how many were delivered.
 */
export async function deliverAll(admin, key, group, consumer) {
  let delivered = 0
  for (;;) {
    const count = await admin.eval(DELIVER_STEP, 1, key, group, consumer, 10_000)
    if (count === 0) return delivered
    delivered += count
  }
}

/** UNLINK every key matching `pattern` (server-side, 10,000 keys per script call: fast for 1M BullMQ job hashes). */
export async function unlinkMatching(admin, pattern) {
  let cursor = '0'
  do {
    cursor = await admin.eval(UNLINK_STEP, 0, pattern, cursor, 10_000)
  } while (cursor !== '0')
}

/** XINFO GROUPS of a stream as an object for `group` (undefined if there is no such group). */
export async function groupInfo(admin, key, group) {
  const groups = await admin.call('XINFO', 'GROUPS', key)
  for (const reply of groups) {
    const info = {}
    for (let i = 0; i + 1 < reply.length; i += 2) info[reply[i]] = reply[i + 1]
    if (info.name === group) return info
  }
  return undefined
}

/** INFO memory's used_memory, in bytes. */
export async function usedMemory(admin) {
  const info = await admin.info('memory')
  return Number(info.match(/^used_memory:(\d+)/m)[1])
}

/** The last line of stdout that parses as JSON (qctl --json prints JSON lines; the summary is last). */
export function lastJsonLine(stdout, what) {
  const lines = stdout.trim().split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i])
    } catch {
      // not JSON: keep looking
    }
  }
  throw new Error(`${what}: no JSON line on stdout:\n${stdout.slice(-2000)}`)
}
