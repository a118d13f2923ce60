import {describe, expect, it} from 'vitest'

import {murmur2, partitionOfKey} from '../../src/core/partitions/partition-hash.js'

describe('murmur2 (Kafka\'s default partitioner)', () => {
  // Apache Kafka's UtilsTest.testMurmur2, and the empty key.
  it.each([
    ['21', -973_932_308],
    ['foobar', -790_332_482],
    ['a-little-bit-long-string', -985_981_536],
    ['a-little-bit-longer-string', -1_486_304_829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58_897_971],
    ['abc', 479_470_107],
    ['', 275_646_681],
  ])('murmur2(%j) = %i', (key, expected) => {
    expect(murmur2(Buffer.from(key, 'utf8'))).toBe(expected)
  })

  it('maps a key to (hash & 0x7fffffff) % count, the same for its string and its bytes', () => {
    expect(partitionOfKey('foobar', 50)).toBe((-790_332_482 & 0x7fffffff) % 50)
    expect(partitionOfKey('21', 8)).toBe((-973_932_308 & 0x7fffffff) % 8)
    expect(partitionOfKey('ключ-😀', 7)).toBe(partitionOfKey(Buffer.from('ключ-😀', 'utf8'), 7))
    expect(partitionOfKey('anything', 1)).toBe(0)
  })

  it('spreads keys over the partitions', () => {
    const counts = new Array<number>(8).fill(0)
    for (let n = 0; n < 8000; n++) counts[partitionOfKey(`customer-${n}`, 8)]! += 1
    for (const count of counts) expect(count).toBeGreaterThan(800)
  })

  it('refuses a partition count below one', () => {
    expect(() => partitionOfKey('k', 0)).toThrow(RangeError)
  })
})
