#!/usr/bin/env node
// The BullMQ contender of the latency scenario: a Worker whose processor records publish →
// processor-start latency (bench/handlers/latency-recorder.mjs, the recorder qctl's handler uses)
// from the job's data ({seq, t, ...}); exits once --expect jobs have completed.
//
//   node bench/bullmq-latency.mjs --redis-url URL --queue NAME --prefix P --expect N [--concurrency 1]
//
// Prints {"ready": true} once the worker is connected (it is already waiting for jobs), and at the
// end {"processed": N, "failed": F, "durationMs": ms}. Set QCTL_BENCH_LATENCY_FILE/_CAPACITY.
import {parseArgs} from 'node:util'

import {Worker} from 'bullmq'

import {record} from './handlers/latency-recorder.mjs'

const {values} = parseArgs({
  options: {
    'redis-url': {type: 'string', default: 'redis://127.0.0.1:6379'},
    queue: {type: 'string'},
    prefix: {type: 'string', default: 'bull'},
    expect: {type: 'string'},
    concurrency: {type: 'string', default: '1'},
  },
})
if (values.queue === undefined || values.expect === undefined) {
  console.error('usage: bullmq-latency.mjs --redis-url URL --queue NAME --prefix P --expect N [--concurrency 1]')
  process.exit(2)
}
const expected = Number(values.expect)
const url = new URL(values['redis-url'])
const origin = performance.timeOrigin

let processed = 0
let failed = 0
let finish
const done = new Promise((resolve) => (finish = resolve))
const worker = new Worker(values.queue, async (job) => record(job.data, origin + performance.now()), {
  connection: {host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null},
  prefix: values.prefix,
  concurrency: Number(values.concurrency),
})
worker.on('completed', () => {
  if (++processed + failed >= expected) finish()
})
worker.on('failed', () => {
  if (processed + ++failed >= expected) finish()
})
worker.on('error', (error) => console.error(`worker error: ${error.message}`))
await worker.waitUntilReady()
process.stdout.write(`${JSON.stringify({ready: true})}\n`)
const started = Date.now()
await done
await worker.close()
process.stdout.write(`${JSON.stringify({processed, failed, durationMs: Date.now() - started})}\n`)
