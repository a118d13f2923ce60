import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {dedupeKey, scheduleKey} from '../../src/core/keys.js'
import {addOnce} from '../../src/core/publish/batch-publisher.js'
import {moveDue, MOVE_BATCH} from '../../src/core/schedule/mover.js'
import {fieldsOfMember, scheduleMember} from '../../src/core/schedule/schedule-entry.js'
import {callScript, SCHEDULE_ADD, SCHEDULE_ADD_DEDUPE} from '../../src/core/scripts.js'
import {waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * Scheduled messages (src/lua/schedule-add-1.lua, schedule-add-dedupe-2.lua, schedule-move-2.lua)
 * against a real Redis: held out of the stream until due by Redis's clock, then appended byte for
 * byte and removed in one step, once however many movers race; members another program wrote are
 * left in place; scheduled once per idempotency key within the dedupe window, counted from scheduling.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

const schedule = async (stream: string, mode: 'delay' | 'at', ms: number, messages: Array<Array<string | Buffer>>): Promise<[number, number, string | null]> =>
  (await callScript(redis, SCHEDULE_ADD, [scheduleKey(stream), mode, ms, ...messages.map((fields) => scheduleMember(fields))])) as [number, number, string | null]

const redisNowMs = async (): Promise<number> => {
  const [seconds, micros] = await redis.time()
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
}

describe('schedule members', () => {
  it('encode any bytes and read back the same fields; two equal messages are two members', () => {
    const binary = Buffer.from([0, 10, 58, 255, 13])
    const fields = ['data', '{"a":"x:y\\n"}', 'key', 'k:1\n', 'enc', binary]
    const member = scheduleMember(fields)
    expect(fieldsOfMember(member)).toEqual(fields.map((field) => (typeof field === 'string' ? Buffer.from(field) : field)))
    expect(scheduleMember(fields).equals(member)).toBe(false)
    expect(fieldsOfMember(Buffer.from('no id line'))).toBeUndefined()
    expect(fieldsOfMember(Buffer.from('id\n5:abc'))).toBeUndefined()
  })
})

describe('schedule-add-1.lua and schedule-move-2.lua', () => {
  it('holds messages until due by Redis\'s clock, then appends them in due order, fields exact', async () => {
    const stream = `sched-${++counter}`
    const now = await redisNowMs()
    const binary = Buffer.from([0, 1, 2, 255])
    await schedule(stream, 'at', now + 60_000, [['data', '"later"']])
    const [added, due] = await schedule(stream, 'at', now - 1, [['data', '"first"'], ['data', binary, 'enc', 'raw']])
    expect([added, due]).toEqual([2, now - 1])
    const [, delayed] = await schedule(stream, 'delay', 0, [['data', '"second"', 'key', 'k']])
    expect(delayed).toBeGreaterThanOrEqual(now)

    const result = await moveDue(redis, stream)
    expect(result.moved).toBe(3)
    expect(result.foreign).toBe(0)
    expect(result.nextDueInMs).toBeGreaterThan(50_000)
    const entries = await redis.xrangeBuffer(stream, '-', '+')
    expect(entries.map(([, fields]) => fields.map((field) => field.toString('latin1')))).toEqual([
      ['data', '"first"'],
      ['data', binary.toString('latin1'), 'enc', 'raw'],
      ['data', '"second"', 'key', 'k'],
    ])
    expect(await redis.zcard(scheduleKey(stream))).toBe(1)
    // Nothing due: nothing moves.
    expect((await moveDue(redis, stream)).moved).toBe(0)
  })

  it('moves a backlog larger than one slice, each message once, with movers racing', async () => {
    const stream = `sched-${++counter}`
    const total = MOVE_BATCH * 3 + 7
    const messages = Array.from({length: total}, (_, n) => ['data', String(n)])
    await schedule(stream, 'at', 1, messages)
    const clients = Array.from({length: 4}, () => redis.duplicate())
    const movers = await Promise.all(clients.map(async (client) => moveDue(client, stream)))
    for (const client of clients) client.disconnect()
    expect(movers.reduce((sum, result) => sum + result.moved, 0)).toBe(total)
    const stored = (await redis.xrange(stream, '-', '+')).map(([, fields]) => Number(fields[1]))
    expect(stored.sort((a, b) => a - b)).toEqual(Array.from({length: total}, (_, n) => n))
    expect(await redis.exists(scheduleKey(stream))).toBe(0)
  })

  it('leaves members another program wrote, says how many, and moves the rest', async () => {
    const stream = `sched-${++counter}`
    await redis.zadd(scheduleKey(stream), 1, 'not a qctl message', 2, 'id\n9:short')
    await schedule(stream, 'at', 3, [['data', '"ok"']])
    const result = await moveDue(redis, stream)
    expect(result).toMatchObject({moved: 1, foreign: 2})
    expect(await redis.zcard(scheduleKey(stream))).toBe(2)
    expect(await redis.xlen(stream)).toBe(1)
  })

  it('a refused XADD (the stream key is not a stream) moves nothing and keeps the message scheduled', async () => {
    const stream = `sched-${++counter}`
    await redis.set(stream, 'not a stream')
    await schedule(stream, 'at', 1, [['data', '"x"']])
    await expect(moveDue(redis, stream)).rejects.toThrow(/WRONGTYPE/)
    expect(await redis.zcard(scheduleKey(stream))).toBe(1)
  })
})

type OnceReply = [processed: number, dueMs: number, error: string | null, skipped: number[]]

/** schedule-add-dedupe-2.lua: each message is [idempotency key, ...fields]. */
const scheduleOnce = async (stream: string, mode: 'delay' | 'at', ms: number, windowMs: number, messages: Array<[string, ...string[]]>): Promise<OnceReply> =>
  (await callScript(redis, SCHEDULE_ADD_DEDUPE, [
    scheduleKey(stream),
    dedupeKey(stream),
    mode,
    ms,
    windowMs,
    ...messages.flatMap(([key, ...fields]) => [key, scheduleMember(fields)]),
  ])) as OnceReply

/** The `data` of each message in the schedule, in due order. */
const scheduledData = async (stream: string): Promise<string[]> =>
  (await redis.zrangeBuffer(scheduleKey(stream), 0, -1)).map((member) => String(fieldsOfMember(member)?.[1]))

describe('schedule-add-dedupe-2.lua', () => {
  it('schedules each idempotency key once, within a batch and over calls (run twice), and the mover appends each once', async () => {
    const stream = `once-${++counter}`
    const first = await scheduleOnce(stream, 'at', 5, 60_000, [['a', 'data', '"a1"'], ['b', 'data', '"b1"'], ['a', 'data', '"a2"']])
    expect(first).toEqual([3, 5, null, [3]])
    const again = await scheduleOnce(stream, 'at', 5, 60_000, [['c', 'data', '"c1"'], ['b', 'data', '"b2"'], ['a', 'data', '"a3"']])
    expect(again).toEqual([3, 5, null, [2, 3]])
    expect((await scheduledData(stream)).sort()).toEqual(['"a1"', '"b1"', '"c1"'])
    // The mover appends what is scheduled and does not look at the set again.
    expect((await moveDue(redis, stream)).moved).toBe(3)
    expect((await redis.xrange(stream, '-', '+')).map(([, fields]) => fields[1]).sort()).toEqual(['"a1"', '"b1"', '"c1"'])
    // Still known after it was appended: not scheduled again within the window.
    expect(await scheduleOnce(stream, 'delay', 0, 60_000, [['a', 'data', '"a4"']])).toMatchObject([1, expect.any(Number), null, [1]])
    expect(await redis.zcard(scheduleKey(stream))).toBe(0)
  })

  it('shares the dedupe set with xadd-dedupe-2.lua: a key appended is not scheduled, a key scheduled is not appended', async () => {
    const stream = `once-${++counter}`
    expect(await addOnce(redis, stream, ['data', '"now"'], 'appended', 60_000)).toMatch(/^\d+-\d+$/)
    expect(await scheduleOnce(stream, 'delay', 60_000, 60_000, [['appended', 'data', '"later"'], ['held', 'data', '"held"']])).toMatchObject([2, expect.any(Number), null, [1]])
    expect(await addOnce(redis, stream, ['data', '"now again"'], 'held', 60_000)).toBeUndefined()
    expect(await redis.xlen(stream)).toBe(1)
    expect(await scheduledData(stream)).toEqual(['"held"'])
  })

  it('the window counts from scheduling, not from when the message is due: keys scored by Redis\'s clock then plus the window', async () => {
    const stream = `once-${++counter}`
    const before = await redisNowMs()
    const [, due] = await scheduleOnce(stream, 'delay', 3_600_000, 200, [['k', 'data', '"1"']])
    const after = await redisNowMs()
    expect(due).toBeGreaterThanOrEqual(before + 3_600_000)
    const expires = Number(await redis.zscore(dedupeKey(stream), 'k'))
    expect(expires).toBeGreaterThanOrEqual(before + 200)
    expect(expires).toBeLessThanOrEqual(after + 200)
    const ttl = await redis.pttl(dedupeKey(stream))
    expect(ttl > 0 && ttl <= 200, `the set's TTL, ${ttl} ms`).toBe(true)
    // Once the window is over (the set expires with it), the message, though not yet due, is scheduled again.
    await waitFor(async () => (await redis.exists(dedupeKey(stream))) === 0, 10_000, 'the dedupe set to expire')
    expect(await scheduleOnce(stream, 'delay', 3_600_000, 200, [['k', 'data', '"2"']])).toMatchObject([1, expect.any(Number), null, []])
    expect((await scheduledData(stream)).sort()).toEqual(['"1"', '"2"'])
  })

  it('a refused ZADD on the schedule stops the batch there and keeps no key of what it did not schedule', async () => {
    const stream = `once-${++counter}`
    await scheduleOnce(stream, 'at', 1, 60_000, [['known', 'data', '"k"']])
    await redis.del(scheduleKey(stream))
    await redis.set(scheduleKey(stream), 'not a sorted set')
    const [processed, , error, skipped] = await scheduleOnce(stream, 'at', 1, 60_000, [['known', 'data', '"k2"'], ['new', 'data', '"n"'], ['later', 'data', '"l"']])
    expect([processed, skipped]).toEqual([1, [1]])
    expect(error).toMatch(/^WRONGTYPE/)
    expect(await redis.zrange(dedupeKey(stream), 0, -1)).toEqual(['known'])
  })
})
