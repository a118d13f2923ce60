// One-off measurement (issue 18, `qctl trim`): on a private redis-server, a stream of N ~200-byte JSON
// entries with two groups (one has acknowledged everything, the other the first 90%), then
//   - `qctl trim --dry-run` (counts the entries and bytes each rule removes, inside Redis) and
//     `qctl trim --yes` (the same plan, then the atomic trim) as whole processes;
//   - the bytes qctl reports against what Redis frees: MEMORY USAGE of the stream (SAMPLES 0: every
//     node) and used_memory, before and after;
//   - the longest single script call during the plan (how long Redis is held at once), from SLOWLOG;
//   - the atomic trim script alone, as `qctl work --trim-acked` calls it every 5 s, with nothing to
//     trim, over 1 and 20 groups (its cost when a worker has nothing to do).
// Usage: node bench/measure-trim.mjs [entries]   (npm run build first)
import {execFileSync} from 'node:child_process'
import {join} from 'node:path'

import {Redis} from 'ioredis'

import {startRedisServer} from './lib/redis-server.mjs'

const ENTRIES = Number(process.argv[2] ?? '1000000')
const repoRoot = new URL('..', import.meta.url).pathname
const server = await startRedisServer({args: ['--slowlog-log-slower-than', '0', '--slowlog-max-len', '100000']})
process.on('exit', () => server.stopSync())
const redis = new Redis(server.url)
const topic = 'order.created'
const payload = (i) => JSON.stringify({orderId: `ord-${String(i).padStart(9, '0')}`, customerId: `cus-${i % 5000}`, total: (i % 997) + 0.99, currency: 'EUR', items: [{sku: `sku-${i % 300}`, qty: 1 + (i % 3)}], createdAt: '2026-12-04T10:00:00.000Z'})

for (let start = 0; start < ENTRIES; start += 5000) {
  const pipeline = redis.pipeline()
  for (let i = start; i < Math.min(ENTRIES, start + 5000); i++) pipeline.xadd(topic, '*', 'data', payload(i))
  await pipeline.exec()
}
await redis.xgroup('CREATE', topic, 'all', '$')
await redis.xgroup('CREATE', topic, 'most', '0')
// `most` is delivered and acknowledges the first 90%.
const cut = Math.floor(ENTRIES * 0.9)
for (let done = 0; done < cut; ) {
  const reply = await redis.xreadgroup('GROUP', 'most', 'c', 'COUNT', Math.min(10_000, cut - done), 'STREAMS', topic, '>')
  const ids = reply[0][1].map(([id]) => id)
  await redis.xack(topic, 'most', ...ids)
  done += ids.length
}

const memory = async () => ({stream: Number(await redis.call('MEMORY', 'USAGE', topic, 'SAMPLES', '0')), used: Number((/used_memory:(\d+)/.exec(await redis.info('memory')) ?? [])[1])})
const qctl = (...args) => {
  const started = process.hrtime.bigint()
  const out = execFileSync(process.execPath, [join(repoRoot, 'bin/run.js'), ...args, '-u', server.url, '--json'], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024})
  return {ms: Number(process.hrtime.bigint() - started) / 1e6, result: JSON.parse(out)}
}
const longestScriptMs = async () => {
  const rows = await redis.call('SLOWLOG', 'GET', '-1')
  const ms = rows.filter((row) => /^EVAL/i.test(String(row[3][0]))).map((row) => Number(row[2]) / 1000).sort((a, b) => a - b)
  return {calls: ms.length, medianMs: ms[Math.floor(ms.length / 2)], longestMs: ms.at(-1)}
}

await redis.call('SLOWLOG', 'RESET')
const dry = qctl('trim', topic, '--maxlen', '0', '--dry-run')
const dryScripts = await longestScriptMs()
const before = await memory()
await redis.call('SLOWLOG', 'RESET')
const real = qctl('trim', topic, '--maxlen', '0', '--yes')
const realScripts = await longestScriptMs()
const after = await memory()

// The worker's call: nothing to trim (the line at the stream's start), 1 and 20 groups.
const workerCall = async (groups) => {
  const stream = `worker.${groups}`
  const pipeline = redis.pipeline()
  for (let i = 0; i < 1000; i++) pipeline.xadd(stream, '*', 'data', payload(i))
  await pipeline.exec()
  for (let g = 0; g < groups; g++) await redis.xgroup('CREATE', stream, `g${g}`, '0')
  await redis.call('SLOWLOG', 'RESET')
  const {trimBehindGroups} = await import('../dist/core/trim/line.js')
  const started = process.hrtime.bigint()
  const rounds = 2000
  for (let i = 0; i < rounds; i++) await trimBehindGroups(redis, stream, {mode: 'trim', rule: '+', whenNoGroups: 'keep', dueGroups: []})
  const clientUs = Number(process.hrtime.bigint() - started) / 1e3 / rounds
  const rows = await redis.call('SLOWLOG', 'GET', '-1')
  const serverUs = rows.filter((row) => /^EVAL/i.test(String(row[3][0]))).map((row) => Number(row[2]))
  return {groups, clientUs, serverUsMedian: serverUs.sort((a, b) => a - b)[Math.floor(serverUs.length / 2)]}
}
const calls = [await workerCall(1), await workerCall(20)]

const removed = real.result.totals.removed
console.log(JSON.stringify({
  entries: ENTRIES,
  dryRun: {ms: Math.round(dry.ms), ruleEntries: dry.result.totals.rule.entries, safeEntries: dry.result.totals.safe.entries, scriptCalls: dryScripts.calls, medianScriptMs: dryScripts.medianMs, longestScriptMs: dryScripts.longestMs},
  trim: {ms: Math.round(real.ms), removed, reportedBytes: real.result.totals.safe.bytes, longestScriptMs: realScripts.longestMs},
  memory: {streamBefore: before.stream, streamAfter: after.stream, streamFreed: before.stream - after.stream, usedFreed: before.used - after.used, freedPerEntry: Math.round((before.stream - after.stream) / removed), reportedPerEntry: Math.round(real.result.totals.safe.bytes / removed)},
  workerCall: calls,
}, null, 2))
redis.disconnect()
await server.stop()
