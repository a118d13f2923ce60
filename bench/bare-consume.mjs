#!/usr/bin/env node
// The "bare" baseline for the work scenario: what a plain ioredis script would do to drain a
// stream through a consumer group. One connection; XREADGROUP COUNT 100 BLOCK 100; the batch's
// messages go through 8 async handler lanes (each message's `data` is JSON-parsed and passed to a
// no-op async handler, as a real consumer would); one XACK per batch after the batch is handled;
// exit when a read returns nothing and the group has nothing pending (and nothing undelivered).
// No retries, no dead-lettering, no reclaim, no heartbeat, no read-ahead. `--handler FILE` runs a
// module's default export (called with {id, data}) instead of the no-op, so the bare loop can run
// the same handler as `qctl work` (the work scenario's 1 ms handler case).
//
//   node bench/bare-consume.mjs --redis-url URL --topic T --group G [--concurrency 8] [--count 100] [--no-parse] [--handler FILE]
//
// Prints {"processed": N, "durationMs": ms} on stdout.
import {resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

import {Redis} from 'ioredis'

const {values} = parseArgs({
  options: {
    'redis-url': {type: 'string', default: 'redis://127.0.0.1:6379'},
    topic: {type: 'string'},
    group: {type: 'string'},
    consumer: {type: 'string', default: `bare-${process.pid}`},
    concurrency: {type: 'string', default: '8'},
    count: {type: 'string', default: '100'},
    'no-parse': {type: 'boolean', default: false},
    handler: {type: 'string'},
  },
})
const {topic, group, consumer} = values
if (topic === undefined || group === undefined) {
  console.error('usage: bare-consume.mjs --redis-url URL --topic T --group G [--concurrency 8] [--count 100] [--no-parse]')
  process.exit(2)
}
const concurrency = Number(values.concurrency)
const count = Number(values.count)
const parse = !values['no-parse']

const handle = values.handler === undefined ? async () => {} : (await import(pathToFileURL(resolve(values.handler)).href)).default

/** Field `data` of an entry's [field, value, ...] pairs. */
const dataOf = (pairs) => {
  for (let i = 0; i + 1 < pairs.length; i += 2) if (pairs[i] === 'data') return pairs[i + 1]
  return undefined
}

/** Run every entry of the batch through `concurrency` lanes. */
async function handleBatch(entries) {
  let next = 0
  const lane = async () => {
    while (next < entries.length) {
      const [id, pairs] = entries[next++]
      const data = dataOf(pairs)
      await handle({id, data: parse && data !== undefined ? JSON.parse(data) : data})
    }
  }
  await Promise.all(Array.from({length: Math.min(concurrency, entries.length)}, lane))
}

/** XINFO GROUPS: is our group's backlog fully delivered and acknowledged? */
async function drained(redis) {
  const groups = await redis.call('XINFO', 'GROUPS', topic)
  for (const reply of groups) {
    const info = {}
    for (let i = 0; i + 1 < reply.length; i += 2) info[reply[i]] = reply[i + 1]
    if (info.name === group) return Number(info.pending) === 0 && (info.lag === null || Number(info.lag) === 0)
  }
  throw new Error(`no group ${group} on ${topic}`)
}

const started = Date.now()
const redis = new Redis(values['redis-url'])
let processed = 0
try {
  for (;;) {
    const reply = await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'BLOCK', 100, 'STREAMS', topic, '>')
    const entries = reply?.[0]?.[1] ?? []
    if (entries.length === 0) {
      if (await drained(redis)) break
      continue
    }
    await handleBatch(entries)
    await redis.xack(topic, group, ...entries.map(([id]) => id))
    processed += entries.length
  }
  await redis.xgroup('DELCONSUMER', topic, group, consumer)
} finally {
  redis.disconnect()
}
process.stdout.write(`${JSON.stringify({processed, durationMs: Date.now() - started})}\n`)
