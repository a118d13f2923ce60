#!/usr/bin/env node
// The BullMQ contender for the work scenario: a Worker with a no-op async processor at the given
// concurrency, on a queue filled beforehand; exits once `--expect` jobs have finished (completed, or
// failed for good). `--handler FILE` uses a module's default export (called with the job) as the
// processor instead, so BullMQ can run the same handler as `qctl work` (the work scenario's 1 ms
// handler case); `--export NAME` takes another export of it (the retry-storm scenario's `bullmq`).
// A failed attempt that BullMQ will retry (the job's `attempts` not used up) is counted as retried,
// not as finished.
//
//   node bench/bullmq-worker.mjs --redis-url URL --queue NAME --prefix P --expect N [--concurrency 8] [--handler FILE [--export NAME]]
//
// Prints {"processed": N, "failed": F, "retried": R, "durationMs": ms} on stdout (failed: for good).
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
    export: {type: 'string', default: 'default'},
  },
})
if (values.queue === undefined || values.expect === undefined) {
  console.error('usage: bullmq-worker.mjs --redis-url URL --queue NAME --prefix P --expect N [--concurrency 8]')
  process.exit(2)
}
const handle = values.handler === undefined ? async () => {} : (await import(pathToFileURL(resolve(values.handler)).href))[values.export]
if (typeof handle !== 'function') {
  console.error(`${values.handler} exports no function named ${values.export}`)
  process.exit(2)
}
const expected = Number(values.expect)
const url = new URL(values['redis-url'])

const started = Date.now()
let processed = 0
let failed = 0
let retried = 0
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
worker.on('failed', (job) => {
  // attemptsMade already counts this attempt; fewer than the job's attempts: BullMQ retries it.
  if (job !== undefined && job.attemptsMade < (job.opts.attempts ?? 1)) {
    retried++
    return
  }
  if (processed + ++failed >= expected) finish()
})
worker.on('error', (error) => console.error(`worker error: ${error.message}`))
await done
await worker.close()
process.stdout.write(`${JSON.stringify({processed, failed, retried, durationMs: Date.now() - started})}\n`)
