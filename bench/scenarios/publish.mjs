// Scenario "publish": load an NDJSON file of N ~200-byte records into a stream (1,000,000;
// --quick: 100,000).
//   qctl:    `node bin/run.js publish TOPIC FILE --json` (validates every line, then streams them)
//   qctl-once: the same with `--idempotency-key-field orderId` (issue 18: each message checked against,
//            and recorded in, the stream's dedupe set by xadd-dedupe-2.lua)
//   bare:    bench/bare-publish.mjs (readline + pipelines of 1000 XADDs, no validation)
//   bullmq:  bench/bullmq-addbulk.mjs (readline, each line JSON-parsed into a job, Queue.addBulk of
//            1000 jobs at a time)
//   ceiling: the server's own XADD ceiling, `redis-benchmark -n 1000000 -P 64 -c 50 XADD KEY * data
//            <the file's first line>` (no Node client in the way; --quick: -n 200000), its own
//            requests per second
// Each run is a whole child process timed from spawn to exit, as users run it, on a fresh topic (or
// BullMQ key prefix) that is checked (XLEN == N; BullMQ: N waiting jobs) and deleted afterwards.
import {createReadStream} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {createInterface} from 'node:readline'

import {Queue} from 'bullmq'

import {unlinkMatching} from '../lib/backlog.mjs'
import {parseJsonOutput, runNode} from '../lib/child.mjs'
import {startCpuMeter} from '../lib/cpu-meter.mjs'
import {ensureNdjson} from '../lib/ndjson-data.mjs'
import {redisBenchmark} from '../lib/redis-benchmark.mjs'
import {interleavedRounds, summarizeRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {describeSample as describe, markdownTable, perRunTable} from '../lib/table.mjs'

export const name = 'publish'

const BULLMQ_VERSION = createRequire(import.meta.url)('bullmq/package.json').version
/** The (#6) targets for qctl's ratios. */
const TARGETS = {bare: 0.9, bullmq: 4.5}
/** redis-benchmark's settings (requests: 200,000 with --quick). */
const CEILING = {requests: 1_000_000, pipeline: 64, clients: 50}

/** Read the file once so every round starts with it in the page cache. */
async function warmPageCache(path) {
  for await (const _ of createReadStream(path, {highWaterMark: 1024 * 1024})) {
    // discard
  }
}

async function firstLine(path) {
  for await (const line of createInterface({input: createReadStream(path), crlfDelay: Infinity})) return line
  throw new Error(`${path} is empty`)
}

const fmt = (n) => Math.round(n).toLocaleString('en-US')

export async function run(ctx) {
  const {quick, repoRoot, dataDir, redisUrl, admin, log} = ctx
  const lines = ctx.options.lines ?? (quick ? 100_000 : 1_000_000)
  const rounds = ctx.options.rounds ?? (quick ? 2 : 3)
  const data = await ensureNdjson(dataDir, lines, log)
  await warmPageCache(data.path)
  const payload = await firstLine(data.path)
  const url = new URL(redisUrl)
  const connection = {host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null}
  const ceilingSettings = {...CEILING, requests: quick ? 200_000 : CEILING.requests}
  log(`publish: ${lines.toLocaleString('en-US')} lines, ${(data.bytes / 1024 / 1024).toFixed(1)} MiB, ${rounds} rounds`)

  /** Run one contender's child with the CPU meter around it; fail loudly on a non-zero exit. */
  const timedChild = async (contender, round, script, args) => {
    const meter = await startCpuMeter(admin)
    const child = await runNode(script, args, {cwd: repoRoot})
    const cpu = await meter(child.cpuMs)
    if (child.code !== 0) {
      throw new Error(`${contender} (round ${round}) exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-4000)}\n${child.stdout.slice(-4000)}`)
    }
    return {child, cpu, output: parseJsonOutput(child.stdout, contender)}
  }
  const sampleOf = ({child, cpu, output}) => ({
    wallMs: child.wallMs,
    rate: lines / (child.wallMs / 1000),
    internalMs: output.durationMs,
    peakRssKiB: child.peakRssKiB,
    cpu,
  })

  /** Run one stream contender on a fresh topic; verify and clean up. */
  const streamRun = async (contender, round, script, args) => {
    const topic = `qctl-bench:publish:${contender}:${process.pid}:${round}`
    await admin.del(topic)
    try {
      const run = await timedChild(contender, round, script, args(topic))
      const length = await admin.xlen(topic)
      if (length !== lines || run.output.published !== lines) {
        throw new Error(`${contender} (round ${round}): expected ${lines} entries, stream has ${length}, the command reported ${run.output.published}`)
      }
      return sampleOf(run)
    } finally {
      // The dedupe set of the publish-once run (issue 18) goes with its topic.
      await admin.unlink(topic, `{${topic}}:dedupe`)
    }
  }

  const qctl = {
    name: 'qctl',
    describe,
    run: ({round}) => streamRun('qctl', round, join(repoRoot, 'bin/run.js'), (topic) => ['publish', topic, data.path, '--redis-url', redisUrl, '--json']),
  }
  // Issue 18: the same publish, each order once (--idempotency-key-field orderId: every key new, so every
  // message is checked, stored and recorded in xadd-dedupe-2.lua).
  const qctlOnce = {
    name: 'qctl-once',
    describe,
    run: ({round}) => streamRun('qctl-once', round, join(repoRoot, 'bin/run.js'), (topic) => ['publish', topic, data.path, '--idempotency-key-field', 'orderId', '--redis-url', redisUrl, '--json']),
  }
  const bare = {
    name: 'bare',
    describe,
    run: ({round}) => streamRun('bare', round, join(repoRoot, 'bench/bare-publish.mjs'), (topic) => ['--redis-url', redisUrl, topic, data.path]),
  }
  const bullmq = {
    name: 'bullmq',
    describe,
    async run({round}) {
      const prefix = `qctl-bench-bull-publish-${process.pid}-${round}`
      const queueName = 'publish'
      const queue = new Queue(queueName, {connection, prefix})
      try {
        await unlinkMatching(admin, `${prefix}:*`)
        const run = await timedChild('bullmq', round, join(repoRoot, 'bench/bullmq-addbulk.mjs'), ['--redis-url', redisUrl, '--queue', queueName, '--prefix', prefix, data.path])
        const {waiting} = await queue.getJobCounts('waiting')
        if (waiting !== lines || run.output.published !== lines) {
          throw new Error(`bullmq (round ${round}): expected ${lines} waiting jobs, the queue has ${waiting}, the script reported ${run.output.published}`)
        }
        return sampleOf(run)
      } finally {
        await queue.close()
        await unlinkMatching(admin, `${prefix}:*`)
      }
    },
  }
  const ceiling = {
    name: 'redis-ceiling',
    describe,
    async run({round}) {
      const key = `qctl-bench:publish:ceiling:${process.pid}:${round}`
      await admin.del(key)
      try {
        const meter = await startCpuMeter(admin)
        const {rps, wallMs} = await redisBenchmark({host: url.hostname, port: Number(url.port), ...ceilingSettings, command: ['XADD', key, '*', 'data', payload]})
        const cpu = await meter(undefined)
        const length = await admin.xlen(key)
        if (length !== ceilingSettings.requests) throw new Error(`redis-ceiling (round ${round}): expected ${ceilingSettings.requests} entries, the stream has ${length}`)
        return {wallMs, rate: rps, internalMs: Math.round((ceilingSettings.requests / rps) * 1000), peakRssKiB: undefined, cpu}
      } finally {
        await admin.unlink(key)
      }
    },
  }

  const result = await interleavedRounds({rounds, contenders: [qctl, qctlOnce, bare, bullmq, ceiling], log})
  const label = `publish ${lines.toLocaleString('en-US')} × ~${Math.round(data.bytes / lines)} B`
  const rows = summarizeRounds(result, {
    scenario: label,
    metric: (sample) => sample.rate,
    baseline: 'bare',
    extra: {peakRssKiB: (sample) => sample.peakRssKiB, internalMs: (sample) => sample.internalMs, wallMs: (sample) => sample.wallMs},
  })
  const ceilingRow = rows.find((row) => row.contender === 'redis-ceiling')
  ceilingRow.scenario = `XADD ceiling: redis-benchmark -n ${fmt(ceilingSettings.requests)} -P ${ceilingSettings.pipeline} -c ${ceilingSettings.clients}, ${Buffer.byteLength(payload)} B`

  // qctl's ratios, round by round, against the targets.
  const ratioRow = (what, values, target) => {
    const r = summary(values)
    return [what, `${r.median.toFixed(2)}x`, `${r.min.toFixed(2)}–${r.max.toFixed(2)}`, values.map((value) => value.toFixed(2)).join(', '), target === undefined ? '–' : `≥ ${target}x`, target === undefined ? '–' : r.median >= target ? 'met' : 'missed']
  }
  const perRound = (a, b) => result.rounds.map(({samples}) => samples[a].rate / samples[b].rate)
  const targets = markdownTable(
    ['ratio (per round, then median)', 'median', 'min–max', 'per round', 'target (#6)', 'verdict'],
    [
      ratioRow('qctl / bare', perRound('qctl', 'bare'), TARGETS.bare),
      ratioRow(`qctl / bullmq (addBulk)`, perRound('qctl', 'bullmq'), TARGETS.bullmq),
      ratioRow('qctl / redis-ceiling (share of what the server accepts)', perRound('qctl', 'redis-ceiling')),
      ratioRow('qctl --idempotency-key-field / qctl (the cost of publishing once)', perRound('qctl-once', 'qctl')),
      ratioRow('bare / redis-ceiling', perRound('bare', 'redis-ceiling')),
      ratioRow('bullmq / redis-ceiling', perRound('bullmq', 'redis-ceiling')),
    ],
    ['left', 'right', 'right', 'left', 'left', 'left'],
  )
  log(`\n${targets}`)

  return {
    rows,
    details: [
      '### publish: qctl\'s ratios and the targets',
      '',
      targets,
      '',
      '### publish: per run',
      '',
      perRunTable(result.rounds),
      '',
      `bullmq: BullMQ ${BULLMQ_VERSION} \`Queue.addBulk\` of 1000 jobs at a time, streaming the same file (\`bench/bullmq-addbulk.mjs\`; each line JSON-parsed into the job's data). redis-ceiling: \`redis-benchmark -n ${ceilingSettings.requests} -P ${ceilingSettings.pipeline} -c ${ceilingSettings.clients} XADD KEY * data <the file's first line, ${Buffer.byteLength(payload)} B>\`, its own requests per second (its wall time includes connecting; its CPU is not measured: "?"), once per round into a fresh key. "in-process ms" is the durationMs each command reports itself (redis-ceiling: requests / rps); the rest of the wall time is process start-up, module loading and exit. CPU s: the contender's own CPU time, redis-server's, and the rest of the machine's ("others": anything but the contender, redis-server and the runner; a large value means the run was disturbed).`,
    ].join('\n'),
  }
}
