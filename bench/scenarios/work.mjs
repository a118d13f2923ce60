// Scenario "work": drain a backlog of N ~200-byte JSON messages with a no-op async handler at
// concurrency 8.
//   qctl:   `node bin/run.js work bench/handlers/noop.mjs --topic T --group G --concurrency 8 --until-empty --json`
//   bare:   bench/bare-consume.mjs (XREADGROUP COUNT 100 BLOCK 100, 8 handler lanes, one XACK per batch)
//   bullmq: bench/bullmq-worker.mjs (BullMQ Worker, concurrency 8, no-op processor)
// The backlog is written before each run and is not timed: for qctl and bare, XADDs (field `data`)
// in pipelines of 1000 to a fresh stream with a fresh group; for BullMQ, Queue.addBulk in chunks of
// 1000 under a fresh key prefix. Each run is a whole child process timed from spawn to exit; the
// result is checked afterwards (group: 0 pending, entries-read == N; BullMQ: every job completed,
// none left in any state) and every key is deleted.
import {join} from 'node:path'

import {Queue} from 'bullmq'

import {runNode} from '../lib/child.mjs'
import {startCpuMeter} from '../lib/cpu-meter.mjs'
import {makeRecord, prng} from '../lib/ndjson-data.mjs'
import {deleteMatching} from '../lib/redis-keys.mjs'
import {interleavedRounds, summarizeRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {describeSample as describe, markdownTable, perRunTable} from '../lib/table.mjs'

export const name = 'work'

const CONCURRENCY = 8
const CHUNK = 1000
/** What the issue asks of qctl (issue #3 now, issue #6 later): multiples of BullMQ's and the bare loop's rate. */
const TARGETS = {bullmq: [5, 10], bare: [0.75, 1.0]}

/** The last line of stdout that parses as JSON (qctl --json prints JSON lines; the summary is last). */
function lastJsonLine(stdout, what) {
  const lines = stdout.trim().split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i])
    } catch {
      // not JSON: keep looking
    }
  }
  throw new Error(`${what}: no JSON line on stdout:\n${stdout.slice(-2000)}`)
}

/** XINFO GROUPS of a stream as objects. */
async function groupInfo(admin, key, group) {
  const groups = await admin.call('XINFO', 'GROUPS', key)
  for (const reply of groups) {
    const info = {}
    for (let i = 0; i + 1 < reply.length; i += 2) info[reply[i]] = reply[i + 1]
    if (info.name === group) return info
  }
  return undefined
}

export async function run(ctx) {
  const {quick, repoRoot, redisUrl, admin, log} = ctx
  const messages = ctx.options.lines ?? (quick ? 100_000 : 300_000)
  const rounds = ctx.options.rounds ?? (quick ? 2 : 3)
  const random = prng(0x5eed ^ messages)
  const records = Array.from({length: messages}, (_, index) => makeRecord(index, random))
  const avgBytes = Math.round(records.reduce((sum, record) => sum + Buffer.byteLength(record), 0) / messages)
  log(`work: ${messages.toLocaleString('en-US')} messages of ~${avgBytes} B, concurrency ${CONCURRENCY}, ${rounds} rounds`)
  const url = new URL(redisUrl)
  const connection = {host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null}

  /** Write the backlog into a fresh stream and create its group at the start (not timed). */
  const fillStream = async (key, group) => {
    await admin.del(key)
    for (let start = 0; start < messages; start += CHUNK) {
      const pipeline = admin.pipeline()
      for (const record of records.slice(start, start + CHUNK)) pipeline.xadd(key, '*', 'data', record)
      for (const [error] of await pipeline.exec()) if (error) throw error
    }
    await admin.xgroup('CREATE', key, group, '0')
  }

  /** Every entry delivered to the group and acknowledged. */
  const checkStream = async (contender, round, key, group, reported) => {
    const info = await groupInfo(admin, key, group)
    const pending = Number(info?.pending)
    const entriesRead = Number(info?.['entries-read'])
    if (info === undefined || pending !== 0 || entriesRead !== messages || reported !== messages) {
      throw new Error(`${contender} (round ${round}): expected ${messages} entries read and none pending; group ${group} has entries-read ${info?.['entries-read']}, pending ${info?.pending}; the run reported ${reported}`)
    }
  }

  /** Run a child, with the CPU meter around it; fail loudly on a non-zero exit. */
  const timedChild = async (contender, round, script, args) => {
    const meter = await startCpuMeter(admin)
    const child = await runNode(script, args, {cwd: repoRoot})
    const cpu = await meter(child.cpuMs)
    if (child.code !== 0) {
      throw new Error(`${contender} (round ${round}) exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-4000)}\n${child.stdout.slice(-4000)}`)
    }
    const output = lastJsonLine(child.stdout, contender)
    const exitLagMs = child.wallMs - output.durationMs
    if (exitLagMs > 5000) {
      log(`  warning: ${contender} (round ${round}) ran ${(exitLagMs / 1000).toFixed(1)} s beyond its own durationMs (slow start-up, or something kept the process alive after its summary)`)
    }
    return {
      output,
      sample: {
        wallMs: child.wallMs,
        rate: messages / (child.wallMs / 1000),
        internalMs: output.durationMs,
        peakRssKiB: child.peakRssKiB,
        cpu,
      },
    }
  }

  const streamRun = (contender, script, args) => async ({round}) => {
    const key = `qctl-bench:work:${contender}:${process.pid}:${round}`
    const group = `bench-${round}`
    try {
      await fillStream(key, group)
      const {output, sample} = await timedChild(contender, round, script, args(key, group))
      await checkStream(contender, round, key, group, output.processed)
      return sample
    } finally {
      // The stream, and what qctl derives from it ({topic}:dlq, {topic}:retry:group).
      await admin.del(key)
      await deleteMatching(admin, `{${key}}:*`)
    }
  }

  const qctl = {
    name: 'qctl',
    describe,
    run: streamRun('qctl', join(repoRoot, 'bin/run.js'), (key, group) => [
      'work', join(repoRoot, 'bench/handlers/noop.mjs'),
      '--topic', key, '--group', group, '--concurrency', String(CONCURRENCY), '--until-empty', '--json', '-u', redisUrl,
    ]),
  }
  const bare = {
    name: 'bare',
    describe,
    run: streamRun('bare', join(repoRoot, 'bench/bare-consume.mjs'), (key, group) => [
      '--redis-url', redisUrl, '--topic', key, '--group', group, '--concurrency', String(CONCURRENCY),
    ]),
  }
  const bullmq = {
    name: 'bullmq',
    describe,
    async run({round}) {
      const prefix = `qctl-bench-bull-${process.pid}-${round}`
      const queueName = 'work'
      const queue = new Queue(queueName, {connection, prefix})
      try {
        for (let start = 0; start < messages; start += CHUNK) {
          await queue.addBulk(records.slice(start, start + CHUNK).map((record) => ({name: 'order', data: JSON.parse(record), opts: {removeOnComplete: true}})))
        }
        const before = await queue.getJobCounts('waiting')
        if (before.waiting !== messages) throw new Error(`bullmq (round ${round}): expected ${messages} waiting jobs after addBulk, found ${before.waiting}`)
        const {output, sample} = await timedChild('bullmq', round, join(repoRoot, 'bench/bullmq-worker.mjs'), [
          '--redis-url', redisUrl, '--queue', queueName, '--prefix', prefix, '--expect', String(messages), '--concurrency', String(CONCURRENCY),
        ])
        const counts = await queue.getJobCounts()
        const left = Object.entries(counts).filter(([, count]) => count !== 0)
        if (output.processed !== messages || output.failed !== 0 || left.length > 0) {
          throw new Error(`bullmq (round ${round}): expected ${messages} completed jobs and none left; the worker reported ${output.processed} completed, ${output.failed} failed; left: ${JSON.stringify(Object.fromEntries(left))}`)
        }
        return sample
      } finally {
        await queue.obliterate({force: true}).catch(() => undefined)
        await queue.close()
        await deleteMatching(admin, `${prefix}:*`)
      }
    },
  }

  const keysBefore = await admin.dbsize()
  const result = await interleavedRounds({rounds, contenders: [qctl, bare, bullmq], log})
  const keysAfter = await admin.dbsize()
  if (keysAfter !== keysBefore) throw new Error(`work: ${keysAfter - keysBefore} keys left behind in redis (cleanup is incomplete)`)
  const label = `work ${messages.toLocaleString('en-US')} × ~${avgBytes} B, no-op handler, concurrency ${CONCURRENCY}`
  const rows = summarizeRounds(result, {
    scenario: label,
    metric: (sample) => sample.rate,
    baseline: 'bare',
    extra: {peakRssKiB: (sample) => sample.peakRssKiB, internalMs: (sample) => sample.internalMs, wallMs: (sample) => sample.wallMs},
  })

  // qctl against the targets, ratios taken round by round.
  const ratio = (other) => summary(result.rounds.map(({samples}) => samples.qctl.rate / samples[other].rate))
  const targetRows = Object.entries(TARGETS).map(([other, [now, later]]) => {
    const r = ratio(other)
    const verdict = (target) => (r.median >= target ? 'met' : 'missed')
    return [
      `qctl / ${other}`,
      `${r.median.toFixed(2)}x`,
      `${r.min.toFixed(2)}–${r.max.toFixed(2)}`,
      result.rounds.map(({samples}) => (samples.qctl.rate / samples[other].rate).toFixed(2)).join(', '),
      `≥ ${now}x: ${verdict(now)}`,
      `≥ ${later}x: ${verdict(later)}`,
    ]
  })
  const targets = markdownTable(['ratio', 'median', 'min–max', 'per round', 'target (#3)', 'target later (#6)'], targetRows, ['left', 'right', 'right', 'left', 'left', 'left'])
  log(`\n${targets}`)

  const details = perRunTable(result.rounds)
  return {
    rows,
    details: [
      '### work: qctl against the targets',
      '',
      targets,
      '',
      '### work: per run',
      '',
      details,
      '',
      'The backlog is written before each run (not timed). bare: one XREADGROUP COUNT 100 at a time, each message JSON-parsed and passed to a no-op async handler through 8 lanes, one XACK per batch; no read-ahead, retries, dead-lettering, reclaim or heartbeat. bullmq: a BullMQ Worker (concurrency 8, no-op processor) on jobs added with addBulk (removeOnComplete). "in-process ms" is the durationMs each contender reports itself; the rest of the wall time is process start-up, module loading and exit. CPU s: the contender\'s own CPU time, redis-server\'s, and the rest of the machine\'s ("others": a large value means the run was disturbed).',
    ].join('\n'),
  }
}

