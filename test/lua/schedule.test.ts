import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {scheduleKey} from '../../src/core/keys.js'
import {moveDue, MOVE_BATCH} from '../../src/core/schedule/mover.js'
import {fieldsOfMember, scheduleMember} from '../../src/core/schedule/schedule-entry.js'
import {callScript, SCHEDULE_ADD} from '../../src/core/scripts.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * Scheduled messages (src/lua/schedule-add-1.lua, schedule-move-2.lua) against a real Redis: held
 * out of the stream until due by Redis's clock, then appended byte for byte and removed in one step,
 * once however many movers race; members another program wrote are left in place.
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
