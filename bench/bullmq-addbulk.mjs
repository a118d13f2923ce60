#!/usr/bin/env node
// The BullMQ contender for the publish scenario: stream an NDJSON file into a queue with
// Queue.addBulk, 1000 jobs per call (each line JSON-parsed into the job's data, as a BullMQ user
// would pass an object; job name "order", removeOnComplete as in the work scenario).
//
//   node bench/bullmq-addbulk.mjs --redis-url URL --queue NAME --prefix P FILE [--batch 1000]
//
// Prints {"published": N, "durationMs": ms} on stdout.
import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'
import {parseArgs} from 'node:util'

import {Queue} from 'bullmq'

const {values, positionals} = parseArgs({
  allowPositionals: true,
  options: {
    'redis-url': {type: 'string', default: 'redis://127.0.0.1:6379'},
    queue: {type: 'string'},
    prefix: {type: 'string', default: 'bull'},
    batch: {type: 'string', default: '1000'},
  },
})
const [file] = positionals
if (values.queue === undefined || file === undefined) {
  console.error('usage: bullmq-addbulk.mjs --redis-url URL --queue NAME --prefix P FILE [--batch 1000]')
  process.exit(2)
}
const batchSize = Number(values.batch)
const url = new URL(values['redis-url'])

const started = Date.now()
const queue = new Queue(values.queue, {
  connection: {host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null},
  prefix: values.prefix,
})
let published = 0
let jobs = []
const flush = async () => {
  await queue.addBulk(jobs)
  published += jobs.length
  jobs = []
}
try {
  for await (const line of createInterface({input: createReadStream(file), crlfDelay: Infinity})) {
    if (line.length === 0) continue
    jobs.push({name: 'order', data: JSON.parse(line), opts: {removeOnComplete: true}})
    if (jobs.length === batchSize) await flush()
  }
  if (jobs.length > 0) await flush()
} finally {
  await queue.close()
}
process.stdout.write(`${JSON.stringify({published, durationMs: Date.now() - started})}\n`)
