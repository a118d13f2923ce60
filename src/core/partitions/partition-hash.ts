/**
 * Which partition a message key goes to: Kafka's default partitioner, so a producer in any
 * language (every Kafka client ships it) computes the same partition for a key as qctl does:
 * murmur2 of the key's UTF-8 bytes (seed 0x9747b28c), made positive by masking the sign bit, modulo
 * the partition count. Test vectors: Kafka's UtilsTest.testMurmur2, in test/unit/partition-hash.test.ts.
 */

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) of `data`, as Java's signed 32-bit int. */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = (SEED ^ length) | 0
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k = ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24)) | 0
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  const rest = length % 4
  if (rest === 3) h ^= (data[whole + 2] as number) << 16
  if (rest >= 2) h ^= (data[whole + 1] as number) << 8
  if (rest >= 1) {
    h ^= data[whole] as number
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** The partition (0 … count-1) of a message key: `(murmur2(utf8(key)) & 0x7fffffff) % count`, as Kafka's producer. */
export function partitionOfKey(key: string | Uint8Array, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`a topic has at least one partition (got ${count})`)
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key
  return (murmur2(bytes) & 0x7fffffff) % count
}
