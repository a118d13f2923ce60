import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {replayKey, replayTakeoverKey, retryKey, takeoverKey} from '../../src/core/keys.js'
import {laneAcks, type AckResult} from '../../src/core/worker/ack-batcher.js'
import {GroupOps} from '../../src/core/worker/group-ops.js'
import {callsBetween, commandCalls, createTopic, deliver, entryState, GROUP, makeIdle, type Topic} from '../helpers/group-state.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * The two halves of a takeover, each worker's calls as the worker makes them (laneAcks, GroupOps),
 * against a private redis-server, in every order Redis can apply them: consumer w1 handled entries
 * and froze (or Redis did) before its acknowledgement got through; w2 took them over (reclaim-4.lua
 * marks them "taken from w1"). A second handling is counted exactly once, by one of the two, and an
 * entry handled once (w1's late plain XACK came first, and w2 never started it) by neither: the
 * summaries' `duplicates` are the handlers' own record (chaos scenario 18).
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

const HOUR = 3_600_000
const VISIBILITY = 60_000

/** `count` entries w1 read and held an hour without renewing them, then w2 took over. */
async function takenFromW1(count: number): Promise<{topic: Topic; ids: string[]; w1: GroupOps; w2: GroupOps}> {
  const topic = await createTopic(redis, `ack-taken-${++counter}`, count)
  const ids = await deliver(redis, topic.name, 'w1', count)
  await makeIdle(redis, topic.name, 'w1', ids, HOUR)
  const w2 = topic.ops('w2')
  const {entries} = await w2.reclaim('w1', VISIBILITY, 100)
  expect(entries.map((entry) => entry.id)).toEqual(ids)
  return {topic, ids, w1: topic.ops('w1'), w2}
}

/**
 * One worker's acknowledgements as the worker sends and counts them. `late`: the entries were last
 * renewed over a visibility timeout ago (the worker, or Redis, was frozen), so a takeover was possible.
 */
async function acknowledge(ops: GroupOps, ids: readonly string[], how: {late?: boolean; takenOver?: boolean}): Promise<AckResult> {
  const results: AckResult[] = []
  const acks = laneAcks(ops, (result) => void results.push(result), VISIBILITY)
  const renewedAt = how.late === true ? performance.now() - VISIBILITY - 1000 : performance.now()
  for (const id of ids) acks.add(id, how.takenOver === true, renewedAt, how.takenOver === true)
  await acks.flush()
  expect(results).toHaveLength(1)
  return results[0] as AckResult
}

const marks = async (topic: Topic): Promise<Record<string, string>> => redis.hgetall(takeoverKey(topic.name, GROUP))

describe('a takeover raced by the late acknowledgement of the consumer it was taken from', () => {
  it('w1\'s late XACK first, w2 never starts them (its heartbeat says so): no duplicate counted anywhere', async () => {
    const {topic, ids, w1, w2} = await takenFromW1(10)
    // w1's plain XACK (sent before the freeze, applied after it) acknowledges what w2 now holds.
    const first = await acknowledge(w1, ids, {late: true})
    expect(first).toEqual({acked: 10, duplicates: 0, failed: undefined})
    // w2 does not start them: finished by the consumer they were taken from (heartbeat-4.lua, 4).
    expect(await w2.heartbeat(ids)).toEqual(new Map(ids.map((id) => [id, 'acknowledged'])))
    // The marks stay, unsettled: had w2 handled them, it would count the second handling itself.
    expect(await marks(topic)).toEqual(Object.fromEntries(ids.map((id) => [id, 'w1'])))
  })

  it('w2 handles and acknowledges first, w1\'s XACK comes after: each second handling counted once, by w1', async () => {
    const {topic, ids, w1, w2} = await takenFromW1(10)
    expect(await acknowledge(w2, ids, {takenOver: true})).toEqual({acked: 10, duplicates: 0, failed: undefined})
    expect(await acknowledge(w1, ids, {late: true})).toEqual({acked: 0, duplicates: 10, failed: undefined})
    expect(await marks(topic)).toEqual({})
    // Sent again (a reply lost to a reconnect): nothing counted twice.
    expect(await acknowledge(w1, ids, {late: true})).toEqual({acked: 0, duplicates: 0, failed: undefined})
  })

  it('w1\'s XACK first while w2\'s handlers run, w2\'s after: counted once, by w2', async () => {
    const {topic, ids, w1, w2} = await takenFromW1(10)
    expect(await acknowledge(w1, ids, {late: true})).toEqual({acked: 10, duplicates: 0, failed: undefined})
    expect(await acknowledge(w2, ids, {takenOver: true})).toEqual({acked: 0, duplicates: 10, failed: undefined})
    // Settled as w1's first: w1, asking again, counts none of them.
    expect(await w1.finishedByTaker(ids)).toBe(0)
    expect(await marks(topic)).toEqual({})
  })

  it('some of each, in one batch each: each worker counts its own share, 1 per entry handled twice', async () => {
    const {ids, w1, w2} = await takenFromW1(6)
    // w2 finished the first three; then w1's late XACK of all six; then w2 finished the other three.
    expect(await acknowledge(w2, ids.slice(0, 3), {takenOver: true})).toMatchObject({acked: 3, duplicates: 0})
    expect(await acknowledge(w1, ids, {late: true})).toMatchObject({acked: 3, duplicates: 3})
    expect(await acknowledge(w2, ids.slice(3), {takenOver: true})).toMatchObject({acked: 0, duplicates: 3})
  })

  it('w2\'s acknowledgement re-sent after its reply was lost reports what the first sending counted, and changes nothing', async () => {
    const {topic, ids, w1, w2} = await takenFromW1(2)
    await acknowledge(w1, ids, {late: true})
    expect(await w2.ackTaken(ids)).toEqual({acked: 0, duplicates: 2})
    const settled = await marks(topic)
    // The worker saw only the second reply: it counts them once.
    expect(await w2.ackTaken(ids)).toEqual({acked: 0, duplicates: 2})
    expect(await marks(topic)).toEqual(settled)
    // And w2's own first acknowledgement, sent again, finds its own outcome recorded: nothing.
    const other = await takenFromW1(2)
    expect(await other.w2.ackTaken(other.ids)).toEqual({acked: 2, duplicates: 0})
    expect(await other.w2.ackTaken(other.ids)).toEqual({acked: 0, duplicates: 0})
  })

  it('attempt records of the entries acknowledged are removed', async () => {
    const {topic, ids, w2} = await takenFromW1(1)
    const [id] = ids as [string]
    await redis.hset(retryKey(topic.name, GROUP), id, '5000:2:1:0', `${id}+`, '1')
    await w2.ackTaken(ids)
    expect((await entryState(redis, topic.name, id)).record).toBeNull()
  })

  it('a mark naming the acknowledging consumer itself (taken from it since) is left for its own count', async () => {
    const {topic, ids, w2} = await takenFromW1(1)
    const [id] = ids as [string]
    // w3 took it from w2 in turn and finished it; w2's acknowledgement finds it gone.
    await makeIdle(redis, topic.name, 'w2', ids, HOUR)
    await topic.ops('w3').reclaim('w2', VISIBILITY, 10)
    expect(await topic.ops('w3').ackTaken(ids)).toEqual({acked: 1, duplicates: 0})
    expect(await w2.ackTaken(ids)).toEqual({acked: 0, duplicates: 0})
    expect(await w2.finishedByTaker(ids)).toBe(1)
    expect(await marks(topic)).toEqual({})
  })
})

describe('outcomes other than an acknowledgement (GroupOps.settleTaken, after a dead-letter move or a park)', () => {
  it('w2 dead-lettered or parked it while it held it (`held`), w1\'s XACK after: counted by w1', async () => {
    const {ids, w1, w2} = await takenFromW1(2)
    const [moved, parked] = ids as [string, string]
    const outcome = await w2.deadLetter(moved, [['dlq.error-name', 'Error']])
    expect(outcome.moved).toBe(true)
    expect(await w2.park([{id: parked, delayMs: HOUR, attempt: 1}])).toEqual([expect.objectContaining({dueMs: expect.any(Number)})])
    expect(await w2.settleTaken(ids, 'held')).toBe(0)
    // w1's late XACK acknowledges the parked one (still pending, to the parked pseudo-consumer), not the moved one.
    expect(await acknowledge(w1, ids, {late: true})).toEqual({acked: 1, duplicates: 2, failed: undefined})
  })

  it('w1\'s XACK first, then w2\'s dead-letter move or park finds it no longer its own (`gone`): counted by w2', async () => {
    const {ids, w1, w2} = await takenFromW1(2)
    const [moved, parked] = ids as [string, string]
    expect(await acknowledge(w1, ids, {late: true})).toMatchObject({acked: 2, duplicates: 0})
    expect(await w2.deadLetter(moved, [['dlq.error-name', 'Error']])).toEqual({moved: false, reason: 'not-pending'})
    expect(await w2.park([{id: parked, delayMs: HOUR, attempt: 1}])).toEqual([undefined])
    // Not taken from w2: its own takeover count finds nothing; the settlement counts both.
    expect(await w2.takenFromMe(ids)).toBe(0)
    expect(await w2.settleTaken(ids, 'gone')).toBe(2)
    expect(await w1.finishedByTaker(ids)).toBe(0)
  })

  it('w1\'s failed entry, no longer its own to park: counted by w1 whether or not w2 has finished it, never by w2 too', async () => {
    const {ids, w1, w2} = await takenFromW1(2)
    const [finished, running] = ids as [string, string]
    expect(await acknowledge(w2, [finished], {takenOver: true})).toMatchObject({acked: 1, duplicates: 0})
    expect(await w1.park(ids.map((id) => ({id, delayMs: HOUR, attempt: 1})))).toEqual([undefined, undefined])
    expect(await w1.takenFromMe(ids)).toBe(2)
    expect(await acknowledge(w2, [running], {takenOver: true})).toMatchObject({acked: 1, duplicates: 0})
    expect(await w1.finishedByTaker(ids)).toBe(0)
  })
})

describe('the batch path', () => {
  it('no entry taken over (the common case): one XACK for the whole batch, nothing else', async () => {
    const topic = await createTopic(redis, `ack-taken-${++counter}`, 50)
    const ids = await deliver(redis, topic.name, 'w1', 50)
    const before = await commandCalls(redis)
    expect(await acknowledge(topic.ops('w1'), ids, {})).toEqual({acked: 50, duplicates: 0, failed: undefined})
    expect(callsBetween(before, await commandCalls(redis))).toEqual({xack: 1})
  })

  it('some taken over: those one by one in one script call, the others in one XACK', async () => {
    const topic = await createTopic(redis, `ack-taken-${++counter}`, 4)
    const taken = await deliver(redis, topic.name, 'w1', 3)
    await makeIdle(redis, topic.name, 'w1', taken, HOUR)
    const w2 = topic.ops('w2')
    await w2.reclaim('w1', VISIBILITY, 100)
    const own = await deliver(redis, topic.name, 'w2', 1)
    const before = await commandCalls(redis)
    expect(await w2.ackBatch([...taken, ...own], taken, taken)).toEqual({acked: 4, duplicates: 0})
    const calls = callsBetween(before, await commandCalls(redis))
    // The script's XACKs are counted too: one per entry taken over, and the plain one for the rest.
    expect(calls).toMatchObject({xack: 4})
    expect((calls['evalsha'] ?? 0) + (calls['eval'] ?? 0)).toBe(1)
  })
})

describe('on a replay stream', () => {
  /** `count` entries of a replay stream w1 read and held an hour, taken over by w2. */
  async function replayTakenFromW1(count: number): Promise<{stream: string; topic: string; ids: string[]; w1: GroupOps; w2: GroupOps}> {
    const topic = `ack-taken.replay-${++counter}`
    const stream = replayKey(topic, GROUP)
    for (let n = 0; n < count; n++) await redis.xadd(stream, '*', 'data', `{"n":${n}}`)
    await redis.xgroup('CREATE', stream, GROUP, '0')
    const w1 = new GroupOps(redis, topic, GROUP, 'w1', undefined, 'replay')
    const w2 = new GroupOps(redis, topic, GROUP, 'w2', undefined, 'replay')
    const read = (await redis.xreadgroup('GROUP', GROUP, 'w1', 'COUNT', count, 'STREAMS', stream, '>')) as Array<[string, Array<[string, string[]]>]>
    const ids = (read[0]?.[1] ?? []).map(([id]) => id)
    await w1.setIdle(ids, HOUR)
    await w2.reclaim('w1', VISIBILITY, 100)
    return {stream, topic, ids, w1, w2}
  }

  const streamIds = async (stream: string): Promise<string[]> => ((await redis.xrange(stream, '-', '+')) as Array<[string, string[]]>).map(([id]) => id)

  it('w2 first: it deletes what it held; w1 (its heartbeat: taken over, not lost) counts the second handling', async () => {
    const {stream, topic, ids, w1, w2} = await replayTakenFromW1(2)
    expect(await acknowledge(w2, ids, {takenOver: true})).toMatchObject({acked: 2, duplicates: 0})
    expect(await streamIds(stream)).toEqual([])
    expect(await w1.heartbeat(ids)).toEqual(new Map(ids.map((id) => [id, 'taken-over'])))
    expect(await acknowledge(w1, ids, {late: true})).toMatchObject({acked: 0, duplicates: 2})
    expect(await redis.hgetall(replayTakeoverKey(topic, GROUP))).toEqual({})
  })

  it('w1 first (it does not delete what w2 held): w2 counts the second handling and deletes them, both being done', async () => {
    const {stream, ids, w1, w2} = await replayTakenFromW1(2)
    expect(await acknowledge(w1, ids, {late: true})).toMatchObject({acked: 2, duplicates: 0})
    expect(await streamIds(stream)).toEqual(ids)
    expect(await acknowledge(w2, ids, {takenOver: true})).toMatchObject({acked: 0, duplicates: 2})
    expect(await streamIds(stream)).toEqual([])
  })
})
