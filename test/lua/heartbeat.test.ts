import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {retryDueKey, takeoverKey} from '../../src/core/keys.js'
import {createTopic, deliver, entryState, GROUP, makeIdle, writeRecords, type Topic} from '../helpers/group-state.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * src/lua/heartbeat-4.lua through GroupOps.heartbeat, the worker's own call, against a private
 * redis-server: the entries this consumer still owns are renewed (idle time reset, no delivery
 * counted) and left out of the reply; the others are reported as taken over (1), pending nowhere
 * but in the stream (2) or deleted (3, its retry state and pending entry removed), or, taken over
 * by this consumer, acknowledged by the one it was taken from (4).
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

const HOUR = 3_600_000

/** A topic whose `count` entries are held by w1 (delivered twice), idle an hour, each with a record and a due time. */
async function heldByW1(count: number): Promise<{topic: Topic; ids: string[]}> {
  const topic = await createTopic(redis, `heartbeat-${++counter}`, count)
  const ids = await deliver(redis, topic.name, 'w1', count)
  for (const id of ids) await redis.xclaim(topic.name, GROUP, 'w1', 0, id)
  await makeIdle(redis, topic.name, 'w1', ids, HOUR)
  await writeRecords(redis, topic.name, Object.fromEntries(ids.map((id) => [id, '5000:2:1:0'])))
  // A due time next to a held entry: only a deleted entry's is removed.
  await redis.zadd(retryDueKey(topic.name, GROUP), ...ids.flatMap((id) => [1, id]))
  return {topic, ids}
}

describe('heartbeat-4.lua: own entries are renewed', () => {
  it('idle time reset, delivery count, record and due time unchanged, nothing reported', async () => {
    const {topic, ids} = await heldByW1(3)
    expect(await topic.ops('w1').heartbeat(ids)).toEqual(new Map())
    for (const id of ids) {
      const state = await entryState(redis, topic.name, id)
      expect(state).toMatchObject({pending: {consumer: 'w1', deliveries: 2}, record: '5000:2:1:0', dueMs: 1, inStream: true})
      expect(state.pending?.idleMs).toBeLessThan(60_000)
    }
  })

  it('an empty list sends nothing', async () => {
    const {topic} = await heldByW1(1)
    expect(await topic.ops('w1').heartbeat([])).toEqual(new Map())
  })
})

describe('heartbeat-4.lua: what became of the entries no longer held', () => {
  it('1 taken over: another consumer\'s now, left as it is', async () => {
    const {topic, ids} = await heldByW1(1)
    const [id] = ids as [string]
    await redis.xclaim(topic.name, GROUP, 'w2', 0, id)
    await makeIdle(redis, topic.name, 'w2', [id], HOUR)
    expect(await topic.ops('w1').heartbeat([id])).toEqual(new Map([[id, 'taken-over']]))
    const state = await entryState(redis, topic.name, id)
    expect(state).toMatchObject({pending: {consumer: 'w2', deliveries: 3}, record: '5000:2:1:0', dueMs: 1, inStream: true})
    // Not renewed for w1 or for w2: it stays as idle as it was.
    expect(state.pending?.idleMs).toBeGreaterThanOrEqual(HOUR)
  })

  it.each([
    ['acknowledged', async (topic: Topic, id: string) => void (await redis.xack(topic.name, GROUP, id))],
    ['its consumer deleted (XGROUP DELCONSUMER)', async (topic: Topic) => void (await redis.xgroup('DELCONSUMER', topic.name, GROUP, 'w1'))],
  ])('2 not pending but in the stream (%s): record and due time kept, not made pending again', async (_title, arrange) => {
    const {topic, ids} = await heldByW1(1)
    const [id] = ids as [string]
    await arrange(topic, id)
    expect(await topic.ops('w1').heartbeat([id])).toEqual(new Map([[id, 'orphaned']]))
    expect(await entryState(redis, topic.name, id)).toEqual({pending: undefined, record: '5000:2:1:0', dueMs: 1, inStream: true})
  })

  it('3 deleted while pending to this consumer: its pending entry, record and due time removed; reported once', async () => {
    const {topic, ids} = await heldByW1(1)
    const [id] = ids as [string]
    await redis.xdel(topic.name, id)
    expect((await entryState(redis, topic.name, id)).pending).toMatchObject({consumer: 'w1'})
    expect(await topic.ops('w1').heartbeat([id])).toEqual(new Map([[id, 'deleted']]))
    expect(await entryState(redis, topic.name, id)).toEqual({pending: undefined, record: null, dueMs: null, inStream: false})
    // Still reported deleted (3) if asked again: nothing left of it.
    expect(await topic.ops('w1').heartbeat([id])).toEqual(new Map([[id, 'deleted']]))
  })

  it('3 deleted and pending nowhere (acknowledged, then deleted): record and due time removed', async () => {
    const {topic, ids} = await heldByW1(1)
    const [id] = ids as [string]
    await redis.xack(topic.name, GROUP, id)
    await redis.xdel(topic.name, id)
    expect(await topic.ops('w1').heartbeat([id])).toEqual(new Map([[id, 'deleted']]))
    expect(await entryState(redis, topic.name, id)).toEqual({pending: undefined, record: null, dueMs: null, inStream: false})
  })

  it('3 deleted while another consumer holds it: reported taken over (1), theirs to report', async () => {
    const {topic, ids} = await heldByW1(1)
    const [id] = ids as [string]
    await redis.xclaim(topic.name, GROUP, 'w2', 0, id, 'JUSTID')
    await redis.xdel(topic.name, id)
    expect(await topic.ops('w1').heartbeat([id])).toEqual(new Map([[id, 'taken-over']]))
    expect(await entryState(redis, topic.name, id)).toMatchObject({pending: {consumer: 'w2'}, record: '5000:2:1:0', dueMs: 1})
  })

  it('3 deleted after another consumer took it over from this one (its takeover mark names this one): taken over (1), not lost', async () => {
    const {topic, ids} = await heldByW1(2)
    const [markedId, unmarkedId] = ids as [string, string]
    // w2 took both over (reclaim-4.lua marks what it takes, with the consumer it took it from), handled and
    // acknowledged them, and a replay stream deletes what its group acknowledged (ack-replayed-2.lua).
    await redis.hset(takeoverKey(topic.name, GROUP), markedId, 'w1')
    await redis.xack(topic.name, GROUP, markedId, unmarkedId)
    await redis.xdel(topic.name, markedId, unmarkedId)
    expect(await topic.ops('w1').heartbeat([markedId, unmarkedId])).toEqual(
      new Map([
        [markedId, 'taken-over'],
        [unmarkedId, 'deleted'],
      ]),
    )
    // A mark naming another consumer says nothing about this one.
    await redis.hset(takeoverKey(topic.name, GROUP), unmarkedId, 'w3')
    expect(await topic.ops('w1').heartbeat([unmarkedId])).toEqual(new Map([[unmarkedId, 'deleted']]))
  })

  it('4 taken over by this consumer, then acknowledged by the one it was taken from (its late acknowledgement): finished there, not 2', async () => {
    const {topic, ids} = await heldByW1(2)
    const [finishedThere, takenFromW2] = ids as [string, string]
    // w2 took both over from w1 (reclaim-4.lua marks them "taken from w1"); w1's late XACK acknowledged one.
    await redis.xclaim(topic.name, GROUP, 'w2', 0, finishedThere, takenFromW2, 'JUSTID')
    await redis.hset(takeoverKey(topic.name, GROUP), finishedThere, 'w1', takenFromW2, 'w1')
    await redis.xack(topic.name, GROUP, finishedThere)
    expect(await topic.ops('w2').heartbeat([finishedThere])).toEqual(new Map([[finishedThere, 'acknowledged']]))
    // Record and due time kept, as for 2: the acknowledgement that finished it was not this worker's.
    expect(await entryState(redis, topic.name, finishedThere)).toEqual({pending: undefined, record: '5000:2:1:0', dueMs: 1, inStream: true})
    // A mark naming this consumer itself (w3 took it from w2 and finished it) is case 2, which the worker
    // reads as finished there only once it had not renewed the entry for a visibility timeout.
    await redis.hset(takeoverKey(topic.name, GROUP), takenFromW2, 'w2')
    await redis.xack(topic.name, GROUP, takenFromW2)
    expect(await topic.ops('w2').heartbeat([takenFromW2])).toEqual(new Map([[takenFromW2, 'orphaned']]))
  })

  it('a mixed list: each entry reported for itself, the owned ones renewed', async () => {
    const {topic, ids} = await heldByW1(6)
    const [own1, taken, acked, deleted, own2, ackedDeleted] = ids as [string, string, string, string, string, string]
    await redis.xclaim(topic.name, GROUP, 'w2', 0, taken, 'JUSTID')
    await redis.xack(topic.name, GROUP, acked, ackedDeleted)
    await redis.xdel(topic.name, deleted, ackedDeleted)
    expect(await topic.ops('w1').heartbeat(ids)).toEqual(
      new Map([
        [taken, 'taken-over'],
        [acked, 'orphaned'],
        [deleted, 'deleted'],
        [ackedDeleted, 'deleted'],
      ]),
    )
    for (const id of [own1, own2]) {
      const state = await entryState(redis, topic.name, id)
      expect(state).toMatchObject({pending: {consumer: 'w1', deliveries: 2}, record: '5000:2:1:0', dueMs: 1})
      expect(state.pending?.idleMs).toBeLessThan(60_000)
    }
    expect(await redis.xpending(topic.name, GROUP, '-', '+', 10, 'w1')).toHaveLength(2)
    expect((await redis.zrange(retryDueKey(topic.name, GROUP), 0, -1)).sort()).toEqual([own1, taken, acked, own2].sort())
  })
})
