#!/usr/bin/env node
// The "bare keyed" anchor for the ordered scenario: what a Node user would write for key-ordered
// concurrency without a queue product (BullMQ's per-key ordering, "groups", is BullMQ Pro only).
// One ioredis connection; a consumer group on each of a partitioned topic's streams (the names are
// in `HGETALL qctl:topic:{T}` field `streams`); XREADGROUP COUNT 100 over all of them at once; a Map
// of per-key promise chains so one message per key runs at a time, in stream order; at most
// `concurrency` handlers in flight (a message whose key is free waits for a slot; one whose key is
// busy is chained behind it and takes no slot until its turn); XACK batched per stream, sent after
// each read (of what finished since). No retries, leases, fencing, reclaim or dead-lettering: a
// reference point, not a product. Exits when a read returns nothing, nothing is in flight and every
// group has nothing pending and no lag.
//
//   node bench/bare-keyed-consume.mjs --redis-url URL --topic T --group G [--concurrency 8] [--count 100] [--handler FILE]
//
// Prints {"processed": N, "durationMs": ms, "orderViolations": V} on stdout (V: messages of a key
// that started before an earlier one of the same stream had finished; must be 0).
import {resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

import {Redis} from 'ioredis'

const {values} = parseArgs({
  options: {
    'redis-url': {type: 'string', default: 'redis://127.0.0.1:6379'},
    topic: {type: 'string'},
    group: {type: 'string'},
    consumer: {type: 'string', default: `bare-keyed-${process.pid}`},
    concurrency: {type: 'string', default: '8'},
    count: {type: 'string', default: '100'},
    handler: {type: 'string'},
  },
})
const {topic, group, consumer} = values
if (topic === undefined || group === undefined) {
  console.error('usage: bare-keyed-consume.mjs --redis-url URL --topic T --group G [--concurrency 8] [--count 100] [--handler FILE]')
  process.exit(2)
}
const concurrency = Number(values.concurrency)
const count = Number(values.count)
const handle = values.handler === undefined ? async () => {} : (await import(pathToFileURL(resolve(values.handler)).href)).default

const started = Date.now()
const redis = new Redis(values['redis-url'])
const streams = JSON.parse(await redis.hget(`qctl:topic:{${topic}}`, 'streams'))
for (const stream of streams) {
  try {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM')
  } catch (error) {
    if (!String(error.message).includes('BUSYGROUP')) throw error
  }
}

/** Field `name` of an entry's [field, value, ...] pairs. */
const field = (pairs, name) => {
  for (let i = 0; i + 1 < pairs.length; i += 2) if (pairs[i] === name) return pairs[i + 1]
  return undefined
}

// A counting semaphore for the in-flight bound.
let inFlight = 0
const waiters = []
const acquire = () => (inFlight < concurrency ? (inFlight++, Promise.resolve()) : new Promise((done) => waiters.push(done)))
const release = () => {
  const next = waiters.shift()
  if (next === undefined) inFlight--
  else next()
}

/** key -> the promise of its last message (the chain's tail); deleted when the chain empties. */
const chains = new Map()
/** stream -> ids handled and not yet acknowledged. */
const toAck = new Map(streams.map((stream) => [stream, []]))
let outstanding = 0
/** The main loop's wait for `outstanding` to fall to `wakeAt`. */
let wake
let wakeAt = 0
const untilOutstanding = (at) => new Promise((done) => ((wakeAt = at), (wake = done)))
let processed = 0
let orderViolations = 0
const running = new Set()

function schedule(stream, id, pairs) {
  const key = field(pairs, 'key') ?? id
  const run = async () => {
    await acquire()
    const chainKey = `${stream}\u0000${key}`
    if (running.has(chainKey)) orderViolations++
    running.add(chainKey)
    try {
      await handle({id, key, data: JSON.parse(field(pairs, 'data'))})
    } finally {
      running.delete(chainKey)
      release()
    }
    toAck.get(stream).push(id)
    processed++
  }
  outstanding++
  const tail = chains.get(key)
  const mine = (tail === undefined ? run() : tail.then(run, run)).finally(() => {
    outstanding--
    if (chains.get(key) === mine) chains.delete(key)
    if (wake !== undefined && outstanding <= wakeAt) {
      const done = wake
      wake = undefined
      done()
    }
  })
  chains.set(key, mine)
}

function flushAcks() {
  const pipeline = redis.pipeline()
  let any = false
  for (const [stream, ids] of toAck) {
    if (ids.length === 0) continue
    pipeline.xack(stream, group, ...ids)
    toAck.set(stream, [])
    any = true
  }
  return any ? pipeline.exec() : Promise.resolve()
}

async function drained() {
  for (const stream of streams) {
    for (const reply of await redis.call('XINFO', 'GROUPS', stream)) {
      const info = {}
      for (let i = 0; i + 1 < reply.length; i += 2) info[reply[i]] = reply[i + 1]
      if (info.name === group && (Number(info.pending) !== 0 || (info.lag !== null && Number(info.lag) !== 0))) return false
    }
  }
  return true
}

const ids = streams.map(() => '>')
try {
  for (;;) {
    // Read ahead while fewer than two batches per slot wait (the bound on what is held in memory).
    if (outstanding < count * 2) {
      const reply = await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', ...streams, ...ids)
      let read = 0
      for (const [stream, entries] of reply ?? []) {
        for (const [id, pairs] of entries) schedule(stream, id, pairs)
        read += entries.length
      }
      await flushAcks()
      if (read > 0) continue
      if (outstanding === 0) {
        if (await drained()) break
      }
    }
    // Enough waiting: read again when half of it is done. Nothing to read: wait for what runs, or poll.
    if (outstanding >= count * 2) await untilOutstanding(count)
    else if (outstanding > 0) await untilOutstanding(0)
    else await new Promise((done) => setTimeout(done, 10))
  }
  await flushAcks()
} finally {
  redis.disconnect()
}
process.stdout.write(`${JSON.stringify({processed, durationMs: Date.now() - started, orderViolations})}\n`)
