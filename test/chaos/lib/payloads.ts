import {createHash} from 'node:crypto'
import {openSync, writeSync, closeSync} from 'node:fs'

import type {Redis} from 'ioredis'

/** Hostile payloads for scenario 12, and how to see them as exact bytes. */

export const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex')

/** Every byte value, then sequences that are not valid UTF-8 (stray continuation, overlong, surrogate, > U+10FFFF, truncated). */
export const BINARY = Buffer.concat([
  Buffer.from(Array.from({length: 256}, (_, byte) => byte)),
  Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xf0, 0x9f]),
])

/** Text that is almost UTF-8: Latin-1 bytes in it, and one real U+FFFD (which must survive too). */
export const INVALID_UTF8_TEXT = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' na'), Buffer.from([0xef]), Buffer.from('ve '), Buffer.from([0xff, 0xfe]), Buffer.from(' \uFFFD real')])

/** Raw NDJSON lines: invalid UTF-8, but no line ending, no trailing CR, not blank. */
export const RAW_LINES = [
  Buffer.concat([Buffer.from('line-1 '), Buffer.from([0xff, 0xfe, 0x00, 0x01])]),
  Buffer.concat([Buffer.from('line-2 '), Buffer.from([0xc0, 0xaf, 0x09, 0x7f])]),
  Buffer.concat([Buffer.from('line-3 😀 '), Buffer.from([0xed, 0xa0, 0x80])]),
]

/** JSON records meant to pollute prototypes, and 4-byte code points, raw and escaped. */
export const JSON_LINES = [
  '{"mid":"emoji","text":"😀🎉 𝄞 𠜎 👩‍👩‍👧‍👦 🏳️‍🌈","escaped":"\\ud83d\\ude00","lone":"\\ud800"}',
  '{"__proto__":{"polluted":1},"mid":"proto"}',
  '{"constructor":{"prototype":{"polluted":1}},"mid":"ctor"}',
  '{"mid":"nested","a":{"__proto__":{"polluted":1}},"b":[{"constructor":{"prototype":{"polluted":1}}}],"__proto__":null}',
]

/** `levels` nested arrays: valid JSON that a recursive parser or printer cannot survive. */
export const deepArrays = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`

/** `levels` nested objects, `{"a":{"a":…1…}}`. */
export const deepObjects = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`

/** The bytes of each entry's (last) `data` field, read as bytes, after `afterId`. */
export async function storedPayloads(redis: Redis, key: string, afterId = '-'): Promise<Array<{id: string; data: Buffer}>> {
  const start = afterId === '-' ? '-' : `(${afterId}`
  const payloads: Array<{id: string; data: Buffer}> = []
  for (const [id, pairs] of await redis.xrangeBuffer(key, start, '+')) {
    let data: Buffer | undefined
    for (let i = 0; i + 1 < pairs.length; i += 2) if (pairs[i]?.toString() === 'data') data = pairs[i + 1]
    if (data !== undefined) payloads.push({id: id.toString(), data})
  }
  return payloads
}

/** A sorted list, for comparing multisets of hashes. */
export const sorted = (values: readonly string[]): string[] => [...values].sort()

/**
 * An NDJSON file of ~`bytes` bytes of ~150-byte records, written in 1 MiB blocks (fast, flat
 * memory). Returns its line count and its first and last lines.
 */
export function writeNdjson(file: string, bytes: number): {lines: number; first: string; last: string} {
  const fd = openSync(file, 'w')
  let lines = 0
  let written = 0
  let first = ''
  let last = ''
  try {
    while (written < bytes) {
      const block: string[] = []
      let blockBytes = 0
      while (blockBytes < 1024 * 1024) {
        last = JSON.stringify({mid: `big-${lines}`, order: {id: lines, sku: `SKU-${lines % 97}`, qty: (lines % 5) + 1}, note: 'x'.repeat(80)})
        if (lines === 0) first = last
        block.push(last)
        blockBytes += last.length + 1
        lines++
      }
      written += writeSync(fd, `${block.join('\n')}\n`)
    }
  } finally {
    closeSync(fd)
  }
  return {lines, first, last}
}

/** A file of exactly `bytes` bytes holding one JSON string (a single huge document or NDJSON line). */
export function writeHugeString(file: string, bytes: number): void {
  const fd = openSync(file, 'w')
  const chunk = Buffer.alloc(1024 * 1024, 'a')
  try {
    writeSync(fd, '"')
    let left = bytes - 2
    while (left > 0) left -= writeSync(fd, chunk, 0, Math.min(chunk.length, left))
    writeSync(fd, '"')
  } finally {
    closeSync(fd)
  }
}
