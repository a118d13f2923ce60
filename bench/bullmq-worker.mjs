#!/usr/bin/env node
// The BullMQ contender for the work scenario: a Worker with a no-op async processor at the given
// concurrency, on a queue filled beforehand; exits once `--expect` jobs have completed. `--handler
// FILE` uses a module's default export (called with the job) as the processor instead, so BullMQ
// can run the same handler as `qctl work` (the work scenario's 1 ms handler case).
//
//   node bench/bullmq-worker.mjs --redis-url URL --queue NAME --prefix P --expect N [--concurrency 8] [--handler FILE]
//
// Prints {"processed": N, "failed": F, "durationMs": ms} on stdout.
import {resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

import {Worker} from 'bullmq'

const {values} = parseArgs({
  options: {
    'redis-url': {type: 'string', default: 'redis://127.0.0.1:6379'},
    queue: {type: 'string'},
    prefix: {type: 'string', default: 'bull'},
    expect: {type: 'string'},
    concurrency: {type: 'string', default: '8'},
    handler: {type: 'string'},
  },
})
if (values.queue === undefined || values.expect === undefined) {
  console.error('usage: bullmq-worker.mjs --redis-url URL --queue NAME --prefix P --expect N [--concurrency 8]')
  process.exit(2)
}
const handle = values.handler === undefined ? async () => {} : (await import(pathToFileURL(resolve(values.handler)).href)).default
const expected = Number(values.expect)
const url = new URL(values['redis-url'])

const started = Date.now()
let processed = 0
let failed = 0
let finish
const done = new Promise((resolve) => (finish = resolve))
const worker = new Worker(values.queue, (job) => handle(job), {
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
await done
await worker.close()
process.stdout.write(`${JSON.stringify({processed, failed, durationMs: Date.now() - started})}\n`)
