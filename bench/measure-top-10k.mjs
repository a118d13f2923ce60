// One-off measurement (issue 15, point 9): the live `qctl top` over 10,000 topics (one group each,
// a few entries, one consumer), CPU of top's process over a window of refreshes and round trips per
// refresh through the round-trip proxy. The CPU budget stretches top's interval (a refresh every ~15 s
// at 10,000 topics), so refreshes are counted apart from round trips: a refresh is a burst of round
// trips with no gap over 250 ms (one pipeline; more than one round trip only if the proxy saw replies
// start before the pipeline was fully written). The window should hold several refreshes.
// Usage: node bench/measure-top-10k.mjs REDIS_URL [topics] [seconds]
import {join} from 'node:path'

import {Redis} from 'ioredis'

import {processCpuSeconds, spawnInPty} from './lib/pty-child.mjs'
import {startRoundTripProxy} from './lib/round-trip-proxy.mjs'

const [redisUrl, topicArg = '10000', secondsArg = '30'] = process.argv.slice(2)
const TOPICS = Number(topicArg)
const WINDOW_S = Number(secondsArg)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const repoRoot = new URL('..', import.meta.url).pathname

const admin = new Redis(redisUrl)
for (let start = 0; start < TOPICS; start += 1000) {
  const pipeline = admin.pipeline()
  for (let i = start; i < Math.min(TOPICS, start + 1000); i++) {
    const topic = `tenant.${String(i).padStart(5, '0')}`
    pipeline.xadd(topic, '*', 'data', '{}')
    pipeline.xgroup('CREATE', topic, 'g', '0')
    pipeline.xreadgroup('GROUP', 'g', 'c', 'COUNT', 1, 'STREAMS', topic, '>')
  }
  await pipeline.exec()
}
const url = new URL(redisUrl)
const proxy = await startRoundTripProxy({host: url.hostname, port: Number(url.port)})
const pty = await spawnInPty(process.execPath, [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.PROF] : []), join(repoRoot, 'bin/run.js'), 'top', '-u', proxy.url, '--interval', '1s'], {cwd: repoRoot, cols: 200, rows: 60})
const started = Date.now()
while (!pty.output().includes(`rows: ${TOPICS}`)) {
  if (Date.now() - started > 60_000) throw new Error(`no screen with ${TOPICS} rows:\n${pty.output().slice(-2000)}`)
  await sleep(200)
}
await sleep(3000)
// The window runs from the start of one refresh (its round trip) to the start of a later one: whole
// refresh cycles, so the CPU share does not depend on where the window cuts a ~20 s cycle.
const tripTimes = []
let tripSeen = () => {}
const stopListening = proxy.onRoundTrip((at) => {
  tripTimes.push(at)
  tripSeen()
})
const nextTrip = () => new Promise((resolve) => (tripSeen = resolve))
await nextTrip()
const cpuBefore = processCpuSeconds(pty.pid)
const tripsBefore = proxy.stats().roundTrips - 1
const t0 = performance.now()
const firstTrip = tripTimes.length - 1
// Scroll, sort and select while measuring: a user at work.
for (let s = 0; s < WINDOW_S; s++) {
  if (s === 5) pty.type('s')
  if (s === 10) for (let i = 0; i < 40; i++) pty.type('j')
  await sleep(1000)
}
await nextTrip()
const seconds = (performance.now() - t0) / 1000
const cpu = processCpuSeconds(pty.pid) - cpuBefore
// The last round trip starts the next cycle: not counted.
const trips = proxy.stats().roundTrips - tripsBefore - 1
stopListening()
const cycle = tripTimes.slice(firstTrip, -1)
let refreshes = 0
for (let i = 0; i < cycle.length; i++) if (i === 0 || cycle[i] - cycle[i - 1] > 250) refreshes++
// The interval in force, as the header says it (the last one drawn).
const intervals = [...pty.output().matchAll(/every ([^ ]+(?: \(CPU budget; --interval [^)]+\))?)/g)]
const screenOk = pty.output().includes('● live')
pty.type('q')
const exit = await pty.exited
console.log(JSON.stringify({topics: TOPICS, seconds: Number(seconds.toFixed(1)), cpuPercentOfOneCore: Number(((cpu / seconds) * 100).toFixed(2)), refreshes, roundTrips: trips, roundTripsPerRefresh: refreshes === 0 ? null : Number((trips / refreshes).toFixed(2)), secondsPerRefresh: refreshes === 0 ? null : Number((seconds / refreshes).toFixed(1)), cpuSecondsPerRefresh: refreshes === 0 ? null : Number((cpu / refreshes).toFixed(2)), header: intervals.at(-1)?.[0] ?? null, live: screenOk, exit}))
await proxy.close()
admin.disconnect()
