import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {retryDueKey, retryKey} from '../../src/core/keys.js'
import {PARKED_CONSUMER} from '../../src/core/worker/group-ops.js'
import {callsBetween, commandCalls, createTopic, deliver, entryState, GROUP, pendingRow, redisTimeMs, writeRecords, type Topic, parkOne} from '../helpers/group-state.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * src/lua/take-due-3.lua through GroupOps.takeDue, the worker's own call, against a private
 * redis-server: parked retries whose due time (Redis's clock) has passed are claimed oldest due
 * first, each case of the script's header handled once, at a cost that does not grow with the
 * number of entries still waiting.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

/**
 * A topic whose entries failed in w1 and were parked (park-retry-3.lua), then given due times
 * relative to Redis's clock (`dueInMs`, one per entry: negative = due that long ago).
 */
async function parked(dueInMs: number[]): Promise<{topic: Topic; ids: string[]; dues: number[]}> {
  const topic = await createTopic(redis, `take-due-${++counter}`, dueInMs.length)
  const ids = await deliver(redis, topic.name, 'w1', dueInMs.length)
  for (const id of ids) await parkOne(topic.ops('w1'), id, 0, 1)
  const now = await redisTimeMs(redis)
  const dues = dueInMs.map((offset) => now + offset)
  await redis.zadd(retryDueKey(topic.name, GROUP), 'XX', ...dues.flatMap((due, i) => [due, ids[i] as string]))
  return {topic, ids, dues}
}

const dueSet = async (topic: Topic): Promise<string[]> => redis.zrange(retryDueKey(topic.name, GROUP), 0, -1)

describe('take-due-3.lua: due entries are taken, oldest due first', () => {
  it('takes only the due ones, oldest due first, with fields and records, for this consumer; a future one stays', async () => {
    const {topic, ids, dues} = await parked([-1000, -3000, -2000, 60_000])
    const [a, b, c, future] = ids as [string, string, string, string]
    const records = await redis.hgetall(retryKey(topic.name, GROUP))
    const before = await redisTimeMs(redis)
    const taken = await topic.ops('w2').takeDue(10)
    const after = await redisTimeMs(redis)
    expect(taken.entries.map((entry) => entry.id)).toEqual([b, c, a])
    expect(taken.entries[0]).toEqual({
      id: b,
      pairs: ['n', '2'],
      takenBack: {record: {firstFailureMs: Number(String(records[b]).split(':')[0]), starts: 1, settled: 1, solo: 0}},
      orphan: false,
    })
    expect(taken.lost).toEqual([])
    // The next due is the future one, from Redis's clock.
    expect(taken.nextDueInMs).toBeGreaterThanOrEqual((dues[3] as number) - after)
    expect(taken.nextDueInMs).toBeLessThanOrEqual((dues[3] as number) - before)
    for (const id of [a, b, c]) {
      // Claimed with its fields (a delivery counted), out of the due set, its record kept for the attempt number.
      expect(await entryState(redis, topic.name, id)).toMatchObject({pending: {consumer: 'w2', deliveries: 2}, dueMs: null, record: records[id]})
    }
    expect(await entryState(redis, topic.name, future)).toMatchObject({pending: {consumer: PARKED_CONSUMER, deliveries: 1}, dueMs: dues[3], record: records[future]})
  })

  it('takes at most `count`, oldest due first; the rest is due now (nextDueInMs 0) and comes next', async () => {
    const {topic, ids} = await parked([-1000, -3000, -2000])
    const [a, b, c] = ids as [string, string, string]
    const first = await topic.ops('w2').takeDue(2)
    expect(first.entries.map((entry) => entry.id)).toEqual([b, c])
    expect(first.nextDueInMs).toBe(0)
    expect(await dueSet(topic)).toEqual([a])
    const second = await topic.ops('w3').takeDue(2)
    expect(second.entries.map((entry) => entry.id)).toEqual([a])
    expect(second.nextDueInMs).toBe(-1)
    expect(await pendingRow(redis, topic.name, a)).toMatchObject({consumer: 'w3'})
  })

  it('nothing parked: nothing taken, nextDueInMs -1 (no due set at all, and an emptied one)', async () => {
    const topic = await createTopic(redis, `take-due-${++counter}`, 1)
    expect(await topic.ops('w2').takeDue(10)).toEqual({entries: [], lost: [], nextDueInMs: -1})
    const {topic: emptied} = await parked([-1])
    await emptied.ops('w2').takeDue(10)
    expect(await emptied.ops('w2').takeDue(10)).toEqual({entries: [], lost: [], nextDueInMs: -1})
  })

  it('nothing due yet: nothing taken or changed, nextDueInMs the time to the earliest', async () => {
    const {topic, ids, dues} = await parked([90_000, 30_000])
    const before = await redisTimeMs(redis)
    const taken = await topic.ops('w2').takeDue(10)
    const after = await redisTimeMs(redis)
    expect(taken.entries).toEqual([])
    expect(taken.nextDueInMs).toBeGreaterThanOrEqual((dues[1] as number) - after)
    expect(taken.nextDueInMs).toBeLessThanOrEqual((dues[1] as number) - before)
    expect(await dueSet(topic)).toEqual([ids[1], ids[0]])
    expect(await redis.xpending(topic.name, GROUP, '-', '+', 10, PARKED_CONSUMER)).toHaveLength(2)
  })
})

describe('take-due-3.lua: each case of the header, handled once', () => {
  it('deleted from the stream while parked: reported lost, its record removed, no longer pending', async () => {
    const {topic, ids} = await parked([-2000, -1000])
    const [gone, kept] = ids as [string, string]
    await redis.xdel(topic.name, gone)
    const taken = await topic.ops('w2').takeDue(10)
    expect(taken.lost).toEqual([gone])
    expect(taken.entries.map((entry) => entry.id)).toEqual([kept])
    expect(await entryState(redis, topic.name, gone)).toEqual({pending: undefined, record: null, dueMs: null, inStream: false})
    // Reported once: the next call has nothing.
    expect(await topic.ops('w2').takeDue(10)).toEqual({entries: [], lost: [], nextDueInMs: -1})
  })

  it('the parked consumer deleted (XGROUP DELCONSUMER): taken as an orphan, with its record, pending nowhere', async () => {
    const {topic, ids} = await parked([-1000])
    const [id] = ids as [string]
    const {record} = await entryState(redis, topic.name, id)
    expect(await redis.xgroup('DELCONSUMER', topic.name, GROUP, PARKED_CONSUMER)).toBe(1)
    const taken = await topic.ops('w2').takeDue(10)
    expect(taken).toEqual({
      entries: [{id, pairs: ['n', '1'], takenBack: {record: {firstFailureMs: Number(String(record).split(':')[0]), starts: 1, settled: 1, solo: 0}}, orphan: true}],
      lost: [],
      nextDueInMs: -1,
    })
    expect(await entryState(redis, topic.name, id)).toEqual({pending: undefined, record, dueMs: null, inStream: true})
  })

  it('no longer pending and deleted from the stream: its record removed, neither taken nor reported', async () => {
    const {topic, ids} = await parked([-1000])
    const [id] = ids as [string]
    await redis.xack(topic.name, GROUP, id)
    await redis.xdel(topic.name, id)
    expect(await topic.ops('w2').takeDue(10)).toEqual({entries: [], lost: [], nextDueInMs: -1})
    expect(await entryState(redis, topic.name, id)).toEqual({pending: undefined, record: null, dueMs: null, inStream: false})
  })

  it('pending to another consumer: left to it (out of the due set, its record and delivery count untouched)', async () => {
    const {topic, ids} = await parked([-2000, -1000])
    const [theirs, mine] = ids as [string, string]
    await redis.xclaim(topic.name, GROUP, 'w3', 0, theirs, 'JUSTID')
    const {record} = await entryState(redis, topic.name, theirs)
    const taken = await topic.ops('w2').takeDue(10)
    expect(taken.entries.map((entry) => entry.id)).toEqual([mine])
    expect(taken.lost).toEqual([])
    expect(await entryState(redis, topic.name, theirs)).toMatchObject({pending: {consumer: 'w3', deliveries: 1}, record, dueMs: null, inStream: true})
  })

  it('acknowledged meanwhile (e.g. a frozen worker finished it late): its record removed, not taken', async () => {
    const {topic, ids} = await parked([-1000])
    const [id] = ids as [string]
    await redis.xack(topic.name, GROUP, id)
    const taken = await topic.ops('w2').takeDue(10)
    // take-due-3.lua cannot tell "acknowledged" from "its consumer was deleted" (both: pending nowhere, still in the stream).
    expect(
      taken.entries.map((entry) => `${entry.id} orphan=${entry.orphan}`),
      'take-due-3.lua takes an entry acknowledged while parked as an orphan: its handler runs again after it was acknowledged, and its record stays',
    ).toEqual([])
    expect(await entryState(redis, topic.name, id)).toEqual({pending: undefined, record: null, dueMs: null, inStream: true})
  })
})

describe('take-due-3.lua: the cost does not depend on how many entries are waiting', () => {
  /**
   * A topic with 3 due entries parked and `waiting` more parked until an hour from now (arranged
   * with plain commands: the parked consumer reads them, the due set scores them).
   */
  async function withWaiting(waiting: number, spread = false): Promise<{topic: Topic; due: string[]}> {
    const topic = await createTopic(redis, `take-due-${++counter}`, 0)
    for (let added = 0; added < waiting + 3; added += 10_000) {
      const pipeline = redis.pipeline()
      for (let n = added; n < Math.min(added + 10_000, waiting + 3); n++) pipeline.xadd(topic.name, '*', 'n', String(n + 1))
      await pipeline.exec()
    }
    const ids: string[] = []
    while (ids.length < waiting + 3) {
      const read = await deliver(redis, topic.name, PARKED_CONSUMER, 10_000)
      if (read.length === 0) break
      ids.push(...read)
    }
    const now = await redisTimeMs(redis)
    // First in the stream, or the first, the middle and the last (the waiting ones between them).
    const dueAt = spread ? [0, Math.floor(ids.length / 2), ids.length - 1] : [0, 1, 2]
    const due = dueAt.map((index) => ids[index] as string)
    await redis.zadd(retryDueKey(topic.name, GROUP), now - 3000, due[2] as string, now - 2000, due[0] as string, now - 1000, due[1] as string)
    const rest = ids.filter((_id, index) => !dueAt.includes(index))
    for (let from = 0; from < rest.length; from += 10_000) {
      const chunk = rest.slice(from, from + 10_000)
      await redis.zadd(retryDueKey(topic.name, GROUP), ...chunk.flatMap((id, i) => [now + 3_600_000 + from + i, id]))
    }
    await writeRecords(redis, topic.name, Object.fromEntries(due.map((id) => [id, '5000:1:1:0'])))
    return {topic, due}
  }

  it('10 and 100,000 entries waiting: the same 3 due ones taken, with the same commands inside the script', async () => {
    // Load the script first, so both calls are one EVALSHA.
    await (await createTopic(redis, `take-due-${++counter}`, 0)).ops('w2').takeDue(1)
    const runs = []
    for (const waiting of [10, 100_000]) {
      const {topic, due} = await withWaiting(waiting)
      expect(await redis.zcard(retryDueKey(topic.name, GROUP))).toBe(waiting + 3)
      const before = await commandCalls(redis)
      const taken = await topic.ops('w2').takeDue(10)
      const calls = callsBetween(before, await commandCalls(redis))
      expect(taken.entries.map((entry) => entry.id)).toEqual([due[2], due[0], due[1]])
      expect(taken.lost).toEqual([])
      expect(taken.nextDueInMs).toBeGreaterThan(3_500_000)
      // The waiting ones are all still parked.
      expect(await redis.zcard(retryDueKey(topic.name, GROUP))).toBe(waiting)
      const [, , , consumers] = (await redis.xpending(topic.name, GROUP)) as [number, string, string, Array<[string, string]>]
      expect(Object.fromEntries(consumers)).toEqual({[PARKED_CONSUMER]: String(waiting), w2: '3'})
      runs.push(calls)
    }
    // One TIME, one ZRANGEBYSCORE, one ZRANGE; for the entries taken together: one ZREM, one XPENDING
    // of the parked consumer over their range (see includes/pending-to.lua), one XCLAIM, one HMGET.
    expect(runs[0]).toEqual({evalsha: 1, time: 1, zrangebyscore: 1, zrange: 1, zrem: 1, xpending: 1, xclaim: 1, hmget: 1})
    expect(runs[1]).toEqual(runs[0])
  })

  it('due entries far apart in the stream, 100,000 waiting between them: exactly those taken, each asked for alone', async () => {
    const {topic, due} = await withWaiting(100_000, true)
    const before = await commandCalls(redis)
    const taken = await topic.ops('w2').takeDue(10)
    const calls = callsBetween(before, await commandCalls(redis))
    expect(taken.entries.map((entry) => entry.id)).toEqual([due[2], due[0], due[1]])
    expect(taken.entries.map((entry) => entry.takenBack?.record)).toEqual(due.map(() => ({firstFailureMs: 5000, starts: 1, settled: 1, solo: 0})))
    expect(await redis.zcard(retryDueKey(topic.name, GROUP))).toBe(100_000)
    const [, , , consumers] = (await redis.xpending(topic.name, GROUP)) as [number, string, string, Array<[string, string]>]
    expect(Object.fromEntries(consumers)).toEqual({[PARKED_CONSUMER]: '100000', w2: '3'})
    // The range's listing stops at 2 per ID + 16: then one XPENDING per ID not listed.
    expect(calls['xpending']).toBe(1 + 2)
  })
})
