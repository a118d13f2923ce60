#!/usr/bin/env node
// The "bare" baseline of the latency scenario: the lowest-latency plain ioredis consumer. One
// connection only for `XREADGROUP COUNT 100 BLOCK 1000` (re-issued as soon as a read returns), a
// second one for XACK (one per batch, not awaited before the next read). Each message's `data` is
// JSON-parsed and passed to an async handler that records publish → handler-start latency
// (bench/handlers/latency-recorder.mjs, the same recorder qctl's handler uses). Exits once
// --expect messages are handled. No retries, dead-lettering, reclaim or heartbeat.
//
//   node bench/bare-latency.mjs --redis-url URL --topic T --group G --expect N [--count 100] [--block 1000]
//
// Prints {"ready": true} once both connections are up (the reads start right after), and at the
// end {"processed": N, "durationMs": ms}. Set QCTL_BENCH_LATENCY_FILE/_CAPACITY for the recorder.
import {parseArgs} from 'node:util'

import {Redis} from 'ioredis'

import {record} from './handlers/latency-recorder.mjs'

const {values} = parseArgs({
  options: {
    'redis-url': {type: 'string', default: 'redis://127.0.0.1:6379'},
    topic: {type: 'string'},
    group: {type: 'string'},
    consumer: {type: 'string', default: `bare-${process.pid}`},
    expect: {type: 'string'},
    count: {type: 'string', default: '100'},
    block: {type: 'string', default: '1000'},
  },
})
const {topic, group, consumer} = values
if (topic === undefined || group === undefined || values.expect === undefined) {
  console.error('usage: bare-latency.mjs --redis-url URL --topic T --group G --expect N [--count 100] [--block 1000]')
  process.exit(2)
}
const expected = Number(values.expect)
const count = Number(values.count)
const block = Number(values.block)

const handle = async (data) => record(data)

/** Field `data` of an entry's [field, value, ...] pairs. */
const dataOf = (pairs) => {
  for (let i = 0; i + 1 < pairs.length; i += 2) if (pairs[i] === 'data') return pairs[i + 1]
  return undefined
}

const reader = new Redis(values['redis-url'], {maxRetriesPerRequest: 0})
const acker = new Redis(values['redis-url'], {maxRetriesPerRequest: 0})
await Promise.all([reader.ping(), acker.ping()])
process.stdout.write(`${JSON.stringify({ready: true})}\n`)

const started = Date.now()
let processed = 0
const acks = []
try {
  while (processed < expected) {
    const reply = await reader.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'BLOCK', block, 'STREAMS', topic, '>')
    const entries = reply?.[0]?.[1] ?? []
    if (entries.length === 0) continue
    for (const [, pairs] of entries) await handle(JSON.parse(dataOf(pairs)))
    acks.push(acker.xack(topic, group, ...entries.map(([id]) => id)))
    processed += entries.length
  }
  await Promise.all(acks)
} finally {
  reader.disconnect()
  acker.disconnect()
}
process.stdout.write(`${JSON.stringify({processed, durationMs: Date.now() - started})}\n`)
