/**
 * Redis Cluster's hash slot of a key: CRC16 (XMODEM: polynomial 0x1021, initial 0) of the key's
 * hash tag, or of the whole key when it has none, modulo 16384 (cluster spec, "Keys distribution
 * model"). Pure, so a key's slot can be known before any connection, and refusals (a topic whose
 * derived keys cannot share its slot) need no round trip.
 */

export const SLOT_COUNT = 16_384

const TABLE = (() => {
  const table = new Uint16Array(256)
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[byte] = crc
  }
  return table
})()

function crc16(bytes: Uint8Array): number {
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number)
  return crc
}

/**
 * The bytes Redis hashes: those between the first `{` and the first `}` after it, when that is not
 * empty; otherwise the whole key. (Only the first `{` counts: `{a}{b}` hashes `a`, `{}{b}` the whole key.)
 */
export function hashedPart(key: Buffer): Buffer {
  const open = key.indexOf(0x7b)
  if (open === -1) return key
  const close = key.indexOf(0x7d, open + 1)
  if (close === -1 || close === open + 1) return key
  return key.subarray(open + 1, close)
}

/** The hash slot of `key` (UTF-8 for a string, as Redis receives it). */
export const keySlot = (key: string | Buffer): number => crc16(hashedPart(typeof key === 'string' ? Buffer.from(key, 'utf8') : key)) % SLOT_COUNT
