// Scenario "latency": publish → handler start, at a steady 1,000 messages/s, for 10 s
// (--quick: 3 s) after a 2 s warm-up (--quick: 1 s) whose messages are discarded; 3 interleaved
// rounds (--quick: 1, and only the concurrency-1 contenders).
//   publisher: bench/latency-publisher.mjs, a child process on its own connection: one message
//     every 1 ms by absolute schedule (sleeps in Atomics.wait, spins the last 0.15 ms), each
//     stamped with its send time (performance.timeOrigin + performance.now(), epoch ms with µs
//     decimals; processes on one machine agree on it to a few µs). For qctl and bare a plain qctl
//     message (`XADD T * data {"seq":i,"t":...,<~200 B order>}`); for BullMQ `Queue.add`.
//   qctl:   `node bin/run.js work bench/handlers/latency-recorder.mjs --topic T --group G
//            --concurrency C --max-messages N --json` (C = 1 and 8)
//   bare:   bench/bare-latency.mjs (XREADGROUP COUNT 100 BLOCK 1000 on its own connection, XACK per
//           batch on a second one, JSON.parse of `data`, an async handler)
//   bullmq: bench/bullmq-latency.mjs (BullMQ Worker, concurrency C = 1 and 8)
// Every consumer records `now - t` at the start of its handler/processor, by `seq`, with the same
// recorder (bench/handlers/latency-recorder.mjs), and writes the samples at exit. Each run: fresh
// stream + group (created at `$`) or fresh BullMQ prefix; consumer started and waited for (its
// "start"/"ready" line); publisher run; consumer exits by itself after the last message. Checked:
// every measured seq seen exactly once, publisher errors 0. Keys deleted afterwards.
// Targets (issue 6): qctl p50 ≤ 0.1 ms, p99 ≤ 0.5 ms.
import {readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Queue} from 'bullmq'

import {runNode} from '../lib/child.mjs'
import {startCpuMeter} from '../lib/cpu-meter.mjs'
import {processCpuSeconds} from '../lib/pty-child.mjs'
import {spawnWithReady} from '../lib/ready-child.mjs'
import {deleteMatching} from '../lib/redis-keys.mjs'
import {interleavedRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {markdownTable} from '../lib/table.mjs'

export const name = 'latency'

const RATE = 1000
const TARGETS = {p50: 0.1, p99: 0.5}
/** Design goals of ../shared/PERFORMANCE.md ("latency at 1k msg/s"): ratios at p50 and p99. */
const GOALS = {bare: 1.5, bullmq: 0.3}
/** After the publisher is done, how long a consumer may take to handle the rest and exit. */
const DRAIN_TIMEOUT_MS = 15_000

/** Nearest-rank quantile of an ascending array. */
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
const ms = (value) => (Number.isFinite(value) ? value.toFixed(3) : '–')
const range = (s, format = ms) => `${format(s.median)} (${format(s.min)}–${format(s.max)})`
let fileSequence = 0

export async function run(ctx) {
  const {quick, repoRoot, redisUrl, admin, log} = ctx
  const warmupMs = quick ? 1000 : 2000
  const measured = ctx.options.lines ?? (quick ? 3000 : 10_000)
  const warmup = Math.round((warmupMs * RATE) / 1000)
  const total = warmup + measured
  const rounds = ctx.options.rounds ?? (quick ? 1 : 3)
  log(`latency: ${RATE} msg/s, ${warmup.toLocaleString('en-US')} warm-up + ${measured.toLocaleString('en-US')} measured messages per run, ${rounds} rounds`)
  const url = new URL(redisUrl)
  const connection = {host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null}
  const publisherScript = join(repoRoot, 'bench/latency-publisher.mjs')

  /**
   * One run: start the consumer and wait until it is ready, publish `total` messages at RATE,
   * wait for the consumer to exit (it stops itself after `total`), read and check its samples.
   */
  const latencyRun = async ({contender, round, consumerScript, consumerArgs, readyTest, publisherArgs}) => {
    const samplesFile = join(tmpdir(), `qctl-bench-latency-${process.pid}-${++fileSequence}.json`)
    const consumer = spawnWithReady(consumerScript, consumerArgs, {
      cwd: repoRoot,
      env: {QCTL_BENCH_LATENCY_FILE: samplesFile, QCTL_BENCH_LATENCY_CAPACITY: String(total)},
      readyTest,
    })
    try {
      await consumer.ready
      // Let the consumer's first read reach Redis before the first message.
      await new Promise((resolve) => setTimeout(resolve, 200))
      const consumerCpuBefore = processCpuSeconds(consumer.pid)
      const meter = await startCpuMeter(admin)
      const meterStarted = performance.now()
      const publisher = await runNode(publisherScript, [...publisherArgs, '--redis-url', redisUrl, '--count', String(total), '--rate', String(RATE), '--warmup', String(warmup)], {cwd: repoRoot})
      if (publisher.code !== 0) throw new Error(`latency: publisher for ${contender} (round ${round}) exited with ${publisher.code ?? publisher.signal}:\n${publisher.stderr.slice(-3000)}\n${publisher.stdout.slice(-2000)}`)
      const published = JSON.parse(publisher.stdout.trim().split('\n').at(-1))
      const timeout = setTimeout(() => {
        log(`  warning: ${contender} (round ${round}) has not exited ${DRAIN_TIMEOUT_MS / 1000} s after the last message; sending SIGTERM`)
        consumer.kill('SIGTERM')
        setTimeout(() => consumer.kill('SIGKILL'), 5000).unref()
      }, DRAIN_TIMEOUT_MS)
      const exit = await consumer.exited.finally(() => clearTimeout(timeout))
      const consumerCpuMs = exit.cpuMs === undefined || consumerCpuBefore === undefined ? undefined : exit.cpuMs - consumerCpuBefore * 1000
      const cpu = await meter((consumerCpuMs ?? 0) + (publisher.cpuMs ?? 0))
      const meterS = (performance.now() - meterStarted) / 1000
      if (exit.code !== 0) throw new Error(`latency: ${contender} (round ${round}) exited with ${exit.code ?? exit.signal}:\n${exit.stderr.slice(-4000)}\n${exit.stdout.slice(-2000)}`)

      const {samples, duplicates, outOfRange} = JSON.parse(await readFile(samplesFile, 'utf8'))
      const kept = samples.slice(warmup)
      const missing = kept.filter((value) => value === null).length
      if (missing > 0 || duplicates > 0 || outOfRange > 0 || samples.length !== total) {
        throw new Error(`latency: ${contender} (round ${round}): of ${measured} measured messages ${missing} were not seen; ${duplicates} duplicates, ${outOfRange} out of range`)
      }
      const sorted = Float64Array.from(kept).sort()
      return {
        n: sorted.length,
        p50: quantile(sorted, 0.5),
        p90: quantile(sorted, 0.9),
        p99: quantile(sorted, 0.99),
        p999: quantile(sorted, 0.999),
        max: sorted[sorted.length - 1],
        mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
        publish: published.measured,
        publishRateAll: published.rate,
        consumerCpuPercent: consumerCpuMs === undefined ? undefined : (consumerCpuMs / 1000 / meterS) * 100,
        cpu,
        peakRssKiB: exit.peakRssKiB,
        meterS,
      }
    } finally {
      consumer.kill('SIGKILL')
      await consumer.exited
      await rm(samplesFile, {force: true})
    }
  }

  const describe = (s) =>
    `p50 ${ms(s.p50)} p99 ${ms(s.p99)} max ${ms(s.max)} ms (n ${s.n}); publish ${s.publish.rate.toFixed(1)} msg/s, ${s.publish.late} late sends (max ${s.publish.lateMax} ms), ` +
    `gap p99 ${s.publish.intervalP99} ms; consumer CPU ${s.consumerCpuPercent?.toFixed(1) ?? '?'}%, redis CPU ${((s.cpu.redisMs / 1000 / s.meterS) * 100).toFixed(1)}%`

  const streamContender = (contender, consumerScript, args, readyTest) => ({
    name: contender,
    describe,
    async run({round}) {
      const key = `qctl-bench:latency:${contender.replaceAll(' ', '')}:${process.pid}:${round}`
      const group = `bench-${round}`
      try {
        await admin.del(key)
        await admin.xgroup('CREATE', key, group, '$', 'MKSTREAM')
        return await latencyRun({contender, round, consumerScript, consumerArgs: args(key, group), readyTest, publisherArgs: ['--mode', 'stream', '--topic', key]})
      } finally {
        await admin.del(key)
        await deleteMatching(admin, `{${key}}:*`)
      }
    },
  })
  const jsonLine = (test) => (line) => {
    try {
      return test(JSON.parse(line))
    } catch {
      return false
    }
  }

  const qctl = (concurrency) =>
    streamContender(
      `qctl c=${concurrency}`,
      join(repoRoot, 'bin/run.js'),
      (key, group) => [
        'work', join(repoRoot, 'bench/handlers/latency-recorder.mjs'),
        '--topic', key, '--group', group, '--concurrency', String(concurrency), '--max-messages', String(total), '--json', '-u', redisUrl,
      ],
      jsonLine((event) => event.event === 'start'),
    )
  const bare = streamContender(
    'bare',
    join(repoRoot, 'bench/bare-latency.mjs'),
    (key, group) => ['--redis-url', redisUrl, '--topic', key, '--group', group, '--expect', String(total)],
    jsonLine((event) => event.ready === true),
  )
  const bullmq = (concurrency) => ({
    name: `bullmq c=${concurrency}`,
    describe,
    async run({round}) {
      const prefix = `qctl-bench-bull-latency-${process.pid}-${round}-${concurrency}`
      const queueName = 'latency'
      const queue = new Queue(queueName, {connection, prefix})
      try {
        return await latencyRun({
          contender: `bullmq c=${concurrency}`,
          round,
          consumerScript: join(repoRoot, 'bench/bullmq-latency.mjs'),
          consumerArgs: ['--redis-url', redisUrl, '--queue', queueName, '--prefix', prefix, '--expect', String(total), '--concurrency', String(concurrency)],
          readyTest: jsonLine((event) => event.ready === true),
          publisherArgs: ['--mode', 'bullmq', '--queue', queueName, '--prefix', prefix],
        })
      } finally {
        await queue.obliterate({force: true}).catch(() => undefined)
        await queue.close()
        await deleteMatching(admin, `${prefix}:*`)
      }
    },
  })

  // --quick: concurrency 1 only (keeps the quick suite short).
  const concurrencies = quick ? [1] : [1, 8]
  const contenders = [...concurrencies.map(qctl), bare, ...concurrencies.map(bullmq)]
  const keysBefore = await admin.dbsize()
  const result = await interleavedRounds({rounds, contenders, log})
  const keysAfter = await admin.dbsize()
  if (keysAfter !== keysBefore) log(`warning: latency: ${keysAfter - keysBefore} keys left behind in redis`)

  const names = contenders.map((c) => c.name)
  const of = (name, pick) => summary(result.samples[name].map(pick))
  const perRound = (name, other, metric) => result.rounds.map(({samples}) => samples[name][metric] / samples[other][metric])

  // Main table: each contender's latency (median over rounds of each run's percentile).
  const label = `${RATE.toLocaleString('en-US')} msg/s, ${(measured / RATE).toFixed(0)} s measured after ${warmupMs / 1000} s warm-up`
  const mainTable = markdownTable(
    ['latency, publish → handler start', 'contender', 'p50 ms', 'p99 ms', 'max ms', 'runs', 'publish msg/s (late sends)', 'consumer CPU', 'peak RSS'],
    names.map((name) => [
      label,
      name,
      range(of(name, (s) => s.p50)),
      range(of(name, (s) => s.p99)),
      range(of(name, (s) => s.max)),
      String(result.samples[name].length),
      `${of(name, (s) => s.publish.rate).median.toFixed(1)} (${of(name, (s) => s.publish.late).median})`,
      `${of(name, (s) => s.consumerCpuPercent).median.toFixed(1)}%`,
      `${(of(name, (s) => s.peakRssKiB).median / 1024).toFixed(0)} MiB`,
    ]),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  )

  // qctl against the targets and against bare / BullMQ, ratios round by round.
  const targetRows = []
  for (const concurrency of concurrencies) {
    const name = `qctl c=${concurrency}`
    for (const metric of ['p50', 'p99']) {
      const value = of(name, (s) => s[metric])
      const ratioTo = (other) => summary(perRound(name, other, metric))
      const toBare = ratioTo('bare')
      const toBull = ratioTo(`bullmq c=${concurrency}`)
      targetRows.push([
        `${name} ${metric}`,
        `${ms(value.median)} ms`,
        `≤ ${TARGETS[metric]} ms: ${value.median <= TARGETS[metric] ? 'met' : 'missed'}`,
        `${toBare.median.toFixed(2)}x (${toBare.min.toFixed(2)}–${toBare.max.toFixed(2)})`,
        `${toBull.median.toFixed(2)}x (${toBull.min.toFixed(2)}–${toBull.max.toFixed(2)})`,
        `≤ ${GOALS.bare}x bare: ${toBare.median <= GOALS.bare ? 'met' : 'missed'}; ≤ ${GOALS.bullmq}x BullMQ: ${toBull.median <= GOALS.bullmq ? 'met' : 'missed'}`,
      ])
    }
  }
  const targetTable = markdownTable(
    ['qctl', 'median', 'target (issue 6)', `ratio to bare`, 'ratio to BullMQ (same c)', 'design goal (PERFORMANCE.md)'],
    targetRows,
    ['left', 'right', 'left', 'right', 'right', 'left'],
  )
  log(`\n${targetTable}`)

  const cpuPercent = (cpuMs, s) => (cpuMs === undefined ? '?' : `${((cpuMs / 1000 / s.meterS) * 100).toFixed(0)}%`)
  const perRun = markdownTable(
    ['round', 'contender', 'n', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean', 'publish msg/s', 'late sends', 'send gap p99/max', 'consumer CPU', 'redis CPU'],
    result.rounds.flatMap(({round, samples}) =>
      Object.entries(samples).map(([contender, s]) => [
        String(round),
        contender,
        String(s.n),
        ms(s.p50),
        ms(s.p90),
        ms(s.p99),
        ms(s.p999),
        ms(s.max),
        ms(s.mean),
        s.publish.rate.toFixed(1),
        `${s.publish.late} (max ${s.publish.lateMax.toFixed(2)} ms)`,
        `${s.publish.intervalP99.toFixed(2)} / ${s.publish.intervalMax.toFixed(2)}`,
        s.consumerCpuPercent === undefined ? '?' : `${s.consumerCpuPercent.toFixed(1)}%`,
        cpuPercent(s.cpu.redisMs, s),
      ]),
    ),
    ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  )
  return {
    rows: [],
    table: `${mainTable}\n\n${targetTable}`,
    details: [
      '### latency: per run (ms)',
      '',
      perRun,
      '',
      `Each run: a fresh stream and group (created at \`$\`) or a fresh BullMQ prefix; the consumer is started and waited for (its start/ready line, then 200 ms); a publisher process sends ${total.toLocaleString('en-US')} messages at ${RATE.toLocaleString('en-US')}/s on an absolute schedule (Atomics.wait, then a spin of the last 0.15 ms; never a catch-up burst beyond one message), each stamped with its send time (performance.timeOrigin + performance.now()); the first ${warmup.toLocaleString('en-US')} (${warmupMs / 1000} s) are discarded. Latency = the consumer's same clock at the start of its handler (qctl: the handler module bench/handlers/latency-recorder.mjs; bare: the async handler after JSON.parse; BullMQ: the processor) minus the send time, so it includes the publisher's client call, Redis, the consumer's read, decoding and dispatch. Every measured message is checked to be seen exactly once. Percentiles are nearest-rank over one run's messages; tables give the median over rounds (min–max). qctl and bare messages are plain qctl messages (\`data\` = {"seq", "t", ~200 B order}); BullMQ jobs carry the same object via Queue.add (removeOnComplete). bare: XREADGROUP COUNT 100 BLOCK 1000 on its own connection, XACK per batch on a second connection. "publish msg/s": the achieved rate over the measured window; "late sends": sends more than 0.2 ms after their due time; "send gap": time between consecutive sends (1.00 ms is on schedule). CPU: % of one core from the publisher's start to the consumer's exit (consumer: /proc before, getrusage at exit; redis: INFO cpu). The machine-wide "others" share of the other scenarios is not shown: with this 1 kHz wake-up pattern the machine's busy time from /proc/stat (tick-sampled) came out below, or seconds above, the CPU time the measured processes used themselves. Late sends and send gaps above 1 ms are the sign that something else took the CPU during a run.`,
    ].join('\n'),
  }
}
