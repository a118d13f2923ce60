#!/usr/bin/env node
// The publisher of the latency scenario: one message every 1/rate s, on a steady schedule (not
// bursts), each stamped with its send time, until --count messages are sent.
//
//   node bench/latency-publisher.mjs --redis-url URL --mode stream --topic T --count N [--rate 1000] [--warmup W]
//   node bench/latency-publisher.mjs --redis-url URL --mode bullmq --queue Q --prefix P --count N [--rate 1000] [--warmup W]
//
// mode stream: `XADD T * data <json>`, a plain qctl message (wire format: field `data` holds the
// JSON payload); mode bullmq: `Queue.add('latency', <object>, {removeOnComplete: true})`. The
// payload is {"seq": i, "t": <send time>, ...an order record of ~200 B}; the send time is
// performance.timeOrigin + performance.now() (epoch ms with µs decimals), taken right before
// the client call, so the client library's own cost of sending counts as latency.
//
// Scheduling: message i is due at start + i/rate, by absolute time, so the average rate holds even
// when one send is late. Between sends the process sleeps in Atomics.wait (sub-millisecond
// timeouts, unlike setTimeout) until shortly before the due time, spins the rest (≤ SPIN_MS), sends
// without awaiting the reply, then yields to the event loop once (setImmediate) so replies are
// read. A send that is late is sent at once (no catch-up burst beyond that one message).
//
// Prints one JSON line: {sent, errors, durationMs, rate, measured: {count, rate, intervalP50,
// intervalP99, intervalMax, late, lateMax}} where `measured` covers the messages after the first
// --warmup (the window the scenario keeps), `late` counts sends more than LATE_MS after their due
// time, and interval* are the gaps between consecutive sends in ms.
import {setImmediate as yieldToLoop} from 'node:timers/promises'
import {parseArgs} from 'node:util'

import {Queue} from 'bullmq'
import {Redis} from 'ioredis'

import {makeRecord, prng} from './lib/ndjson-data.mjs'

const SPIN_MS = 0.15
const LATE_MS = 0.2

const {values} = parseArgs({
  options: {
    'redis-url': {type: 'string', default: 'redis://127.0.0.1:6379'},
    mode: {type: 'string', default: 'stream'},
    topic: {type: 'string'},
    queue: {type: 'string'},
    prefix: {type: 'string', default: 'bull'},
    count: {type: 'string'},
    rate: {type: 'string', default: '1000'},
    warmup: {type: 'string', default: '0'},
  },
})
const count = Number(values.count)
const rate = Number(values.rate)
const warmup = Number(values.warmup)
const mode = values.mode
if (!(count > 0) || !(rate > 0) || (mode === 'stream' && values.topic === undefined) || (mode === 'bullmq' && values.queue === undefined) || !['stream', 'bullmq'].includes(mode)) {
  console.error('usage: latency-publisher.mjs --redis-url URL (--mode stream --topic T | --mode bullmq --queue Q --prefix P) --count N [--rate 1000] [--warmup W]')
  process.exit(2)
}
const periodMs = 1000 / rate

// ~200-byte order records, cycled; as JSON text (stream) or objects (bullmq).
const random = prng(0x1a7e)
const recordTexts = Array.from({length: 1000}, (_, index) => makeRecord(index, random))
const recordTails = recordTexts.map((text) => text.slice(1)) // without the opening brace
const recordObjects = recordTexts.map((text) => JSON.parse(text))

const url = new URL(values['redis-url'])
let redis
let queue
if (mode === 'stream') {
  redis = new Redis(values['redis-url'], {maxRetriesPerRequest: 0})
  await redis.ping()
} else {
  queue = new Queue(values.queue, {connection: {host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null}, prefix: values.prefix})
  await queue.waitUntilReady()
}

const origin = performance.timeOrigin
const sendTimes = new Float64Array(count)
const lateBy = new Float64Array(count)
let errors = 0
let firstError
let outstanding = 0
let settle
const onReply = () => {
  if (--outstanding === 0 && settle !== undefined) settle()
}
const onError = (error) => {
  errors++
  firstError ??= error
  onReply()
}

const sync = new Int32Array(new SharedArrayBuffer(4))
const start = performance.now() + 5
for (let i = 0; i < count; i++) {
  const due = start + i * periodMs
  let wait = due - performance.now()
  if (wait > SPIN_MS) Atomics.wait(sync, 0, 0, wait - SPIN_MS)
  while (performance.now() < due) {
    // spin the last stretch
  }
  const now = performance.now()
  const t = origin + now
  outstanding++
  if (mode === 'stream') {
    redis.xadd(values.topic, '*', 'data', `{"seq":${i},"t":${t},${recordTails[i % recordTails.length]}`).then(onReply, onError)
  } else {
    queue.add('latency', {seq: i, t, ...recordObjects[i % recordObjects.length]}, {removeOnComplete: true}).then(onReply, onError)
  }
  sendTimes[i] = now
  lateBy[i] = now - due
  await yieldToLoop()
}
const endedAt = performance.now()
if (outstanding > 0) await new Promise((resolve) => (settle = resolve))
if (mode === 'stream') await redis.quit()
else await queue.close()

const sortedAsc = (array) => Float64Array.from(array).sort()
const pick = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
const first = Math.min(warmup, count - 1)
const gaps = new Float64Array(Math.max(0, count - first - 1))
for (let i = first + 1; i < count; i++) gaps[i - first - 1] = sendTimes[i] - sendTimes[i - 1]
const sortedGaps = sortedAsc(gaps)
let late = 0
let lateMax = 0
for (let i = first; i < count; i++) {
  if (lateBy[i] > LATE_MS) late++
  lateMax = Math.max(lateMax, lateBy[i])
}
const round3 = (value) => Math.round(value * 1000) / 1000
const result = {
  sent: count,
  errors,
  firstError: firstError === undefined ? undefined : String(firstError.message ?? firstError),
  durationMs: round3(endedAt - sendTimes[0]),
  rate: round3(((count - 1) * 1000) / (sendTimes[count - 1] - sendTimes[0])),
  measured: {
    count: count - first,
    rate: round3(((count - first - 1) * 1000) / (sendTimes[count - 1] - sendTimes[first])),
    intervalP50: round3(pick(sortedGaps, 0.5)),
    intervalP99: round3(pick(sortedGaps, 0.99)),
    intervalMax: round3(sortedGaps[sortedGaps.length - 1]),
    late,
    lateMax: round3(lateMax),
  },
}
process.stdout.write(`${JSON.stringify(result)}\n`)
if (errors > 0) process.exitCode = 1
