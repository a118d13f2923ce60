#!/usr/bin/env node
// The "bare" baseline: what a plain script would do to load an NDJSON file into a stream with
// ioredis. No validation, no envelope beyond `data`, one pipeline of 1000 XADDs at a time.
//
//   node bench/bare-publish.mjs --redis-url redis://127.0.0.1:PORT TOPIC FILE [--reader readline|split] [--batch 1000]
//
// Prints {"published": N, "durationMs": ms} on stdout.
import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'
import {parseArgs} from 'node:util'

import {Redis} from 'ioredis'

const {values, positionals} = parseArgs({
  allowPositionals: true,
  options: {
    'redis-url': {type: 'string', default: 'redis://127.0.0.1:6379'},
    reader: {type: 'string', default: 'readline'},
    batch: {type: 'string', default: '1000'},
  },
})
const [topic, file] = positionals
if (topic === undefined || file === undefined) {
  console.error('usage: bare-publish.mjs --redis-url URL TOPIC FILE [--reader readline|split] [--batch N]')
  process.exit(2)
}
const batchSize = Number(values.batch)

/** Lines as strings, the way most scripts read a file. */
async function* readlineLines(path) {
  const input = createReadStream(path)
  yield* createInterface({input, crlfDelay: Infinity})
}

/** Lines as Buffers split by hand on '\n' (no decoding), a cheaper plain-script alternative. */
async function* splitLines(path) {
  let carry
  for await (let chunk of createReadStream(path, {highWaterMark: 256 * 1024})) {
    if (carry !== undefined) {
      chunk = Buffer.concat([carry, chunk])
      carry = undefined
    }
    let start = 0
    let newline
    while ((newline = chunk.indexOf(10, start)) !== -1) {
      yield chunk.subarray(start, newline)
      start = newline + 1
    }
    if (start < chunk.length) carry = chunk.subarray(start)
  }
  if (carry !== undefined && carry.length > 0) yield carry
}

const started = Date.now()
const redis = new Redis(values['redis-url'])
let published = 0
let pipeline = redis.pipeline()
let queued = 0

const exec = async () => {
  const results = await pipeline.exec()
  for (const [error] of results) if (error) throw error
  published += queued
  pipeline = redis.pipeline()
  queued = 0
}

try {
  const lines = values.reader === 'split' ? splitLines(file) : readlineLines(file)
  for await (const line of lines) {
    if (line.length === 0) continue
    pipeline.xadd(topic, '*', 'data', line)
    if (++queued === batchSize) await exec()
  }
  if (queued > 0) await exec()
} finally {
  redis.disconnect()
}
process.stdout.write(`${JSON.stringify({published, durationMs: Date.now() - started})}\n`)
