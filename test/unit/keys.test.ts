import {describe, expect, it} from 'vitest'

import {deadLetterKey, hashTag, isDeadLetterKey, isReplayKey, replayDueKey, replayKey, replayRetryKey, retryKey, topicStreamKey} from '../../src/core/keys.js'

/** CRC16-XMODEM (poly 0x1021, init 0), the checksum Redis Cluster uses for key slots. */
function crc16(data: Buffer): number {
  let crc = 0
  for (const byte of data) {
    crc ^= byte << 8
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x80_00 ? ((crc << 1) ^ 0x10_21) & 0xff_ff : (crc << 1) & 0xff_ff
    }
  }
  return crc
}

/** CLUSTER KEYSLOT, written independently of src/core/keys.ts (see the Redis Cluster spec). */
function keySlot(key: string): number {
  let hashed = key
  const open = key.indexOf('{')
  if (open !== -1) {
    const close = key.indexOf('}', open + 1)
    if (close !== -1 && close !== open + 1) hashed = key.slice(open + 1, close)
  }
  return crc16(Buffer.from(hashed, 'utf8')) % 16_384
}

describe('test helpers: CRC16 and key slots', () => {
  it('matches the CRC16-XMODEM check value', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31_c3)
  })

  it.each([
    ['foo', 12_182],
    ['bar', 5061],
    ['somekey', 11_058],
    ['{foo}.bar', 12_182],
    ['{user1000}.following', keySlot('user1000')],
  ])('slot of %s is %d (as CLUSTER KEYSLOT reports)', (key, slot) => {
    expect(keySlot(key)).toBe(slot)
  })
})

describe('hashTag', () => {
  it.each<[string, string | undefined]>([
    ['orders', undefined],
    ['', undefined],
    ['{user1000}.following', 'user1000'],
    ['prefix.{user1000}.following', 'user1000'],
    ['foo{bar}{zap}', 'bar'],
    ['foo{}{bar}', undefined],
    ['{}', undefined],
    ['{}x', undefined],
    ['foo{{bar}}zap', '{bar'],
    ['{a{b}c}', 'a{b'],
    ['foo{bar', undefined],
    ['foo}bar{', undefined],
    ['foo}{bar}', 'bar'],
    ['}{x}', 'x'],
    ['{ }', ' '],
    ['{é}', 'é'],
  ])('%j has tag %j', (key, tag) => {
    expect(hashTag(key)).toBe(tag)
  })
})

describe('topicStreamKey', () => {
  it.each(['orders', 'app:orders', 'app.orders.v1', '{tenant}.orders', 'with space', 'ünïcødé'])(
    'is the topic itself: %j',
    (topic) => {
      expect(topicStreamKey(topic)).toBe(topic)
    },
  )
})

describe('deadLetterKey', () => {
  it.each([
    ['orders', '{orders}:dlq'],
    ['app:orders', '{app:orders}:dlq'],
    ['app.orders.v1', '{app.orders.v1}:dlq'],
    ['{tenant}.orders', '{tenant}.orders:dlq'],
    ['app.{tenant}.orders', 'app.{tenant}.orders:dlq'],
    // Braces without a usable tag: cannot be wrapped, left as is.
    ['a}b', 'a}b:dlq'],
    ['a{b', 'a{b:dlq'],
    ['{}x', '{}x:dlq'],
  ])('of %j is %j', (topic, key) => {
    expect(deadLetterKey(topic)).toBe(key)
  })

  it('is recognised as a dead-letter key (so discovery never lists it as a topic), and other keys are not', () => {
    for (const topic of ['orders', 'app:orders', '{tenant}.orders', 'app.{tenant}.orders', 'a}b']) expect(isDeadLetterKey(deadLetterKey(topic))).toBe(true)
    for (const key of ['orders', 'orders:dlq', '{orders}', 'dlq', ':dlq', '{}:dlq', 'orders:dlq:x']) expect(isDeadLetterKey(key)).toBe(false)
  })

  it('differs from the topic stream key', () => {
    for (const topic of ['orders', '{t}.orders', 'a}b']) expect(deadLetterKey(topic)).not.toBe(topicStreamKey(topic))
  })

  it.each([
    'orders',
    'foo',
    'app:orders',
    'app.orders.v1',
    'a.b:c.d:e',
    'with space',
    'ünïcødé',
    '{tenant}.orders',
    'app.{tenant-42}.orders',
    '{user1000}',
    'x{a{b}c}y',
    'foo}{bar}',
  ])('of %j lands in the same cluster slot as the topic', (topic) => {
    const dlq = deadLetterKey(topic)
    expect(keySlot(dlq)).toBe(keySlot(topicStreamKey(topic)))
  })

  it('spreads untagged topics over different slots (the tag is the whole topic, not a constant)', () => {
    const slots = new Set(['orders', 'payments', 'users', 'audit'].map((topic) => keySlot(deadLetterKey(topic))))
    expect(slots.size).toBe(4)
  })
})

describe('replay streams', () => {
  it('{T}:replay:G in the slot of the topic (T:replay:G for a tagged topic), recognised as such and never as a topic', () => {
    expect(replayKey('orders', 'billing')).toBe('{orders}:replay:billing')
    expect(replayKey('{orders}.created', 'billing')).toBe('{orders}.created:replay:billing')
    expect(keySlot(replayKey('orders', 'a:b'))).toBe(keySlot('orders'))
    for (const key of ['{orders}:replay:billing', '{orders}:replay:a:b', '{orders}.created:replay:billing']) expect(isReplayKey(key)).toBe(true)
    for (const key of ['orders', '{orders}:dlq', '{orders}:replay-retry:billing', 'orders:replay:billing', '{orders}:replay:']) expect(isReplayKey(key), key).toBe(false)
  })

  it("the replay stream's retry state has namespaces of its own: no group name makes it collide with the topic's", () => {
    expect(replayRetryKey('orders', 'billing')).toBe('{orders}:replay-retry:billing')
    expect(replayDueKey('orders', 'billing')).toBe('{orders}:replay-due:billing')
    expect(replayRetryKey('orders', 'x')).not.toBe(retryKey('orders', 'replay-x'))
  })
})
