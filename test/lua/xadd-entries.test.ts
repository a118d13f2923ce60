import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {EnvelopePublisher} from '../../src/core/publish/envelope-publisher.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {sameBytes, wideFields} from '../helpers/wide-entries.js'

/**
 * src/lua/xadd-entries-1.lua through EnvelopePublisher (`qctl publish --envelope`), against a private
 * redis-server: entries of different widths in one batch (thousands of fields too, past what unpack
 * passes), new IDs or kept ones, and a refused ID that stops the batch where it stands.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

const LIMITS = {batchSize: 100, batchBytes: 64 * 1024 * 1024, maxInFlight: 2}
const stored = async (stream: string): Promise<Array<[Buffer, Buffer[]]>> => (await redis.xrangeBuffer(stream, '-', '+')) as Array<[Buffer, Buffer[]]>

describe('xadd-entries-1.lua', () => {
  it('adds entries of any width in order, byte for byte, under new IDs', async () => {
    const stream = `entries-${++counter}`
    const publisher = new EnvelopePublisher(redis, stream, LIMITS)
    const entries = [wideFields(2), wideFields(20_000), [Buffer.from('payload'), Buffer.from([0xff]), Buffer.from('payload'), Buffer.alloc(0)], wideFields(6)]
    entries.forEach((fields, index) => publisher.push(index + 1, [Buffer.from('*'), ...fields]))
    const progress = await publisher.flush()
    const rows = await stored(stream)
    expect(progress).toMatchObject({published: 4, lastAckedLine: 4, firstId: rows[0]?.[0].toString(), lastId: rows[3]?.[0].toString()})
    expect(sameBytes(rows.flatMap(([, fields]) => fields), entries.flat())).toBe(true)
  })

  it('keeps given IDs; an ID at or below the stream\'s last stops the batch there: entries before it stored, none after', async () => {
    const stream = `entries-${++counter}`
    await redis.xadd(stream, '50-0', 'data', 'there')
    const publisher = new EnvelopePublisher(redis, stream, LIMITS)
    for (const [line, id] of ['60-0', '60-1', '55-0', '70-0'].entries()) publisher.push(line + 1, [id, 'data', `n${line}`])
    await expect(publisher.flush()).rejects.toThrow('ERR The ID specified in XADD is equal or smaller than the target stream top item')
    expect(publisher.progress).toMatchObject({published: 2, firstId: '60-0', lastId: '60-1', lastAckedLine: 2})
    expect(publisher.failedLine).toBe(3)
    expect((await stored(stream)).map(([id]) => id.toString())).toEqual(['50-0', '60-0', '60-1'])
  })

  it('pipelined XADDs (a user without scripts) take the same entries and IDs', async () => {
    const stream = `entries-${++counter}`
    const publisher = new EnvelopePublisher(redis, stream, LIMITS, 'pipeline')
    publisher.push(1, ['7-7', ...wideFields(10)])
    publisher.push(2, ['*', 'data', 'x'])
    await publisher.flush()
    const rows = await stored(stream)
    expect(rows[0]?.[0].toString()).toBe('7-7')
    expect(sameBytes(rows[0]?.[1] ?? [], wideFields(10))).toBe(true)
    expect(rows).toHaveLength(2)
  })
})
