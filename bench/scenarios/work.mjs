// Scenario "work": drain a backlog of N ~200-byte JSON messages (1,000,000; --quick: 100,000),
// in cases:
//   no-op handler at concurrency 1, 8 and 64 (--quick: 8 only): qctl, bare and BullMQ;
//   two processes in one group, no-op handler, concurrency 8 each: qctl ×2 and bare ×2 (not in --quick);
//   a handler that awaits 1 ms, concurrency 64: qctl, bare and BullMQ (concurrency turns waiting
//   into throughput), on a backlog of S (200,000; --quick: 30,000) for all three: at most 64,000
//   msg/s, a 1M drain would take half a minute per run.
// Contenders:
//   qctl:   `node bin/run.js work HANDLER --topic T --group G --concurrency C --until-empty --json`
//   bare:   bench/bare-consume.mjs (XREADGROUP COUNT 100 BLOCK 100, C handler lanes per batch, one
//           XACK per batch); with --handler for the 1 ms handler
//   bullmq: bench/bullmq-worker.mjs (BullMQ Worker, concurrency C, no-op processor);
//           with --handler for the 1 ms handler
//   qctl-metrics: qctl with `--metrics-port 0` (issue 19: its cost on the drain rate, target within
//           3%): handler durations timed, the /metrics server listening (not scraped: Prometheus
//           scrapes every 15 s or more, a drain lasts seconds; a scrape reads counters the worker
//           keeps anyway)
// BullMQ always drains the smaller backlog S: it runs at 8-28k jobs/s here, bound by Redis's CPU
// (Lua scripts per job), so its rate does not depend on the backlog's size, and 1M jobs would take
// about a minute per run. Rates are messages per wall-clock second, so the ratios compare rates.
// The backlogs are written once, untimed (a stream with its group at the start; a BullMQ queue
// filled with addBulk), and COPY'd server-side to a fresh key or prefix before each run. Each run
// is a whole child process (or two) timed from spawn to exit; the result is checked afterwards
// (group: 0 pending, entries-read == N, the processes reported N; BullMQ: every job completed, none
// left in any state) and every key is deleted.
import {createRequire} from 'node:module'
import {join} from 'node:path'

import {Queue} from 'bullmq'

import {copyPrefix, fillBullQueue, fillStream, groupInfo, lastJsonLine, unlinkMatching} from '../lib/backlog.mjs'
import {runNode} from '../lib/child.mjs'
import {startCpuMeter} from '../lib/cpu-meter.mjs'
import {deleteMatching} from '../lib/redis-keys.mjs'
import {instrumentationNs} from '../lib/metrics-cost.mjs'
import {interleavedRounds, summarizeRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {describeSample as describe, markdownTable, perRunTable} from '../lib/table.mjs'
import {timerCeiling} from '../lib/timer-ceiling.mjs'

export const name = 'work'

const GROUP = 'bench'
const BULLMQ_VERSION = createRequire(import.meta.url)('bullmq/package.json').version
const SLEEP_MS = 1

/** The cases, in run order; `targets` are the issue's (#6) for qctl's ratios. */
const CASES = [
  {id: 'c1', what: 'no-op handler, concurrency 1', handler: 'noop', concurrency: 1, processes: 1, contenders: ['qctl', 'bare', 'bullmq']},
  {id: 'c8', what: 'no-op handler, concurrency 8', handler: 'noop', concurrency: 8, processes: 1, contenders: ['qctl', 'qctl-metrics', 'bare', 'bullmq'], targets: {bare: 1.0, bullmq: 10, 'qctl-metrics': 0.97}, quick: true},
  {id: 'c64', what: 'no-op handler, concurrency 64', handler: 'noop', concurrency: 64, processes: 1, contenders: ['qctl', 'qctl-metrics', 'bare', 'bullmq'], targets: {'qctl-metrics': 0.97}},
  {id: '2p', what: 'no-op handler, 2 processes × concurrency 8, one group', handler: 'noop', concurrency: 8, processes: 2, contenders: ['qctl', 'bare']},
  {id: '1ms', what: `handler awaiting ${SLEEP_MS} ms, concurrency 64`, handler: 'sleep-1ms', concurrency: 64, processes: 1, contenders: ['qctl', 'bare', 'bullmq'], small: true, quick: true},
]

const fmt = (n) => n.toLocaleString('en-US')

export async function run(ctx) {
  const {quick, repoRoot, redisUrl, admin, log} = ctx
  const messages = ctx.options.lines ?? (quick ? 100_000 : 1_000_000)
  // BullMQ's backlog, and the 1 ms case's for every contender.
  const small = Math.min(messages, quick ? 30_000 : 200_000)
  const rounds = ctx.options.rounds ?? (quick ? 1 : 2)
  const cases = CASES.filter((c) => (ctx.options.cases === undefined ? !quick || c.quick : ctx.options.cases.includes(c.id)))
  if (cases.length === 0) throw new Error(`work: no such case: ${ctx.options.cases?.join(', ')} (have: ${CASES.map((c) => c.id).join(', ')})`)
  const seed = 0x5eed ^ messages
  const url = new URL(redisUrl)
  const connection = {host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null}
  const handlerPath = (handler) => join(repoRoot, 'bench/handlers', `${handler}.mjs`)
  const keysBefore = await admin.dbsize()

  // The templates: written once, untimed. The small stream backlog holds the large one's first entries.
  const templates = {[messages]: `qctl-bench:work:template:${process.pid}:${messages}`, [small]: `qctl-bench:work:template:${process.pid}:${small}`}
  const bullTemplate = `qctl-bench-bull-template-${process.pid}`
  const bullQueue = 'work'
  let avgBytes
  let started
  for (const size of new Set([messages, ...(cases.some((c) => c.small) ? [small] : [])])) {
    started = Date.now()
    await admin.del(templates[size])
    const {bytes} = await fillStream(admin, templates[size], size, seed)
    await admin.xgroup('CREATE', templates[size], GROUP, '0')
    avgBytes ??= Math.round(bytes / size)
    log(`work: stream backlog of ${fmt(size)} × ~${Math.round(bytes / size)} B written in ${((Date.now() - started) / 1000).toFixed(1)} s (untimed)`)
  }
  const needBull = cases.some((c) => c.contenders.includes('bullmq'))
  if (needBull) {
    started = Date.now()
    const queue = new Queue(bullQueue, {connection, prefix: bullTemplate})
    try {
      await fillBullQueue(queue, small, seed)
      const {waiting} = await queue.getJobCounts('waiting')
      if (waiting !== small) throw new Error(`work: the BullMQ template has ${waiting} waiting jobs, expected ${small}`)
    } finally {
      await queue.close()
    }
    log(`work: BullMQ backlog of ${fmt(small)} jobs added in ${((Date.now() - started) / 1000).toFixed(1)} s (untimed)`)
  }
  const sleeping = cases.find((c) => c.handler === 'sleep-1ms')
  const timerRate = sleeping === undefined ? undefined : await timerCeiling(sleeping.concurrency, SLEEP_MS, quick ? 1000 : 3000)
  const oneLaneRate = sleeping === undefined ? undefined : await timerCeiling(1, SLEEP_MS, 1000)
  if (timerRate !== undefined) log(`work: lanes awaiting a ${SLEEP_MS} ms timer, nothing else: ${sleeping.concurrency} lanes ${fmt(Math.round(timerRate))}/s, 1 lane ${fmt(Math.round(oneLaneRate))}/s`)
  log(`work: cases ${cases.map((c) => c.id).join(', ')}; ${rounds} round${rounds === 1 ? '' : 's'}`)

  /** Run `processes` copies of a child at once, with the CPU meter around them; fail loudly on a non-zero exit. */
  const timedChildren = async (label, round, processes, script, args) => {
    const meter = await startCpuMeter(admin)
    const children = await Promise.all(Array.from({length: processes}, () => runNode(script, args, {cwd: repoRoot})))
    const cpuMs = children.every((child) => child.cpuMs !== undefined) ? children.reduce((sum, child) => sum + child.cpuMs, 0) : undefined
    const cpu = await meter(cpuMs)
    const outputs = children.map((child) => {
      if (child.code !== 0) {
        throw new Error(`${label} (round ${round}) exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-4000)}\n${child.stdout.slice(-4000)}`)
      }
      const output = lastJsonLine(child.stdout, label)
      if (child.wallMs - output.durationMs > 5000) {
        log(`  warning: ${label} (round ${round}) ran ${((child.wallMs - output.durationMs) / 1000).toFixed(1)} s beyond its own durationMs (slow start-up, or something kept the process alive after its summary)`)
      }
      return output
    })
    const wallMs = Math.max(...children.map((child) => child.wallMs))
    const rss = children.map((child) => child.peakRssKiB)
    return {
      outputs,
      processed: outputs.reduce((sum, output) => sum + output.processed, 0),
      sample: (count) => ({
        wallMs,
        rate: count / (wallMs / 1000),
        internalMs: Math.max(...outputs.map((output) => output.durationMs)),
        peakRssKiB: rss.every((value) => value !== undefined) ? Math.max(...rss) : undefined,
        cpu,
      }),
    }
  }

  /** A qctl or bare run on a fresh copy of the stream backlog. */
  const streamRun = (c, contender, script, args) => async ({round}) => {
    const key = `qctl-bench:work:${c.id}:${contender}:${process.pid}:${round}`
    const label = `${c.id}/${contender}`
    const size = c.small ? small : messages
    try {
      await admin.del(key)
      await admin.copy(templates[size], key)
      const {outputs, processed, sample} = await timedChildren(label, round, c.processes, script, args(key))
      const info = await groupInfo(admin, key, GROUP)
      if (info === undefined || Number(info.pending) !== 0 || Number(info['entries-read']) !== size || processed !== size) {
        throw new Error(`${label} (round ${round}): expected ${size} entries read and none pending; group ${GROUP} has entries-read ${info?.['entries-read']}, pending ${info?.pending}; the run reported ${outputs.map((output) => output.processed).join(' + ')}`)
      }
      for (const output of outputs) {
        if ((output.deadLettered ?? 0) !== 0 || (output.duplicates ?? 0) !== 0) throw new Error(`${label} (round ${round}): ${output.deadLettered} dead-lettered, ${output.duplicates} duplicates`)
      }
      return sample(size)
    } finally {
      // The stream, and what qctl derives from it ({topic}:dlq, {topic}:retry:group).
      await admin.unlink(key)
      await deleteMatching(admin, `{${key}}:*`)
    }
  }

  const qctl = (c) =>
    streamRun(c, 'qctl', join(repoRoot, 'bin/run.js'), (key) => [
      'work', handlerPath(c.handler), '--topic', key, '--group', GROUP, '--concurrency', String(c.concurrency), '--until-empty', '--json', '-u', redisUrl,
    ])
  // The same run with metrics on (any free port: runs never collide).
  const qctlMetrics = (c) =>
    streamRun(c, 'qctl-metrics', join(repoRoot, 'bin/run.js'), (key) => [
      'work', handlerPath(c.handler), '--topic', key, '--group', GROUP, '--concurrency', String(c.concurrency), '--until-empty', '--json', '--metrics-port', '0', '-u', redisUrl,
    ])
  const bare = (c) =>
    streamRun(c, 'bare', join(repoRoot, 'bench/bare-consume.mjs'), (key) => [
      '--redis-url', redisUrl, '--topic', key, '--group', GROUP, '--concurrency', String(c.concurrency),
      ...(c.handler === 'noop' ? [] : ['--handler', handlerPath(c.handler)]),
    ])
  const bullmq = (c) => async ({round}) => {
    const prefix = `qctl-bench-bull-${process.pid}-${c.id}-${round}`
    const label = `${c.id}/bullmq`
    const queue = new Queue(bullQueue, {connection, prefix})
    try {
      await unlinkMatching(admin, `${prefix}:*`)
      await copyPrefix(admin, `${bullTemplate}:`, `${prefix}:`)
      const common = ['--redis-url', redisUrl, '--queue', bullQueue, '--prefix', prefix, '--expect', String(small), '--concurrency', String(c.concurrency)]
      const handlerArgs = c.handler === 'noop' ? [] : ['--handler', handlerPath(c.handler)]
      const {outputs, processed, sample} = await timedChildren(label, round, c.processes, join(repoRoot, 'bench/bullmq-worker.mjs'), [...common, ...handlerArgs])
      const counts = await queue.getJobCounts()
      const left = Object.entries(counts).filter(([, count]) => count !== 0)
      const failed = outputs.reduce((sum, output) => sum + output.failed, 0)
      if (processed !== small || failed !== 0 || left.length > 0) {
        throw new Error(`${label} (round ${round}): expected ${small} completed jobs and none left; the worker reported ${processed} completed, ${failed} failed; left: ${JSON.stringify(Object.fromEntries(left))}`)
      }
      return sample(small)
    } finally {
      await queue.close()
      await unlinkMatching(admin, `${prefix}:*`)
    }
  }
  const make = {qctl, 'qctl-metrics': qctlMetrics, bare, bullmq}

  // qctl and qctl-metrics swap places every other round: the run after another one meets what that one
  // left (a 200 MB stream being freed, allocator state), and the metrics ratio must not carry that.
  const metricsSecondOnOddRounds = (round, all) => {
    if (round % 2 === 1) return all
    const order = [...all]
    for (let index = 0; index + 1 < order.length; index++) {
      if (order[index].name.endsWith('/qctl') && order[index + 1].name.endsWith('/qctl-metrics')) [order[index], order[index + 1]] = [order[index + 1], order[index]]
    }
    return order
  }
  const contenders = cases.flatMap((c) => c.contenders.map((contender) => ({name: `${c.id}/${contender}`, describe, run: make[contender](c)})))
  let result
  try {
    result = await interleavedRounds({rounds, contenders, log, orderFor: metricsSecondOnOddRounds})
  } finally {
    await admin.unlink(...Object.values(templates))
    await unlinkMatching(admin, `${bullTemplate}:*`)
  }
  const keysAfter = await admin.dbsize()
  if (keysAfter !== keysBefore) throw new Error(`work: ${keysAfter - keysBefore} keys left behind in redis (cleanup is incomplete)`)

  // Per case: its own rows (ratios to bare taken round by round) and qctl's ratios.
  const pick = (c) => ({
    rounds: result.rounds.map(({round, samples}) => ({round, samples: Object.fromEntries(c.contenders.map((contender) => [contender, samples[`${c.id}/${contender}`]]))})),
    samples: Object.fromEntries(c.contenders.map((contender) => [contender, result.samples[`${c.id}/${contender}`]])),
  })
  const rows = []
  const targetRows = []
  const perRound = (values) => ({...summary(values), list: values.map((value) => value.toFixed(2)).join(', ')})
  // The targets are for a 1M drain: on a shorter one (--quick, --lines) process start-up is a much larger
  // share of qctl's time than of BullMQ's slower drain, so no verdict is given.
  const judged = messages >= 1_000_000
  // `anySize`: a ratio of two qctl runs (same start-up), judged on any backlog.
  const ratioRow = (what, values, target, anySize = false) => {
    const r = perRound(values)
    const verdict = target === undefined ? '–' : !judged && !anySize ? `– (for 1M, not ${fmt(messages)})` : r.median >= target ? 'met' : 'missed'
    return [what, `${r.median.toFixed(2)}x`, `${r.min.toFixed(2)}–${r.max.toFixed(2)}`, r.list, target === undefined ? '–' : `≥ ${target}x`, verdict]
  }
  // Measured after the rounds, in this (by then idle) process: see lib/metrics-cost.mjs.
  const metricsNs = cases.some((c) => c.contenders.includes('qctl-metrics')) ? await instrumentationNs(repoRoot) : 0
  for (const c of cases) {
    const sub = pick(c)
    const sizes = c.small || small === messages ? fmt(small) : c.contenders.includes('bullmq') ? `${fmt(messages)} (BullMQ: ${fmt(small)})` : fmt(messages)
    rows.push(
      ...summarizeRounds(sub, {
        scenario: `work ${sizes} × ~${avgBytes} B, ${c.what}`,
        metric: (sample) => sample.rate,
        baseline: 'bare',
        extra: {peakRssKiB: (sample) => sample.peakRssKiB, internalMs: (sample) => sample.internalMs, wallMs: (sample) => sample.wallMs},
      }),
    )
    const qctlRates = sub.rounds.map(({samples}) => samples.qctl.rate)
    if (c.contenders.includes('qctl-metrics')) {
      const ratios = sub.rounds.map(({samples}) => samples['qctl-metrics'].rate / samples.qctl.rate)
      const spread = Math.max(...ratios) - Math.min(...ratios)
      const target = c.targets?.['qctl-metrics']
      // Fewer than 3 rounds, or rounds that differ by more than twice the cost judged, cannot tell it:
      // the direct row below judges it then.
      const resolves = target === undefined || (ratios.length >= 3 && spread <= 2 * (1 - target))
      const row = ratioRow(`${c.what}: qctl --metrics-port / qctl, drain rates (the cost of metrics, #19)`, ratios, target, true)
      if (!resolves) {
        const why = ratios.length < 3 ? `${ratios.length} round${ratios.length === 1 ? '' : 's'}` : `rounds spread ${(spread * 100).toFixed(0)}%`
        row[5] = `– (${why}: cannot resolve ${((1 - target) * 100).toFixed(0)}%; see the direct row)`
      }
      targetRows.push(row)
      // qctl's time per message in this case (its median rate), and what the instrumentation adds to it.
      const perMessageNs = 1e9 / summary(qctlRates).median
      const predicted = perMessageNs / (perMessageNs + metricsNs)
      targetRows.push([
        `${c.what}: qctl --metrics-port / qctl, direct: ${metricsNs.toFixed(0)} ns of instrumentation per message on qctl's ${fmt(Math.round(perMessageNs))} ns`,
        `${predicted.toFixed(3)}x`, '–', '–', target === undefined ? '–' : `≥ ${target}x`, target === undefined ? '–' : predicted >= target ? 'met' : 'missed',
      ])
    }
    for (const other of c.contenders.filter((contender) => contender !== 'qctl' && contender !== 'qctl-metrics')) {
      const otherName = c.processes > 1 ? `${other} ×${c.processes}` : other
      targetRows.push(ratioRow(`${c.what}: qctl${c.processes > 1 ? ` ×${c.processes}` : ''} / ${otherName}`, sub.rounds.map(({samples}, i) => qctlRates[i] / samples[other].rate), c.targets?.[other]))
    }
    if (c.processes > 1 && cases.some((one) => one.id === 'c8')) {
      targetRows.push(ratioRow(`${c.what}: qctl ×${c.processes} / qctl ×1 (concurrency 8)`, result.rounds.map(({samples}) => samples[`${c.id}/qctl`].rate / samples['c8/qctl'].rate)))
    }
    if (c.handler === 'sleep-1ms') {
      const ideal = (c.concurrency * 1000) / SLEEP_MS
      targetRows.push(ratioRow(`${c.what}: qctl / ${fmt(ideal)} msg/s (${c.concurrency} in flight × ${SLEEP_MS} ms, the ideal)`, qctlRates.map((rate) => rate / ideal)))
      targetRows.push(ratioRow(`${c.what}: qctl / ${fmt(Math.round(timerRate))}/s (${c.concurrency} lanes awaiting the timer alone, measured)`, qctlRates.map((rate) => rate / timerRate)))
      targetRows.push(ratioRow(`${c.what}: qctl / ${fmt(Math.round(oneLaneRate))}/s (1 lane awaiting the timer alone: the most concurrency 1 could do)`, qctlRates.map((rate) => rate / oneLaneRate)))
      if (cases.some((one) => one.id === 'c64')) {
        targetRows.push(ratioRow(`${c.what}: qctl / qctl with the no-op handler (concurrency 64)`, result.rounds.map(({samples}) => samples[`${c.id}/qctl`].rate / samples['c64/qctl'].rate)))
      }
    }
  }
  const targets = markdownTable(['ratio (per round, then median)', 'median', 'min–max', 'per round', 'target (#6; #19 for metrics)', 'verdict'], targetRows, ['left', 'right', 'right', 'left', 'left', 'left'])
  log(`\n${targets}`)

  return {
    rows,
    details: [
      '### work: qctl\'s ratios and the targets',
      '',
      targets,
      '',
      '### work: per run',
      '',
      perRunTable(result.rounds),
      '',
      `Backlogs: ${fmt(messages)} stream entries (qctl, bare; no-op handler) and ${fmt(small)} for the ${SLEEP_MS} ms handler (all three: at most 64,000 msg/s, a longer drain only takes longer) and for every BullMQ run (BullMQ is bound by Redis's CPU, a few Lua scripts per job, so its rate does not depend on the backlog's size, and a 1M drain would take about a minute per run); rates are per wall-clock second, so ratios compare rates. Each backlog is written once (not timed) and COPY'd server-side to a fresh key or prefix before each run. bare: one XREADGROUP COUNT 100 at a time, each message JSON-parsed and passed to the handler through as many lanes as the concurrency (the next read waits for the whole batch), one XACK per batch; no read-ahead, retries, dead-lettering, reclaim or heartbeat. bullmq: a BullMQ ${BULLMQ_VERSION} Worker at the same concurrency on jobs added with addBulk (removeOnComplete). Two processes: both started at once, timed from the first spawn to the last exit; peak RSS is the larger of the two, CPU their sum. The ${SLEEP_MS} ms handler (\`bench/handlers/sleep-1ms.mjs\`, the same module for all three) awaits a ${SLEEP_MS} ms timer, so at most concurrency / ${SLEEP_MS} ms messages per second; in practice a ${SLEEP_MS} ms timer fires a little later, and ${sleeping?.concurrency} lanes doing nothing but awaiting it reached ${timerRate === undefined ? '–' : fmt(Math.round(timerRate))}/s here, 1 lane ${oneLaneRate === undefined ? '–' : fmt(Math.round(oneLaneRate))}/s (measured in the runner before the rounds). "in-process ms" is the durationMs each contender reports itself; the rest of the wall time is process start-up, module loading and exit. CPU s: the contender's own CPU time, redis-server's, and the rest of the machine's ("others": a large value means the run was disturbed).`,
    ].join('\n'),
  }
}
