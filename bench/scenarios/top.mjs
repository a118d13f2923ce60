// Scenario "top": the cost of watching. `qctl top --interval 1s` on its live screen (in a
// pseudo-terminal, 200 × 60) over 50 topics `bench.top.NN` of 1,000 ~200-byte entries with 3
// consumer groups each, while a load runs: ~200 msg/s XADDed round-robin across the topics, a bare
// XREADGROUP+XACK consumer for g1 (g2 and g3 have no consumer: their lag grows; g2 holds 10 pending
// entries per topic). The load runs in this process on its own connections; only top's process is
// measured.
//   CPU: utime+stime of top's node process from /proc/<pid>/stat over the window, as % of one core.
//   Round trips: top talks to Redis through bench/lib/round-trip-proxy.mjs, which counts the turns
//   of the conversation (a client send that follows a server reply); per refresh = round trips in
//   the window / (window / interval).
// Each round starts top (`node bin/run.js top -u <proxy> --interval 1s`, every stream in the
// database), waits for the screen to show all 150 rows, warms up 3 s, then measures a window of 30
// refreshes (--quick: 10) that starts half an interval after a refresh's round trip (so each
// refresh falls inside it once), checks the screen is still live, quits with `q` and checks the
// exit status. Target (issues 5 and 6): under 5% of one core, one round trip per refresh.
import {join} from 'node:path'

import {Redis} from 'ioredis'

import {makeRecord, prng} from '../lib/ndjson-data.mjs'
import {deleteMatching} from '../lib/redis-keys.mjs'
import {processCpuSeconds, processMemory, spawnInPty, terminalEnv} from '../lib/pty-child.mjs'
import {startRoundTripProxy} from '../lib/round-trip-proxy.mjs'
import {interleavedRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {markdownTable, renderTargetTable} from '../lib/table.mjs'

export const name = 'top'

const TOPIC_COUNT = 50
const GROUPS = ['g1', 'g2', 'g3']
/** Entries g2 reads per topic at setup and never acknowledges, so it shows pending entries. */
const G2_PENDING = 10
const INTERVAL_MS = 1000
const WARMUP_MS = 3000
/** The background load: LOAD_BATCH XADDs every LOAD_TICK_MS (~200 msg/s). */
const LOAD_TICK_MS = 50
const LOAD_BATCH = 10
const COLS = 200
const ROWS = 60
const TARGET_CPU_PERCENT = 5
const TARGET_ROUND_TRIPS = 1
const CHUNK = 1000

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
// eslint-disable-next-line no-control-regex
const plain = (text) => text.replaceAll(/\u001B\[[0-9;?]*[ -/]*[@-~]/g, '')


/**
 * The background load: a producer (LOAD_BATCH XADDs every LOAD_TICK_MS, round-robin over the
 * topics) and a bare consumer of g1 (XREADGROUP COUNT 100 BLOCK 100 over every topic, one
 * pipelined XACK per batch). Returns {counts() => {added, acked}, stop()}.
 */
function startLoad(redisUrl, topics, records) {
  const producer = new Redis(redisUrl, {maxRetriesPerRequest: 0})
  const consumer = new Redis(redisUrl, {maxRetriesPerRequest: 0})
  let stopped = false
  let added = 0
  let acked = 0
  let sequence = 0
  const produce = async () => {
    let next = performance.now()
    while (!stopped) {
      const pipeline = producer.pipeline()
      for (let i = 0; i < LOAD_BATCH; i++, sequence++) pipeline.xadd(topics[sequence % topics.length], '*', 'data', records[sequence % records.length])
      for (const [error] of await pipeline.exec()) if (error) throw error
      added += LOAD_BATCH
      next += LOAD_TICK_MS
      await sleep(Math.max(0, next - performance.now()))
    }
  }
  const consume = async () => {
    while (!stopped) {
      const reply = await consumer.xreadgroup('GROUP', 'g1', 'bench-load', 'COUNT', 100, 'BLOCK', 100, 'STREAMS', ...topics, ...topics.map(() => '>'))
      if (reply === null) continue
      const pipeline = consumer.pipeline()
      for (const [topic, entries] of reply) if (entries.length > 0) pipeline.xack(topic, 'g1', ...entries.map(([id]) => id))
      for (const [error, count] of await pipeline.exec()) {
        if (error) throw error
        acked += count
      }
    }
  }
  let failure
  const running = Promise.all([produce(), consume()]).catch((error) => {
    stopped = true
    failure = error
  })
  return {
    /** Messages added and acknowledged so far; throws if the load has failed. */
    counts() {
      if (failure !== undefined) throw new Error(`top: the background load failed: ${failure.message}`)
      return {added, acked}
    },
    async stop() {
      stopped = true
      await running
      producer.disconnect()
      consumer.disconnect()
    },
  }
}

/** Resolves at the next round trip the proxy sees (or rejects after `timeoutMs`). */
function nextRoundTrip(proxy, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`top: no round trip to Redis within ${timeoutMs} ms`))
    }, timeoutMs)
    const off = proxy.onRoundTrip(() => {
      clearTimeout(timer)
      off()
      resolve()
    })
  })
}

export async function run(ctx) {
  const {quick, repoRoot, redisUrl, admin, log} = ctx
  const entries = ctx.options.lines ?? 1000
  const rounds = ctx.options.rounds ?? (quick ? 2 : 3)
  const windowRefreshes = quick ? 10 : 30
  const topics = Array.from({length: TOPIC_COUNT}, (_, index) => `bench.top.${String(index).padStart(2, '0')}`)
  const expectedRows = TOPIC_COUNT * GROUPS.length
  const profileArgs = ctx.options.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', ctx.options.profileDir]
  const random = prng(0x70b ^ entries)
  const records = Array.from({length: Math.max(entries, 1000)}, (_, index) => makeRecord(index, random))
  log(`top: ${TOPIC_COUNT} topics × ${GROUPS.length} groups, ${entries.toLocaleString('en-US')} entries each, load ~${(LOAD_BATCH * 1000) / LOAD_TICK_MS} msg/s, --interval ${INTERVAL_MS / 1000}s, ${windowRefreshes} s window after ${WARMUP_MS / 1000} s warm-up, ${rounds} rounds`)

  const otherStreams = (await admin.scan('0', 'COUNT', 10_000, 'TYPE', 'stream'))[1]
  if (otherStreams.length > 0) throw new Error(`top: the bench database already holds streams (${otherStreams.slice(0, 5).join(', ')}); top would show them too`)
  const keysBefore = await admin.dbsize()

  const url = new URL(redisUrl)
  let proxy
  let load
  try {
    // The topics, their groups, g2's pending entries (not timed).
    for (const topic of topics) {
      await admin.del(topic)
      for (let start = 0; start < entries; start += CHUNK) {
        const pipeline = admin.pipeline()
        for (const record of records.slice(start, Math.min(entries, start + CHUNK))) pipeline.xadd(topic, '*', 'data', record)
        for (const [error] of await pipeline.exec()) if (error) throw error
      }
      for (const group of GROUPS) await admin.xgroup('CREATE', topic, group, '0', 'MKSTREAM')
      await admin.xreadgroup('GROUP', 'g2', 'bench-idle', 'COUNT', G2_PENDING, 'STREAMS', topic, '>')
    }
    // g1's consumer starts with the backlog: let it catch up before any round.
    load = startLoad(redisUrl, topics, records)
    const caughtUp = Date.now() + 60_000
    for (;;) {
      const lags = await Promise.all(topics.map(async (topic) => {
        const groups = await admin.call('XINFO', 'GROUPS', topic)
        const g1 = groups.map((reply) => Object.fromEntries(Array.from({length: reply.length / 2}, (_, i) => [reply[2 * i], reply[2 * i + 1]]))).find((group) => group.name === 'g1')
        return Number(g1?.lag ?? 0)
      }))
      if (lags.reduce((sum, lag) => sum + lag, 0) <= 2 * LOAD_BATCH * 5) break
      if (Date.now() > caughtUp) throw new Error('top: the load consumer did not catch up with g1\'s backlog within 60 s')
      await sleep(200)
    }
    proxy = await startRoundTripProxy({host: url.hostname, port: Number(url.port)})
    log(`top: round-trip proxy on ${proxy.url} -> ${redisUrl}`)

    const qctl = {
      name: 'qctl',
      describe: (s) =>
        `${(s.windowMs / 1000).toFixed(2)} s window: CPU ${s.cpuSeconds.toFixed(2)} s = ${s.cpuPercent.toFixed(2)}% of one core; ` +
        `${s.roundTrips} round trips / ${s.refreshes.toFixed(2)} refreshes = ${s.roundTripsPerRefresh.toFixed(2)} per refresh ` +
        `(${Math.round(s.commandsPerRoundTrip)} commands each, ${s.newConnections} new connections); ` +
        `load ${Math.round(s.loadAddedPerSecond)} msg/s in, ${Math.round(s.loadAckedPerSecond)} acked; ` +
        `peak RSS ${(s.peakRssKiB / 1024).toFixed(0)} MiB; ${s.exit}`,
      async run({round}) {
        const pty = await spawnInPty(process.execPath, [...profileArgs, join(repoRoot, 'bin/run.js'), 'top', '-u', proxy.url, '--interval', `${INTERVAL_MS / 1000}s`], {
          cwd: repoRoot,
          env: terminalEnv(),
          cols: COLS,
          rows: ROWS,
        })
        let quitSent = false
        try {
          const shown = await pty.waitForOutput((out) => out.includes('\u001B[?1049h') && out.includes(`rows: ${expectedRows}`), 20_000)
          if (!shown) throw new Error(`top (round ${round}): no live screen with ${expectedRows} rows within 20 s; terminal output:\n${plain(pty.output()).slice(-3000)}`)
          await sleep(WARMUP_MS)
          // Start half an interval after a refresh's round trip, so the window holds each of its
          // refreshes exactly once.
          await nextRoundTrip(proxy, 3 * INTERVAL_MS)
          await sleep(INTERVAL_MS / 2)
          const startCpu = processCpuSeconds(pty.pid)
          const startNet = proxy.stats()
          const startLoadCounts = load.counts()
          const started = performance.now()
          await sleep(windowRefreshes * INTERVAL_MS)
          const endCpu = processCpuSeconds(pty.pid)
          const windowMs = performance.now() - started
          const endNet = proxy.stats()
          const endLoadCounts = load.counts()
          const memory = processMemory(pty.pid)
          if (startCpu === undefined || endCpu === undefined) throw new Error(`top (round ${round}): the process ${pty.pid} went away during the window:\n${plain(pty.output()).slice(-3000)}`)

          const output = pty.output()
          const lastFrame = plain(output.slice(output.lastIndexOf('qctl top')))
          if (!lastFrame.includes('● live') || !lastFrame.includes(`rows: ${expectedRows}`)) {
            throw new Error(`top (round ${round}): at the end of the window the screen is not live with ${expectedRows} rows:\n${lastFrame.slice(0, 3000)}`)
          }

          const quitAt = performance.now()
          pty.type('q')
          quitSent = true
          const exit = await Promise.race([pty.exited, sleep(10_000).then(() => undefined)])
          let exitText
          let exitOk = false
          if (exit === undefined) {
            pty.kill('SIGKILL')
            await pty.exited
            exitText = 'did not exit within 10 s of q (killed)'
          } else {
            exitOk = exit.code === 0
            exitText = `exit ${exit.code ?? exit.signal} ${Math.round(performance.now() - quitAt)} ms after q`
          }
          if (!exitOk) log(`  warning: top (round ${round}) ${exitText}; terminal output:\n${plain(pty.output()).slice(-2000)}\n${pty.stderr()}`)

          const roundTrips = endNet.roundTrips - startNet.roundTrips
          const commands = endNet.commands - startNet.commands
          const refreshes = windowMs / INTERVAL_MS
          const cpuSeconds = endCpu - startCpu
          return {
            windowMs,
            refreshes,
            roundTrips,
            roundTripsPerRefresh: roundTrips / refreshes,
            commands,
            commandsPerRoundTrip: roundTrips === 0 ? 0 : commands / roundTrips,
            newConnections: endNet.connections - startNet.connections,
            cpuSeconds,
            cpuPercent: (cpuSeconds / (windowMs / 1000)) * 100,
            startupCpuSeconds: startCpu,
            peakRssKiB: memory?.peakRssKiB,
            loadAddedPerSecond: (endLoadCounts.added - startLoadCounts.added) / (windowMs / 1000),
            loadAckedPerSecond: (endLoadCounts.acked - startLoadCounts.acked) / (windowMs / 1000),
            exit: exitText,
            exitOk,
          }
        } finally {
          if (!quitSent) {
            pty.kill('SIGKILL')
            await pty.exited
          }
        }
      },
    }

    const result = await interleavedRounds({rounds, contenders: [qctl], log})
    const samples = result.samples.qctl
    const label = `top, ${TOPIC_COUNT} topics × ${GROUPS.length} groups, --interval ${INTERVAL_MS / 1000}s, ${windowRefreshes} s window`
    const cpu = summary(samples.map((s) => s.cpuPercent))
    const trips = summary(samples.map((s) => s.roundTripsPerRefresh))
    const table = renderTargetTable([
      {scenario: label, measure: 'CPU, % of one core', ...cpu, format: (v) => `${v.toFixed(2)}%`, target: `< ${TARGET_CPU_PERCENT}%`, met: cpu.median < TARGET_CPU_PERCENT},
      {
        scenario: label,
        measure: 'Redis round trips per refresh',
        ...trips,
        format: (v) => v.toFixed(2),
        target: `${TARGET_ROUND_TRIPS.toFixed(1)}`,
        met: Number(trips.median.toFixed(2)) <= TARGET_ROUND_TRIPS,
      },
    ])
    log(`\n${table}`)
    const failedExits = samples.filter((s) => !s.exitOk).length

    const perRun = markdownTable(
      ['round', 'window s', 'refreshes', 'round trips', 'per refresh', 'commands per round trip', 'new conns', 'CPU s', 'CPU % of one core', 'CPU s before window', 'peak RSS MiB', 'load in/acked msg/s', 'quit'],
      result.rounds.map(({round, samples: {qctl: s}}) => [
        String(round),
        (s.windowMs / 1000).toFixed(2),
        s.refreshes.toFixed(2),
        String(s.roundTrips),
        s.roundTripsPerRefresh.toFixed(2),
        String(Math.round(s.commandsPerRoundTrip)),
        String(s.newConnections),
        s.cpuSeconds.toFixed(2),
        `${s.cpuPercent.toFixed(2)}%`,
        s.startupCpuSeconds.toFixed(2),
        s.peakRssKiB ? (s.peakRssKiB / 1024).toFixed(0) : '–',
        `${Math.round(s.loadAddedPerSecond)} / ${Math.round(s.loadAckedPerSecond)}`,
        s.exit,
      ]),
      ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    )
    return {
      rows: [],
      table,
      details: [
        '### top: per run',
        '',
        perRun,
        '',
        ...(failedExits > 0 ? [`> warning: top did not exit 0 after \`q\` in ${failedExits} of ${samples.length} runs (see "quit").`, ''] : []),
        `\`node bin/run.js top -u <proxy> --interval ${INTERVAL_MS / 1000}s\` (every stream in the database) in a ${COLS} × ${ROWS} pseudo-terminal (\`script\`), over ${TOPIC_COUNT} streams of ${entries.toLocaleString('en-US')} ~200-byte entries with ${GROUPS.length} groups each, while ~${(LOAD_BATCH * 1000) / LOAD_TICK_MS} msg/s are XADDed round-robin and a bare XREADGROUP+XACK loop consumes g1 (g2 holds ${G2_PENDING} pending entries per topic, g3 only lags); the load runs in the bench process. Each run waits for the screen to show all ${expectedRows} rows, warms up ${WARMUP_MS / 1000} s, then measures ${windowRefreshes} refresh intervals starting half an interval after a refresh. CPU: utime+stime of top's node process (/proc/<pid>/stat) over the window, as a share of one core; "CPU s before window": start-up, the first snapshot and the warm-up. Round trips: counted by a TCP proxy between top and Redis (bench/lib/round-trip-proxy.mjs) as turns of the conversation, i.e. a burst of client→server bytes after the server has replied; per refresh = round trips / (window / interval). Quit: \`q\` typed into the terminal; top must exit 0.`,
      ].join('\n'),
    }
  } finally {
    await load?.stop()
    await proxy?.close()
    // A failed setup or load leaves topics behind: delete them whatever happened.
    await deleteMatching(admin, 'bench.top.*')
    await deleteMatching(admin, '{bench.top.*}:*')
    const keysAfter = await admin.dbsize()
    if (keysAfter !== keysBefore) log(`warning: top: ${keysAfter - keysBefore} keys left behind in redis`)
  }
}
