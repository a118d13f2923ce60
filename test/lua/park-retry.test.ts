import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {parseAttemptRecord} from '../../src/core/worker/attempts.js'
import {retryDueKey, retryKey} from '../../src/core/keys.js'
import {PARKED_CONSUMER} from '../../src/core/worker/group-ops.js'
import {createTopic, deliver, entryState, GROUP, makeIdle, pendingRow, redisTimeMs, writeRecords, type Topic, parkOne, parkOk} from '../helpers/group-state.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * src/lua/park-retry-3.lua through GroupOps.park, the worker's own call, against a private
 * redis-server: a failed entry waits out its backoff in the due set (Redis's clock), held by the
 * parked pseudo-consumer, with its failure recorded; an entry that is not this consumer's is left alone.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

const HOUR = 3_600_000

/** A topic whose first entry was delivered to w1 (and claimed once more: 2 deliveries) and has been idle an hour. */
async function failedByW1(): Promise<{topic: Topic; id: string}> {
  const topic = await createTopic(redis, `park-${++counter}`, 2)
  const [id] = await deliver(redis, topic.name, 'w1', 1)
  if (id === undefined) throw new Error('nothing delivered')
  await redis.xclaim(topic.name, GROUP, 'w1', 0, id)
  await makeIdle(redis, topic.name, 'w1', [id], HOUR)
  return {topic, id}
}

describe('park-retry-3.lua: a failed entry is parked until its backoff is over', () => {
  it('due time and first failure come from Redis clock; the entry moves to the parked consumer, idle 0, deliveries unchanged', async () => {
    const {topic, id} = await failedByW1()
    expect(await pendingRow(redis, topic.name, id)).toMatchObject({consumer: 'w1', deliveries: 2})
    const before = await redisTimeMs(redis)
    const parked = await parkOne(topic.ops('w1'), id, 30_000, 1)
    const after = await redisTimeMs(redis)
    if (parked === undefined || parked === 'deleted') throw new Error('not parked')
    expect(parked.firstFailureMs).toBeGreaterThanOrEqual(before)
    expect(parked.firstFailureMs).toBeLessThanOrEqual(after)
    // One reading of TIME for both: the due time is exactly the delay after the failure.
    expect(parked.dueMs - parked.firstFailureMs).toBe(30_000)
    const state = await entryState(redis, topic.name, id)
    expect(state).toMatchObject({record: `${parked.firstFailureMs}:1:1:0`, dueMs: parked.dueMs, inStream: true})
    expect(state.pending).toMatchObject({consumer: PARKED_CONSUMER, deliveries: 2})
    // It was idle an hour: the claim reset it (a parked entry's idle time counts from its failure).
    expect(state.pending?.idleMs).toBeLessThan(60_000)
    // w1 holds nothing now (it may exit and remove its consumer); the other entry was never touched.
    expect(await redis.xpending(topic.name, GROUP, '-', '+', 10, 'w1')).toEqual([])
    expect(await entryState(redis, topic.name, topic.ids[1] as string)).toEqual({pending: undefined, record: null, dueMs: null, inStream: true})
  })

  it('a backoff of 0 is due at once (the failure time)', async () => {
    const {topic, id} = await failedByW1()
    const parked = await parkOk(topic.ops('w1'), id, 0, 1)
    expect(parked?.dueMs).toBe(parked?.firstFailureMs)
    expect((await entryState(redis, topic.name, id)).dueMs).toBe(parked?.dueMs)
  })

  // record before -> the attempt that failed -> record after ("now": the failure time, Redis clock)
  it.each([
    ['no record (first delivery failed)', null, 1, 'now:1:1:0'],
    ['no record, a later attempt (taken over, its record lost)', null, 3, 'now:3:3:0'],
    ['taken back and started, never failed (first 0)', '0:2:1:0', 2, 'now:2:2:0'],
    ['a failure after a marked start: settled catches up', '5000:2:1:0', 2, '5000:2:2:0'],
    ['a suspect that ran alone and failed: solo kept', '5000:3:2:1', 3, '5000:3:3:1'],
    ['the attempt above the starts (a start that was not marked): starts raised', '5000:1:1:0', 2, '5000:2:2:0'],
    ['the attempt below the starts (a mark of another worker): starts kept, all settled', '5000:4:2:1', 3, '5000:4:4:1'],
    ['an older worker\'s "first:due" record: first kept', '7000:9000', 2, '7000:2:2:0'],
  ])('%s: %s, attempt %i -> %s', async (_title, record, attempt, expected) => {
    const {topic, id} = await failedByW1()
    if (record !== null) await writeRecords(redis, topic.name, {[id]: record})
    const before = await redisTimeMs(redis)
    const parked = await parkOne(topic.ops('w1'), id, 1000, attempt)
    const after = await redisTimeMs(redis)
    if (parked === undefined || parked === 'deleted') throw new Error('not parked')
    const now = parked.dueMs - 1000
    expect(now).toBeGreaterThanOrEqual(before)
    expect(now).toBeLessThanOrEqual(after)
    expect(parked.firstFailureMs).toBe(expected.startsWith('now:') ? now : Number(expected.split(':')[0]))
    expect((await entryState(redis, topic.name, id)).record).toBe(expected.replace('now', String(now)))
  })

  it('the record it writes reads back through parseAttemptRecord; the legacy form reads as one failed start', async () => {
    expect(parseAttemptRecord('7000:9000')).toEqual({firstFailureMs: 7000, starts: 1, settled: 1, solo: 0})
    const {topic, id} = await failedByW1()
    await writeRecords(redis, topic.name, {[id]: '7000:9000'})
    await parkOne(topic.ops('w1'), id, 1000, 2)
    expect(await topic.ops('w1').records([id])).toEqual([{firstFailureMs: 7000, starts: 2, settled: 2, solo: 0}])
  })
})

describe('park-retry-3.lua: a batch in one call', () => {
  it('far apart among 100 held entries (each then asked for alone), a start mark folded in, one not this consumer\'s', async () => {
    const topic = await createTopic(redis, `park-${++counter}`, 101)
    const held = await deliver(redis, topic.name, 'w1', 100)
    const [other] = await deliver(redis, topic.name, 'w2', 1)
    const [a, b, c] = [held[0], held[50], held[99]] as [string, string, string]
    await writeRecords(redis, topic.name, {[a]: '5000:1:1:0'})
    await redis.hset(retryKey(topic.name, GROUP), `${a}+`, '1')
    const before = await redisTimeMs(redis)
    const outcomes = await topic.ops('w1').park([
      {id: a, delayMs: 1000, attempt: 2},
      {id: b, delayMs: 2000, attempt: 1},
      {id: other as string, delayMs: 1000, attempt: 1},
      {id: c, delayMs: 3000, attempt: 1},
    ])
    const after = await redisTimeMs(redis)
    expect(outcomes[2]).toBeUndefined()
    const parked = outcomes.filter((outcome) => outcome !== undefined) as Array<{dueMs: number; firstFailureMs: number}>
    expect(parked).toHaveLength(3)
    const now = (parked[1] as {firstFailureMs: number}).firstFailureMs
    expect(now).toBeGreaterThanOrEqual(before)
    expect(now).toBeLessThanOrEqual(after)
    expect(parked).toEqual([
      {dueMs: now + 1000, firstFailureMs: 5000},
      {dueMs: now + 2000, firstFailureMs: now},
      {dueMs: now + 3000, firstFailureMs: now},
    ])
    expect((await entryState(redis, topic.name, a)).record).toBe('5000:2:2:0')
    expect(await redis.hget(retryKey(topic.name, GROUP), `${a}+`)).toBeNull()
    expect((await entryState(redis, topic.name, b)).record).toBe(`${now}:1:1:0`)
    expect((await entryState(redis, topic.name, other as string)).record).toBeNull()
    for (const id of [a, b, c]) expect((await pendingRow(redis, topic.name, id))?.consumer).toBe(PARKED_CONSUMER)
    expect((await pendingRow(redis, topic.name, other as string))?.consumer).toBe('w2')
    expect(await redis.zrange(retryDueKey(topic.name, GROUP), 0, -1)).toEqual([a, b, c])
  })
})

describe('park-retry-3.lua and take-due-3.lua: IDs past 2^53 (explicit IDs of other programs)', () => {
  it('are parked and taken back like any other, asked for one by one', async () => {
    const topic = await createTopic(redis, `park-${++counter}`, 0)
    const ids = ['9007199254740993-0', '9007199254740993-18446744073709551614', '18446744073709551615-18446744073709551615']
    for (const id of ids) await redis.xadd(topic.name, id, 'n', '1')
    expect(await deliver(redis, topic.name, 'w1', 3)).toEqual(ids)
    const outcomes = await topic.ops('w1').park(ids.map((id) => ({id, delayMs: 0, attempt: 1})))
    expect(outcomes.every((outcome) => typeof outcome === 'object')).toBe(true)
    for (const id of ids) expect((await pendingRow(redis, topic.name, id))?.consumer).toBe(PARKED_CONSUMER)
    const taken = await topic.ops('w2').takeDue(10)
    expect(taken.entries.map((entry) => entry.id).sort()).toEqual([...ids].sort())
    for (const id of ids) expect((await pendingRow(redis, topic.name, id))?.consumer).toBe('w2')
  })
})

describe('park-retry-3.lua: an entry that is not this consumer\'s is not touched (0, nothing written)', () => {
  /** Everything but the idle time, and whether the idle time was reset (it was an hour). */
  const unchanged = async (topic: Topic, id: string): Promise<unknown> => {
    const state = await entryState(redis, topic.name, id)
    return {...state, pending: state.pending && {...state.pending, idleMs: state.pending.idleMs >= HOUR ? 'an hour or more' : state.pending.idleMs}}
  }

  it('taken over by another consumer', async () => {
    const {topic, id} = await failedByW1()
    await redis.xclaim(topic.name, GROUP, 'w2', 0, id)
    await makeIdle(redis, topic.name, 'w2', [id], HOUR)
    await writeRecords(redis, topic.name, {[id]: '5000:2:1:0'})
    const before = await unchanged(topic, id)
    expect(await parkOne(topic.ops('w1'), id, 1000, 2)).toBeUndefined()
    expect(await unchanged(topic, id)).toEqual(before)
    expect(before).toMatchObject({pending: {consumer: 'w2', deliveries: 3, idleMs: 'an hour or more'}, record: '5000:2:1:0', dueMs: null})
  })

  it('acknowledged meanwhile (not pending)', async () => {
    const {topic, id} = await failedByW1()
    await redis.xack(topic.name, GROUP, id)
    expect(await parkOne(topic.ops('w1'), id, 1000, 1)).toBeUndefined()
    expect(await entryState(redis, topic.name, id)).toEqual({pending: undefined, record: null, dueMs: null, inStream: true})
  })

  it('never delivered, and an ID not in the stream', async () => {
    const {topic} = await failedByW1()
    const undelivered = topic.ids[1] as string
    expect(await parkOne(topic.ops('w1'), undelivered, 1000, 1)).toBeUndefined()
    expect(await parkOne(topic.ops('w1'), '1-1', 1000, 1)).toBeUndefined()
    expect(await entryState(redis, topic.name, undelivered)).toEqual({pending: undefined, record: null, dueMs: null, inStream: true})
    expect(await entryState(redis, topic.name, '1-1')).toEqual({pending: undefined, record: null, dueMs: null, inStream: false})
  })

  it('run twice (re-sent after a reconnect): the second reports it parked as the first did, and changes nothing', async () => {
    const {topic, id} = await failedByW1()
    const first = await parkOk(topic.ops('w1'), id, 60_000, 1)
    const state = await entryState(redis, topic.name, id)
    expect(await parkOne(topic.ops('w1'), id, 1000, 2)).toEqual(first)
    const again = await entryState(redis, topic.name, id)
    expect({...again, pending: {...again.pending, idleMs: 0}}).toEqual({...state, pending: {...state.pending, idleMs: 0}})
    expect(again).toMatchObject({dueMs: first?.dueMs, record: `${first?.firstFailureMs}:1:1:0`})
  })
})

describe('park-retry-3.lua: an entry deleted from the stream while its handler ran', () => {
  it('is not lost silently: park says it was deleted (the worker reports it lost) and leaves nothing behind', async () => {
    const {topic, id} = await failedByW1()
    await writeRecords(redis, topic.name, {[id]: '5000:2:1:0'})
    await redis.xdel(topic.name, id)
    expect(await parkOne(topic.ops('w1'), id, 0, 2)).toBe('deleted')
    const taken = await topic.ops('w2').takeDue(10)
    expect(taken.entries).toEqual([])
    expect(await entryState(redis, topic.name, id)).toEqual({pending: undefined, record: null, dueMs: null, inStream: false})
  })
})
