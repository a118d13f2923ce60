import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {retryDueKey, retryKey, takeoverKey} from '../../src/core/keys.js'
import {PARKED_CONSUMER} from '../../src/core/worker/group-ops.js'
import {createTopic, deliver, entryState, GROUP, makeIdle, writeRecords, type Topic, parkOne} from '../helpers/group-state.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * src/lua/reclaim-4.lua through GroupOps.reclaim, the worker's own call, against a private
 * redis-server: the entries of one named consumer idle at least the visibility timeout are taken
 * over with their fields and records; deleted ones are reported lost with their retry state removed;
 * nothing of any other consumer (the parked retries above all) is touched.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

const HOUR = 3_600_000
const VISIBILITY = 60_000

/** A topic with `dead` entries held by consumer `dead` (idle an hour) and `fresh` held by it just now. */
async function deadConsumer(dead: number, fresh = 0): Promise<{topic: Topic; idle: string[]; recent: string[]}> {
  const topic = await createTopic(redis, `reclaim-${++counter}`, dead + fresh)
  const idle = await deliver(redis, topic.name, 'dead', dead)
  await makeIdle(redis, topic.name, 'dead', idle, HOUR)
  const recent = await deliver(redis, topic.name, 'dead', fresh)
  return {topic, idle, recent}
}

const heldBy = async (topic: Topic, consumer: string): Promise<string[]> =>
  ((await redis.xpending(topic.name, GROUP, '-', '+', 1000, consumer)) as Array<[string]>).map(([id]) => id)

describe('reclaim-4.lua: the named consumer\'s idle entries are taken over', () => {
  it('only entries idle at least min-idle, with fields and records, now held by the taker', async () => {
    const {topic, idle, recent} = await deadConsumer(2, 1)
    const [a, b] = idle as [string, string]
    await writeRecords(redis, topic.name, {[a]: '5000:2:1:1'})
    const taken = await topic.ops('w2').reclaim('dead', VISIBILITY, 100)
    expect(taken).toEqual({
      entries: [
        {id: a, pairs: ['n', '1'], takenBack: {record: {firstFailureMs: 5000, starts: 2, settled: 1, solo: 1}, takenOver: true}, orphan: false},
        {id: b, pairs: ['n', '2'], takenBack: {record: undefined, takenOver: true}, orphan: false},
      ],
      lost: [],
    })
    // Each is marked with the consumer it was taken from (that worker counts the second handling), for a while.
    expect(await redis.hgetall(takeoverKey(topic.name, GROUP))).toEqual({[a]: 'dead', [b]: 'dead'})
    expect(await redis.pttl(takeoverKey(topic.name, GROUP))).toBeGreaterThan(VISIBILITY)
    expect(await topic.ops('dead').takenFromMe([a, b, recent[0] as string])).toBe(2)
    expect(await redis.exists(takeoverKey(topic.name, GROUP))).toBe(0)
    // XCLAIM counted a delivery and reset the idle time; the record is untouched (no start yet).
    const state = await entryState(redis, topic.name, a)
    expect(state).toMatchObject({pending: {consumer: 'w2', deliveries: 2}, record: '5000:2:1:1'})
    expect(state.pending?.idleMs).toBeLessThan(VISIBILITY)
    expect(await heldBy(topic, 'dead')).toEqual(recent)
    expect(await heldBy(topic, 'w2')).toEqual([a, b])
  })

  it('takes at most `count`, lowest IDs first; the rest comes next time', async () => {
    const {topic, idle} = await deadConsumer(5)
    expect((await topic.ops('w2').reclaim('dead', VISIBILITY, 2)).entries.map((entry) => entry.id)).toEqual(idle.slice(0, 2))
    expect(await heldBy(topic, 'dead')).toEqual(idle.slice(2))
    expect((await topic.ops('w3').reclaim('dead', VISIBILITY, 2)).entries.map((entry) => entry.id)).toEqual(idle.slice(2, 4))
    expect(await heldBy(topic, 'dead')).toEqual(idle.slice(4))
  })

  it('a consumer with nothing idle enough, with nothing pending, or that does not exist: nothing taken', async () => {
    const {topic, recent} = await deadConsumer(0, 2)
    expect(await topic.ops('w2').reclaim('dead', VISIBILITY, 100)).toEqual({entries: [], lost: []})
    expect(await heldBy(topic, 'dead')).toEqual(recent)
    expect(await topic.ops('w2').reclaim('w2', 0, 100)).toEqual({entries: [], lost: []})
    expect(await topic.ops('w2').reclaim('nobody', 0, 100)).toEqual({entries: [], lost: []})
  })

  it('a new takeover starts unsettled: what an earlier takeover of the entry settled (ack-taken-3.lua) is removed with the new mark', async () => {
    const {topic, idle} = await deadConsumer(1)
    const [id] = idle as [string]
    await topic.ops('w2').reclaim('dead', VISIBILITY, 100)
    // w2 parked it while holding it (its outcome came first, recorded in `<id>+`); taken again since, it is pending to w2.
    await redis.hset(takeoverKey(topic.name, GROUP), `${id}+`, 'w2')
    await makeIdle(redis, topic.name, 'w2', [id], HOUR)
    await topic.ops('w3').reclaim('w2', VISIBILITY, 100)
    expect(await redis.hgetall(takeoverKey(topic.name, GROUP))).toEqual({[id]: 'w2'})
  })

  it('run twice: the second finds them held by the taker, idle 0, and takes nothing', async () => {
    const {topic, idle} = await deadConsumer(2)
    expect((await topic.ops('w2').reclaim('dead', VISIBILITY, 100)).entries).toHaveLength(2)
    expect(await topic.ops('w3').reclaim('dead', VISIBILITY, 100)).toEqual({entries: [], lost: []})
    expect(await topic.ops('w3').reclaim('w2', VISIBILITY, 100)).toEqual({entries: [], lost: []})
    expect(await heldBy(topic, 'w2')).toEqual(idle)
  })
})

describe('reclaim-4.lua: entries deleted from the stream while pending', () => {
  it('are reported lost, with their records and due times removed and their pending entries dropped; the others are taken', async () => {
    const {topic, idle} = await deadConsumer(3)
    const [a, gone, c] = idle as [string, string, string]
    await writeRecords(redis, topic.name, {[a]: '5000:1:1:0', [gone]: '5000:2:2:0', [c]: '0:1:0:0'})
    // A due time left behind for it (e.g. by an older worker): removed with it.
    await redis.zadd(retryDueKey(topic.name, GROUP), 1, gone)
    await redis.xdel(topic.name, gone)
    const taken = await topic.ops('w2').reclaim('dead', VISIBILITY, 100)
    expect(taken.lost).toEqual([gone])
    expect(taken.entries.map((entry) => entry.id)).toEqual([a, c])
    expect(await entryState(redis, topic.name, gone)).toEqual({pending: undefined, record: null, dueMs: null, inStream: false})
    expect(await redis.hmget(retryKey(topic.name, GROUP), a, c)).toEqual(['5000:1:1:0', '0:1:0:0'])
    // Reported once.
    expect(await topic.ops('w2').reclaim('dead', 0, 100)).toEqual({entries: [], lost: []})
  })
})

describe('reclaim-4.lua: other consumers\' entries are never touched', () => {
  it('the parked retries (idle an hour) and another live worker\'s entries stay as they are', async () => {
    const topic = await createTopic(redis, `reclaim-${++counter}`, 6)
    const failed = await deliver(redis, topic.name, 'w1', 2)
    for (const id of failed) await parkOne(topic.ops('w1'), id, HOUR, 1)
    await makeIdle(redis, topic.name, PARKED_CONSUMER, failed, HOUR)
    const live = await deliver(redis, topic.name, 'w3', 2)
    await makeIdle(redis, topic.name, 'w3', live, HOUR)
    const dead = await deliver(redis, topic.name, 'dead', 2)
    await makeIdle(redis, topic.name, 'dead', dead, HOUR)
    const before = await Promise.all([...failed, ...live].map(async (id) => entryState(redis, topic.name, id)))

    const taken = await topic.ops('w2').reclaim('dead', VISIBILITY, 100)
    expect(taken.entries.map((entry) => entry.id)).toEqual(dead)
    const after = await Promise.all([...failed, ...live].map(async (id) => entryState(redis, topic.name, id)))
    // Same owner, delivery count, record and due time; idle only grew (nothing claimed them).
    expect(after.map((state) => ({...state, pending: {...state.pending, idleMs: undefined}}))).toEqual(
      before.map((state) => ({...state, pending: {...state.pending, idleMs: undefined}})),
    )
    for (const [i, state] of after.entries()) expect(state.pending?.idleMs).toBeGreaterThanOrEqual(before[i]?.pending?.idleMs ?? Infinity)
    expect(await heldBy(topic, PARKED_CONSUMER)).toEqual(failed)
    expect(await redis.zrange(retryDueKey(topic.name, GROUP), 0, -1)).toEqual(failed)
  })
})
