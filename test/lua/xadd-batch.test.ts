import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {BatchPublisher} from '../../src/core/publish/batch-publisher.js'
import {encodeEnvelope} from '../../src/core/wire-format.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {sameBytes} from '../helpers/wide-entries.js'

/**
 * src/lua/xadd-batch-1.lua through BatchPublisher, the core of `qctl publish`, against a private
 * redis-server. The script unpacks W values per entry, which is safe only while W stays far under
 * unpack's limit (7,999 values): the widest envelope qctl publishes is 8 values.
 */

const context = usePrivateRedis()
let redis: Redis

beforeAll(() => {
  redis = context.redis
})

describe('xadd-batch-1.lua', () => {
  it('the widest envelope qctl publishes has 8 values (data, key, headers, enc)', () => {
    expect(encodeEnvelope({payload: Buffer.from('x'), key: 'k', headersJson: '{"a":"b"}', raw: true})).toHaveLength(8)
  })

  it('adds batches of the widest envelope in order, byte for byte, binary payloads too', async () => {
    const topic = 'xadd-batch'
    const publisher = new BatchPublisher(redis, topic, {batchSize: 100, batchBytes: 1024 * 1024, maxInFlight: 2})
    const sent = Array.from({length: 250}, (_, n) =>
      encodeEnvelope({payload: Buffer.from([0xff, 0x00, n & 0xff, 0x0d, 0x0a]), key: `k${n}`, headersJson: `{"n":"${n}"}`, raw: true}).map((value) =>
        Buffer.isBuffer(value) ? value : Buffer.from(value),
      ),
    )
    sent.forEach((fields, n) => publisher.push(n + 1, fields))
    const progress = await publisher.flush()
    const stored = (await redis.xrangeBuffer(topic, '-', '+')) as Array<[Buffer, Buffer[]]>
    expect(progress).toMatchObject({published: 250, firstId: String(stored[0]?.[0]), lastId: String(stored.at(-1)?.[0]), lastAckedLine: 250})
    expect(stored).toHaveLength(250)
    expect(sameBytes(stored.flatMap(([, fields]) => fields), sent.flat())).toBe(true)
  })
})
