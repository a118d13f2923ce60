// Scenario "retry-storm": every message of a backlog fails once and is retried (issue 14).
// Sizes S (100,000; --quick: 20,000) and L (1,000,000; --quick: 100,000; --lines N: L = N, S = N / 10).
// Contenders, per round, in this order:
//   storm S/qctl, drain S/qctl, storm S/bullmq, storm L/qctl, drain L/qctl
// storm/qctl:   `node bin/run.js work bench/handlers/fail-first-attempt.mjs --topic T --group G
//               --concurrency 8 --backoff fixed --backoff-delay 100ms --until-empty --json`: the
//               handler throws a TransientError when message.attempt === 1 and succeeds on attempt 2.
//               Checked: processed N, retried N, nothing dead-lettered, lost, duplicated or unfinished;
//               the group with nothing pending and N read; the dead-letter stream empty.
// drain/qctl:   the same command and flags with the no-op handler (every message succeeds at once),
//               on the same N: what the storm costs over a plain drain. Checked: processed N, retried 0.
// storm/bullmq: a BullMQ Worker (bench/bullmq-worker.mjs --export bullmq, the same handler module's
//               BullMQ processor: throws when job.attemptsMade === 0), concurrency 8, on N jobs added
//               with {attempts: 2, backoff: {type: 'fixed', delay: 100}}, until N completed. Checked:
//               N completed, N retried, none failed for good, nothing left in the queue. Only at S:
//               BullMQ's storm ran at ~1.8k jobs/s here (100,000 in 55 s, measured once, on a busy
//               machine), so a 1M storm would take about 10 minutes a run, and 1M jobs hold ~0.85 GB
//               in Redis (twice, with the template). No figure for BullMQ at L is extrapolated.
// Backlogs are written once, untimed, and COPY'd server-side before each run (lib/backlog.mjs); every
// key is deleted afterwards. 3 rounds (--quick: 1).
// Targets (issue 14), with the figures they use:
//   - qctl's storm time per message (the worker's own durationMs / N) at L within 20% of S's
//     (0.8-1.2), judged for S = 100,000 and L = 1,000,000 only;
//   - the L storm within 3x qctl's all-succeed drain of L (durationMs), judged for L >= 1,000,000;
//   - the S storm >= 5x BullMQ's S storm (msg/s per wall second, both whole processes, as in the work
//     scenario), judged for S >= 100,000.
// durationMs for the qctl-against-qctl targets: process start-up (~0.2 s) is not a per-message cost and
// would weigh 10x more at S than at L. Each ratio is taken per round, then the median.
import {createRequire} from 'node:module'
import {join} from 'node:path'

import {Queue} from 'bullmq'

import {copyPrefix, fillBullQueue, fillStream, lastJsonLine, unlinkMatching} from '../lib/backlog.mjs'
import {runNode} from '../lib/child.mjs'
import {startCpuMeter} from '../lib/cpu-meter.mjs'
import {deleteTopic, timedQctlWork} from '../lib/qctl-work.mjs'
import {interleavedRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {describeSample, markdownTable, perRunTable} from '../lib/table.mjs'

export const name = 'retry-storm'

const GROUP = 'bench'
const CONCURRENCY = 8
const BACKOFF_MS = 100
const BULLMQ_VERSION = createRequire(import.meta.url)('bullmq/package.json').version

const fmt = (n) => Math.round(n).toLocaleString('en-US')

export async function run(ctx) {
  const {quick, repoRoot, redisUrl, admin, log} = ctx
  const large = ctx.options.lines ?? (quick ? 100_000 : 1_000_000)
  const small = ctx.options.lines === undefined ? (quick ? 20_000 : 100_000) : Math.max(1, Math.round(large / 10))
  const rounds = ctx.options.rounds ?? (quick ? 1 : 3)
  const seed = 0x5707 ^ large
  const url = new URL(redisUrl)
  const connection = {host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null}
  const handlers = {storm: join(repoRoot, 'bench/handlers/fail-first-attempt.mjs'), drain: join(repoRoot, 'bench/handlers/noop.mjs')}
  const flags = ['--concurrency', String(CONCURRENCY), '--backoff', 'fixed', '--backoff-delay', `${BACKOFF_MS}ms`]
  const keysBefore = await admin.dbsize()

  // Templates, written once, untimed: the small stream holds the large one's first entries.
  const templates = {[large]: `qctl-bench:retry-storm:template:${process.pid}:${large}`, [small]: `qctl-bench:retry-storm:template:${process.pid}:${small}`}
  const bullTemplate = `qctl-bench-bull-storm-template-${process.pid}`
  const bullQueue = 'storm'
  let avgBytes
  let started
  try {
    for (const size of new Set([large, small])) {
      started = Date.now()
      await admin.del(templates[size])
      const {bytes} = await fillStream(admin, templates[size], size, seed)
      await admin.xgroup('CREATE', templates[size], GROUP, '0')
      avgBytes ??= Math.round(bytes / size)
      log(`retry-storm: stream backlog of ${fmt(size)} × ~${Math.round(bytes / size)} B written in ${((Date.now() - started) / 1000).toFixed(1)} s (untimed)`)
    }
    started = Date.now()
    const queue = new Queue(bullQueue, {connection, prefix: bullTemplate})
    try {
      await fillBullQueue(queue, small, seed, {attempts: 2, backoff: {type: 'fixed', delay: BACKOFF_MS}})
      const {waiting} = await queue.getJobCounts('waiting')
      if (waiting !== small) throw new Error(`retry-storm: the BullMQ template has ${waiting} waiting jobs, expected ${small}`)
    } finally {
      await queue.close()
    }
    log(`retry-storm: BullMQ backlog of ${fmt(small)} jobs (attempts 2, fixed backoff ${BACKOFF_MS} ms) added in ${((Date.now() - started) / 1000).toFixed(1)} s (untimed)`)
  } catch (error) {
    await admin.unlink(...Object.values(templates))
    await unlinkMatching(admin, `${bullTemplate}:*`)
    throw error
  }
  log(`retry-storm: sizes ${fmt(small)} and ${fmt(large)} (BullMQ: ${fmt(small)}); ${rounds} round${rounds === 1 ? '' : 's'}`)

  /** storm or drain, by qctl, on a fresh copy of the `size` backlog. */
  const qctl = (kind, size) => async ({round}) => {
    const topic = `qctl-bench:retry-storm:${kind}:${size}:${process.pid}:${round}`
    try {
      await deleteTopic(admin, topic)
      await admin.copy(templates[size], topic)
      return await timedQctlWork({
        admin, repoRoot, redisUrl, log,
        label: `${kind} ${fmt(size)}/qctl (round ${round})`,
        topic, group: GROUP, handler: handlers[kind], args: flags,
        expect: {processed: size, retried: kind === 'storm' ? size : 0},
      })
    } finally {
      await deleteTopic(admin, topic)
    }
  }

  /** BullMQ's storm on a fresh copy of the template queue. */
  const bullmq = async ({round}) => {
    const prefix = `qctl-bench-bull-storm-${process.pid}-${round}`
    const label = `storm ${fmt(small)}/bullmq (round ${round})`
    const queue = new Queue(bullQueue, {connection, prefix})
    try {
      await unlinkMatching(admin, `${prefix}:*`)
      await copyPrefix(admin, `${bullTemplate}:`, `${prefix}:`)
      // BullMQ's storm ran at ~1.8k jobs/s here (0.55 ms a job): a bound of its own.
      const timeoutMs = 120_000 + small * 2
      const meter = await startCpuMeter(admin)
      const child = await runNode(
        join(repoRoot, 'bench/bullmq-worker.mjs'),
        ['--redis-url', redisUrl, '--queue', bullQueue, '--prefix', prefix, '--expect', String(small), '--concurrency', String(CONCURRENCY), '--handler', handlers.storm, '--export', 'bullmq'],
        {cwd: repoRoot, timeoutMs},
      )
      const cpu = await meter(child.cpuMs)
      if (child.timedOut) throw new Error(`${label}: still running after ${(timeoutMs / 1000).toFixed(1)} s; killed\n${child.stderr.slice(-3000)}`)
      if (child.code !== 0) throw new Error(`${label}: exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-3000)}\n${child.stdout.slice(-2000)}`)
      const output = lastJsonLine(child.stdout, label)
      if (child.wallMs - output.durationMs > 5000) log(`  warning: ${label} ran ${((child.wallMs - output.durationMs) / 1000).toFixed(1)} s beyond its own durationMs (slow start-up or exit, or the machine was paused)`)
      const counts = await queue.getJobCounts()
      const left = Object.entries(counts).filter(([, count]) => count !== 0)
      if (output.processed !== small || output.retried !== small || output.failed !== 0 || left.length > 0) {
        throw new Error(`${label}: expected ${small} completed, ${small} retried, none failed or left; the worker reported ${output.processed} completed, ${output.retried} retried, ${output.failed} failed; left: ${JSON.stringify(Object.fromEntries(left))}`)
      }
      return {
        wallMs: child.wallMs,
        rate: small / (child.wallMs / 1000),
        internalMs: output.durationMs,
        internalRate: small / (output.durationMs / 1000),
        peakRssKiB: child.peakRssKiB,
        cpu,
      }
    } finally {
      await queue.close()
      await unlinkMatching(admin, `${prefix}:*`)
    }
  }

  const names = {
    stormS: `storm ${fmt(small)}/qctl`,
    drainS: `drain ${fmt(small)}/qctl`,
    bullS: `storm ${fmt(small)}/bullmq`,
    stormL: `storm ${fmt(large)}/qctl`,
    drainL: `drain ${fmt(large)}/qctl`,
  }
  const contenders = [
    {name: names.stormS, run: qctl('storm', small), size: small},
    {name: names.drainS, run: qctl('drain', small), size: small},
    {name: names.bullS, run: bullmq, size: small},
    ...(large === small ? [] : [{name: names.stormL, run: qctl('storm', large), size: large}, {name: names.drainL, run: qctl('drain', large), size: large}]),
  ].map((contender) => ({...contender, describe: describeSample}))

  let result
  try {
    result = await interleavedRounds({rounds, contenders, log})
  } finally {
    await admin.unlink(...Object.values(templates))
    await unlinkMatching(admin, `${bullTemplate}:*`)
  }
  const keysAfter = await admin.dbsize()
  if (keysAfter !== keysBefore) throw new Error(`retry-storm: ${keysAfter - keysBefore} keys left behind in redis (cleanup is incomplete)`)

  const perRound = (pick) => result.rounds.map(({samples}) => pick(samples))
  const stat = (values) => ({...summary(values), list: values.map((value) => value.toFixed(2)).join(', ')})
  // A target: {min?, max?} on the median; `judged` false prints the figure without a verdict, saying why.
  const ratioRow = (what, values, target, judged, why) => {
    const r = stat(values)
    const targetText = target === undefined ? '–' : target.min !== undefined && target.max !== undefined ? `${target.min}–${target.max}x` : target.max !== undefined ? `≤ ${target.max}x` : `≥ ${target.min}x`
    const met = target !== undefined && (target.min === undefined || r.median >= target.min) && (target.max === undefined || r.median <= target.max)
    const verdict = target === undefined ? '–' : judged ? (met ? 'met' : 'missed') : `– (${why})`
    return [what, `${r.median.toFixed(2)}x`, `${r.min.toFixed(2)}–${r.max.toFixed(2)}`, r.list, targetText, verdict]
  }
  const perMessage = (sample, size) => sample.internalMs / size
  const targetRows = []
  if (large !== small) {
    targetRows.push(
      ratioRow(
        `storm: time per message (in-process), ${fmt(large)} / ${fmt(small)}`,
        perRound((s) => perMessage(s[names.stormL], large) / perMessage(s[names.stormS], small)),
        {min: 0.8, max: 1.2},
        small === 100_000 && large === 1_000_000,
        `for 100,000 → 1,000,000, not ${fmt(small)} → ${fmt(large)}`,
      ),
      ratioRow(`storm: time per message (wall), ${fmt(large)} / ${fmt(small)}`, perRound((s) => s[names.stormL].wallMs / large / (s[names.stormS].wallMs / small))),
      ratioRow(`storm / all-succeed drain, ${fmt(large)} (in-process time)`, perRound((s) => s[names.stormL].internalMs / s[names.drainL].internalMs), {max: 3}, large >= 1_000_000, `for 1,000,000, not ${fmt(large)}`),
    )
  }
  targetRows.push(
    ratioRow(`storm / all-succeed drain, ${fmt(small)} (in-process time)`, perRound((s) => s[names.stormS].internalMs / s[names.drainS].internalMs)),
    ratioRow(`storm ${fmt(small)}: qctl / BullMQ (msg/s, wall)`, perRound((s) => s[names.stormS].rate / s[names.bullS].rate), {min: 5}, small >= 100_000, `for 100,000 or more, not ${fmt(small)}: start-up weighs too much`),
    ratioRow(`storm ${fmt(small)}: qctl / BullMQ (msg/s, in-process)`, perRound((s) => s[names.stormS].internalRate / s[names.bullS].internalRate)),
  )
  const targets = markdownTable(['ratio (per round, then median)', 'median', 'min–max', 'per round', 'target (#14)', 'verdict'], targetRows, ['left', 'right', 'right', 'left', 'left', 'left'])
  log(`\n${targets}`)

  const table = markdownTable(
    ['scenario', 'contender', 'messages', 'median msg/s (wall)', 'min–max', 'in-process msg/s (median)', 'wall s (median)', 'in-process s (median)', 'µs/msg in-process', 'runs', 'peak RSS (median)'],
    contenders.map(({name: contender, size}) => {
      const samples = result.samples[contender]
      const rate = summary(samples.map((s) => s.rate))
      const internalMs = summary(samples.map((s) => s.internalMs)).median
      const rss = summary(samples.map((s) => s.peakRssKiB)).median
      return [
        `retry-storm, ~${avgBytes} B, concurrency ${CONCURRENCY}, fixed backoff ${BACKOFF_MS} ms`,
        contender,
        fmt(size),
        fmt(rate.median),
        `${fmt(rate.min)}–${fmt(rate.max)}`,
        fmt(summary(samples.map((s) => s.internalRate)).median),
        (summary(samples.map((s) => s.wallMs)).median / 1000).toFixed(2),
        (internalMs / 1000).toFixed(2),
        ((internalMs * 1000) / size).toFixed(2),
        String(rate.n),
        Number.isFinite(rss) ? `${(rss / 1024).toFixed(0)} MiB` : '–',
      ]
    }),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  )
  const leftovers = Object.entries(result.samples).flatMap(([contender, samples]) => samples.filter((s) => s.leftover !== undefined).map((s) => `${contender}: ${s.leftover}`))
  const stormOutput = result.samples[names.stormS].map((s) => s.stdoutBytes)

  return {
    rows: [],
    table,
    details: [
      '### retry-storm: ratios and the targets',
      '',
      targets,
      '',
      '### retry-storm: per run',
      '',
      perRunTable(result.rounds),
      '',
      `Every message fails its first delivery and succeeds on its second. qctl: \`node bin/run.js work bench/handlers/fail-first-attempt.mjs --topic T --group G --concurrency ${CONCURRENCY} --backoff fixed --backoff-delay ${BACKOFF_MS}ms --until-empty --json\` (the handler throws a TransientError when \`message.attempt === 1\`); checked: processed N, retried N, none dead-lettered, lost, duplicated or unfinished, nothing pending, N entries read, the dead-letter stream empty. "drain": the same command and flags with \`bench/handlers/noop.mjs\` on the same N (every message succeeds at once). BullMQ ${BULLMQ_VERSION}: \`bench/bullmq-worker.mjs --export bullmq\` (the same module's processor, throwing when \`job.attemptsMade === 0\`), concurrency ${CONCURRENCY}, jobs added with \`{attempts: 2, backoff: {type: 'fixed', delay: ${BACKOFF_MS}}, removeOnComplete: true}\`, timed until N completed; checked: N completed and N retried, none failed for good, nothing left. BullMQ runs at ${fmt(small)} only: its storm ran at ~1.8k jobs/s when this scenario was written (100,000 in 55 s), so a ${fmt(large)} storm would take minutes a run (and ~0.85 GB of Redis per million jobs); nothing is extrapolated to ${fmt(large)}. Targets: the qctl-against-qctl ratios use the worker's own durationMs (its summary; it excludes process start-up, ~0.2 s, which is not a per-message cost); qctl against BullMQ uses msg/s per wall second of both whole processes, as the work scenario does. Backlogs are written once (not timed) and COPY'd server-side to a fresh key or prefix before each run. qctl's --json output holds one line per retry (the storm at ${fmt(small)} wrote ${stormOutput.map((bytes) => `${(bytes / 1e6).toFixed(1)} MB`).join(', ')} to stdout); the runner keeps only its tail. Left in Redis after finished runs (retry bookkeeping that should be gone): ${leftovers.length === 0 ? 'nothing' : leftovers.join('; ')}.`,
    ].join('\n'),
  }
}
