import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {retryKey} from '../../src/core/keys.js'
import {planStart, type AttemptRecord, type StartPlan} from '../../src/core/worker/attempts.js'
import {GroupOps} from '../../src/core/worker/group-ops.js'
import {callsBetween, commandCalls, createTopic, deliver, entryState, GROUP, makeIdle, writeRecords, type Topic, parkOne, markStartAs} from '../helpers/group-state.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {waitFor} from '../helpers/cli.js'

/**
 * src/lua/mark-start-2.lua through GroupOps.markStart, the worker's own call, against a private
 * redis-server: a start of an entry taken back is counted (and a solo start), the rest of the record
 * kept, and nothing is written for an entry that is not this consumer's. Then what attempts.ts
 * `planStart` makes of the records the scripts leave after each sequence of starts, crashes and failures.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

const HOUR = 3_600_000

/** A topic whose first entry is pending to w1 (delivered twice), idle an hour. */
async function heldByW1(): Promise<{topic: Topic; id: string}> {
  const topic = await createTopic(redis, `mark-start-${++counter}`, 2)
  const [id] = await deliver(redis, topic.name, 'w1', 1)
  if (id === undefined) throw new Error('nothing delivered')
  await redis.xclaim(topic.name, GROUP, 'w1', 0, id)
  await makeIdle(redis, topic.name, 'w1', [id], HOUR)
  return {topic, id}
}

describe('mark-start-2.lua: a start of an entry taken back is recorded', () => {
  it.each([
    ['no record (taken over after a first delivery)', null, false, '0:1:0:0'],
    ['no record, running alone', null, true, '0:1:0:1'],
    ['a failed start recorded', '5000:1:1:0', false, '5000:2:1:0'],
    ['a suspect running alone: solo counted', '5000:2:1:0', true, '5000:3:1:1'],
    ['a suspect that ran alone before', '5000:3:1:1', true, '5000:4:1:2'],
    ['not alone: solo kept', '5000:3:1:1', false, '5000:4:1:1'],
    ['taken back and started before, never failed (first 0)', '0:1:0:0', false, '0:2:0:0'],
    ['an older worker\'s "first:due" record (one failed start): first kept', '7000:9000', false, '7000:2:1:0'],
  ])('%s: %s, solo %s -> %s', async (_title, record, solo, expected) => {
    const {topic, id} = await heldByW1()
    if (record !== null) await writeRecords(redis, topic.name, {[id]: record})
    expect(await markStartAs(topic.ops('w1'), id, solo)).toBe(true)
    const state = await entryState(redis, topic.name, id)
    expect(state.record).toBe(expected)
    // The pending list is not touched: same owner, no delivery counted, idle time not reset.
    expect(state.pending).toMatchObject({consumer: 'w1', deliveries: 2})
    expect(state.pending?.idleMs).toBeGreaterThanOrEqual(HOUR)
  })

  it('counts every start: three marks of the same entry', async () => {
    const {topic, id} = await heldByW1()
    for (const solo of [false, true, true]) await markStartAs(topic.ops('w1'), id, solo)
    expect((await entryState(redis, topic.name, id)).record).toBe('0:3:0:2')
  })
})

describe('GroupOps.markStarts: the starts of a wave of entries taken back, one HSET', () => {
  it('writes each entry\'s record (as read when it was taken) with one more start, keeping the rest; a start count left by older workers is folded in', async () => {
    const topic = await createTopic(redis, `mark-starts-${++counter}`, 4)
    const ids = await deliver(redis, topic.name, 'w1', 4)
    const [a, b, c, d] = ids as [string, string, string, string]
    await writeRecords(redis, topic.name, {[a]: '5000:1:1:0', [b]: '0:2:2:1', [d]: '7000:9000'})
    const ops = topic.ops('w1')
    const before = await commandCalls(redis)
    await ops.markStarts(ids.map((id, index) => ({id, record: [{firstFailureMs: 5000, starts: 1, settled: 1, solo: 0}, {firstFailureMs: 0, starts: 2, settled: 2, solo: 1}, undefined, {firstFailureMs: 7000, starts: 1, settled: 1, solo: 0}][index]})))
    expect(callsBetween(before, await commandCalls(redis))).toEqual({hset: 1})
    expect((await entryState(redis, topic.name, a)).record).toBe('5000:2:1:0')
    expect((await entryState(redis, topic.name, b)).record).toBe('0:3:2:1')
    expect((await entryState(redis, topic.name, c)).record).toBe('0:1:0:0')
    expect((await entryState(redis, topic.name, d)).record).toBe('7000:2:1:0')
    // What the next taker reads: each a suspect (a start that never reported back).
    for (const record of await ops.records(ids)) expect(planStart(record, 5).suspect).toBe(true)
  })

  it('leaves the process in the write made by the call: the marks land from a client cut off at once', async () => {
    const topic = await createTopic(redis, `mark-starts-${++counter}`, 2)
    const ids = await deliver(redis, topic.name, 'w1', 2)
    // A worker whose handler ends the process right after its wave started: the connection goes
    // with it. (A script would not do: EVALSHA on a server that lost its script cache gets NOSCRIPT
    // back, and ioredis sends the script again, too late.)
    const doomed = await context.server.client()
    await redis.script('FLUSH')
    const marked = new GroupOps(doomed, topic.name, GROUP, 'w1').markStarts(ids.map((id) => ({id, record: undefined}))).catch((error: unknown) => error)
    doomed.disconnect()
    await marked
    await waitFor(async () => (await entryState(redis, topic.name, ids[1] as string)).record !== null, 5_000, 'the marks')
    for (const id of ids) expect((await entryState(redis, topic.name, id)).record).toBe('0:1:0:0')
  })
})

describe('mark-start-2.lua: not this consumer\'s entry: -1 (false), nothing written', () => {
  it.each([
    ['taken over by another consumer', async (topic: Topic, id: string) => void (await redis.xclaim(topic.name, GROUP, 'w2', 0, id, 'JUSTID'))],
    ['parked (held by the parked consumer)', async (topic: Topic, id: string) => void (await parkOne(topic.ops('w1'), id, HOUR, 1))],
    ['acknowledged (not pending)', async (topic: Topic, id: string) => void (await redis.xack(topic.name, GROUP, id))],
  ])('%s', async (_title, arrange) => {
    const {topic, id} = await heldByW1()
    await arrange(topic, id)
    await writeRecords(redis, topic.name, {[id]: '5000:2:1:0'})
    const before = await entryState(redis, topic.name, id)
    expect(await markStartAs(topic.ops('w1'), id, true)).toBe(false)
    const after = await entryState(redis, topic.name, id)
    expect({...after, pending: after.pending?.consumer}).toEqual({...before, pending: before.pending?.consumer})
    expect(after.record).toBe('5000:2:1:0')
  })

  it('never delivered, and an ID not in the stream: the script creates no record (the plain HINCRBY is only sent for entries the worker holds)', async () => {
    const {topic} = await heldByW1()
    const undelivered = topic.ids[1] as string
    expect(await markStartAs(topic.ops('w1'), undelivered, true)).toBe(false)
    expect(await markStartAs(topic.ops('w1'), '1-1', true)).toBe(false)
    expect(await redis.hlen(retryKey(topic.name, GROUP))).toBe(0)
  })
})

/**
 * What happens to an entry, through the worker's calls: `takeover` (its worker died: another
 * consumer reclaims it), `start` / `solo` (a handler starts on it, marked, beside others or alone),
 * `fail` (the handler threw: parked with the attempt number, then taken back when due).
 */
type Step = 'takeover' | 'start' | 'solo' | 'fail'

/** Run the steps on a fresh entry first delivered to w0 (attempt 1, unmarked); returns the stored record and the last taker's plan. */
async function lifeOf(steps: Step[], maxAttempts: number, initialRecord?: string): Promise<{record: string | null; plan: StartPlan}> {
  const topic = await createTopic(redis, `mark-start-plan-${++counter}`, 1)
  let holder = 'w0'
  const [id] = await deliver(redis, topic.name, holder, 1)
  if (id === undefined) throw new Error('nothing delivered')
  if (initialRecord !== undefined) await writeRecords(redis, topic.name, {[id]: initialRecord})
  let record: AttemptRecord | undefined
  let attempt = 1
  let workers = 0
  const takenBack = (entries: Array<{id: string; takenBack: {record: AttemptRecord | undefined} | undefined}>): void => {
    expect(entries.map((entry) => entry.id)).toEqual([id])
    record = entries[0]?.takenBack?.record
    attempt = planStart(record, maxAttempts).attempt
  }
  for (const step of steps) {
    if (step === 'takeover') {
      const next = `w${++workers}`
      takenBack((await topic.ops(next).reclaim(holder, 0, 10)).entries)
      holder = next
    } else if (step === 'fail') {
      expect(await parkOne(topic.ops(holder), id, 0, attempt)).toBeDefined()
      takenBack((await topic.ops(holder).takeDue(10)).entries)
    } else {
      expect(await markStartAs(topic.ops(holder), id, step === 'solo')).toBe(true)
    }
  }
  const stored = (await entryState(redis, topic.name, id)).record
  return {record: stored === null ? null : stored.replace(/^[1-9]\d*:/, 'F:'), plan: planStart(record, maxAttempts)}
}

describe('mark-start-2.lua and park-retry-3.lua records, read by planStart (attempts.ts)', () => {
  // steps, --max-attempts -> stored record (F: a first-failure time), then the next start's plan
  it.each<[string, Step[], number, string | null, StartPlan]>([
    ['a first delivery whose worker died: attempt 1 again, not a suspect (its start was never proven)', ['takeover'], 3, null, {attempt: 1, suspect: false, exceeded: false}],
    ['taken over, started, its worker died: a suspect', ['takeover', 'start', 'takeover'], 3, '0:1:0:0', {attempt: 2, suspect: true, exceeded: false}],
    [
      'a suspect that ran alone and killed its worker each time: exceeded once past the limit',
      ['takeover', 'start', 'takeover', 'solo', 'takeover', 'solo', 'takeover'],
      3,
      '0:3:0:2',
      {attempt: 4, suspect: true, exceeded: true},
    ],
    [
      'the same, one start fewer: still within the limit',
      ['takeover', 'start', 'takeover', 'solo', 'takeover'],
      3,
      '0:2:0:1',
      {attempt: 3, suspect: true, exceeded: false},
    ],
    [
      'a neighbour that started beside crashes, never alone: past the limit but not exceeded (it runs alone first)',
      ['takeover', 'start', 'takeover', 'start', 'takeover', 'start', 'takeover'],
      3,
      '0:3:0:0',
      {attempt: 4, suspect: true, exceeded: false},
    ],
    ['failed, retried, failed: every start reported back', ['fail', 'start', 'fail'], 3, 'F:2:2:0', {attempt: 3, suspect: false, exceeded: false}],
    ['the same with --max-attempts 2: exceeded (not a suspect)', ['fail', 'start', 'fail'], 2, 'F:2:2:0', {attempt: 3, suspect: false, exceeded: true}],
    ['failed once, then its retry killed the worker: a suspect', ['fail', 'start', 'takeover'], 3, 'F:2:1:0', {attempt: 3, suspect: true, exceeded: false}],
    ['the same with --max-attempts 2: past the limit, never alone: not exceeded', ['fail', 'start', 'takeover'], 2, 'F:2:1:0', {attempt: 3, suspect: true, exceeded: false}],
    [
      'failed, its retry killed the worker, then it ran alone and killed it again',
      ['fail', 'start', 'takeover', 'solo', 'takeover'],
      3,
      'F:3:1:1',
      {attempt: 4, suspect: true, exceeded: true},
    ],
    ['a suspect that ran alone and failed: no longer a suspect', ['takeover', 'start', 'takeover', 'solo', 'fail'], 3, 'F:2:2:1', {attempt: 3, suspect: false, exceeded: false}],
  ])('%s', async (_title, steps, maxAttempts, record, plan) => {
    expect(await lifeOf(steps, maxAttempts)).toEqual({record, plan})
  })

  it('an older worker\'s "first:due" record reads as one failed start, and the marks build on it', async () => {
    expect(await lifeOf(['takeover'], 3, '7000:9000')).toEqual({record: 'F:9000', plan: {attempt: 2, suspect: false, exceeded: false}})
    expect(await lifeOf(['takeover', 'start', 'takeover'], 3, '7000:9000')).toEqual({record: 'F:2:1:0', plan: {attempt: 3, suspect: true, exceeded: false}})
  })
})
