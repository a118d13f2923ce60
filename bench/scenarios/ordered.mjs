// Scenario "ordered": the cost of `qctl work --ordered` (issue 17), on partitioned topics of 8
// partitions holding N ~220-byte JSON messages over 1,000 keys (published with --key-field).
// Part 1, drain rate, in interleaved rounds (ordered, unordered, bare-keyed, ordered, ...):
//   ordered:    `node bin/run.js work HANDLER -t T -g G --ordered --concurrency 8 --until-empty --json`
//   unordered:  the same without --ordered
//   bare-keyed: bench/bare-keyed-consume.mjs, the anchor: a plain ioredis loop over the 8 partition
//               streams with a Map of per-key promise chains (one message per key at a time), at
//               most 8 handlers in flight, XACK batched per stream (BullMQ's per-key ordering,
//               "groups", is in BullMQ Pro only; open-source BullMQ has none)
// once with the no-op handler on N messages (100,000; --quick 20,000) and once with a handler that
// awaits 1 ms on S (30,000; --quick 6,000: with 8 in flight, at most ~8,000/s whatever the order).
// Targets (#17): ordered >= 0.7x unordered with the no-op handler, >= 0.9x with the 1 ms handler.
// Each backlog is published once into a template topic (untimed); before each run a fresh topic is
// created (`qctl topic create T --partitions 8`, untimed) and the template's partition streams are
// COPY'd onto its streams (same partition count and hash, so every key lands where it would have).
// Each run is a whole child process timed from spawn to exit, then checked (every partition's group:
// nothing pending, entries-read equal to its length, in all N; qctl's summary: N processed, nothing
// lost, duplicated or dead-lettered; bare-keyed: no order violation), and the topic's keys deleted.
// Part 2, rebalance times, with `--ordered --lease-timeout 3s` workers on an empty 8-partition topic,
// read from the partitions' lease keys (`GET {stream}:lease:G` = "<token>:<owner>") every 10 ms:
//   join:    a third worker spawned (timed from spawn, so Node start-up is included) until the leases
//            are held 3/3/2 by the three;
//   SIGTERM: one of three gets SIGTERM, until the other two hold all 8, 4/4;
//   SIGKILL: one of three gets SIGKILL (its leases must expire), until the other two hold all 8, 4/4.
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {lastJsonLine} from '../lib/backlog.mjs'
import {runNode, runningChildren} from '../lib/child.mjs'
import {startCpuMeter} from '../lib/cpu-meter.mjs'
import {ensureGenerated, makeRecord} from '../lib/ndjson-data.mjs'
import {deleteMatching} from '../lib/redis-keys.mjs'
import {interleavedRounds, summarizeRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {describeSample as describe, markdownTable, perRunTable} from '../lib/table.mjs'
import {timerCeiling} from '../lib/timer-ceiling.mjs'

export const name = 'ordered'

const GROUP = 'bench'
const PARTITIONS = 8
const KEYS = 1000
const CONCURRENCY = 8
const SLEEP_MS = 1
const LEASE_TIMEOUT = '3s'
const CONTENDERS = ['ordered', 'unordered', 'bare-keyed']

const fmt = (n) => Math.round(n).toLocaleString('en-US')

/** NDJSON of `lines` order records, each with an `account` of KEYS values (seeded), cached in dataDir. */
async function keyedNdjson(dataDir, lines, log) {
  const keyed = (index, random) => {
    const account = `acct-${String(Math.floor(random() * KEYS)).padStart(4, '0')}`
    return `{"account":"${account}",${makeRecord(index, random).slice(1)}`
  }
  return (await ensureGenerated(dataDir, `ordered-keys${KEYS}-v1-${lines}`, lines, 0x0bde, keyed, (line) => log(`ordered: ${line}`))).path
}

export async function run(ctx) {
  const {quick, repoRoot, redisUrl, admin, log} = ctx
  const messages = ctx.options.lines ?? (quick ? 20_000 : 100_000)
  const small = Math.min(messages, quick ? 6_000 : 30_000)
  const rounds = ctx.options.rounds ?? (quick ? 1 : 5)
  const repetitions = quick ? 1 : 3
  const bin = join(repoRoot, 'bin/run.js')
  const handlerPath = (handler) => join(repoRoot, 'bench/handlers', `${handler}.mjs`)
  const keysBefore = await admin.dbsize()

  const qctl = async (args) => {
    const child = await runNode(bin, [...args, '-u', redisUrl], {cwd: repoRoot, measureRss: false, timeoutMs: 120_000})
    if (child.code !== 0) throw new Error(`qctl ${args.join(' ')} exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-3000)}`)
    return child
  }
  const streamsOf = async (topic) => JSON.parse(await admin.hget(`qctl:topic:{${topic}}`, 'streams'))
  const createTopic = async (topic) => {
    await qctl(['topic', 'create', topic, '--partitions', String(PARTITIONS), '--json'])
    return streamsOf(topic)
  }
  const dropTopic = async (topic) => {
    await admin.unlink(`qctl:topic:{${topic}}`)
    await deleteMatching(admin, `{${topic}:p*`)
  }

  // The templates, published once (untimed).
  const templates = {}
  for (const size of new Set([messages, small])) {
    const topic = `qctl-bench:ordered:template:${process.pid}:${size}`
    const file = await keyedNdjson(ctx.dataDir, size, log)
    const started = Date.now()
    const streams = await createTopic(topic)
    await qctl(['publish', topic, file, '--key-field', 'account', '--json'])
    const lengths = await Promise.all(streams.map((stream) => admin.xlen(stream)))
    if (lengths.reduce((a, b) => a + b, 0) !== size) throw new Error(`ordered: template ${topic} holds ${lengths.join('+')}, expected ${size}`)
    templates[size] = {topic, streams}
    log(`ordered: template of ${fmt(size)} keyed messages over ${KEYS} keys published in ${((Date.now() - started) / 1000).toFixed(1)} s (untimed); per partition ${lengths.map(fmt).join(', ')}`)
  }
  const timerRate = await timerCeiling(CONCURRENCY, SLEEP_MS, quick ? 1000 : 2000)
  log(`ordered: ${CONCURRENCY} lanes awaiting a ${SLEEP_MS} ms timer, nothing else: ${fmt(timerRate)}/s`)

  const CASES = [
    {id: 'noop', what: 'no-op handler', handler: 'noop', size: messages, target: 0.7},
    {id: '1ms', what: `handler awaiting ${SLEEP_MS} ms`, handler: 'sleep-1ms', size: small, target: 0.9},
  ]

  /** One timed drain of a fresh copy of the case's template. */
  const drain = (c, contender) => async ({round}) => {
    const topic = `qctl-bench:ordered:${c.id}:${contender}:${process.pid}:${round}`
    const label = `${c.id}/${contender} (round ${round})`
    try {
      const streams = await createTopic(topic)
      for (const [i, stream] of streams.entries()) await admin.copy(templates[c.size].streams[i], stream, 'REPLACE')
      const args =
        contender === 'bare-keyed'
          ? [join(repoRoot, 'bench/bare-keyed-consume.mjs'), ['--redis-url', redisUrl, '--topic', topic, '--group', GROUP, '--concurrency', String(CONCURRENCY), ...(c.handler === 'noop' ? [] : ['--handler', handlerPath(c.handler)])]]
          : [bin, ['work', handlerPath(c.handler), '-t', topic, '-g', GROUP, ...(contender === 'ordered' ? ['--ordered'] : []), '--concurrency', String(CONCURRENCY), '--until-empty', '--json', '-u', redisUrl]]
      const meter = await startCpuMeter(admin)
      const child = await runNode(args[0], args[1], {cwd: repoRoot, timeoutMs: 60_000 + c.size * 2, stdoutTailBytes: 64 * 1024})
      const cpu = await meter(child.cpuMs)
      if (child.timedOut) throw new Error(`${label}: still running after its time bound; killed (a hang?)\n${child.stderr.slice(-3000)}\n${child.stdout.slice(-2000)}`)
      if (child.code !== 0) throw new Error(`${label}: exited with ${child.code ?? child.signal}\n${child.stderr.slice(-3000)}\n${child.stdout.slice(-2000)}`)
      const out = lastJsonLine(child.stdout, label)
      const problems = []
      if (contender === 'bare-keyed') {
        if (out.processed !== c.size || out.orderViolations !== 0) problems.push(`processed ${out.processed}, order violations ${out.orderViolations}`)
      } else {
        const want = {event: 'summary', processed: c.size, deadLettered: 0, lost: 0, duplicates: 0, unfinished: 0, stopReason: 'until-empty'}
        for (const [field, value] of Object.entries(want)) if (out[field] !== value) problems.push(`${field} ${out[field]}, expected ${value}`)
      }
      let read = 0
      for (const stream of streams) {
        const info = (await admin.call('XINFO', 'GROUPS', stream)).map((reply) => Object.fromEntries(Array.from({length: reply.length / 2}, (_, i) => [reply[2 * i], reply[2 * i + 1]]))).find((g) => g.name === GROUP)
        const length = await admin.xlen(stream)
        if (info === undefined) problems.push(`${stream}: no group`)
        else if (Number(info.pending) !== 0 || Number(info['entries-read']) !== length) problems.push(`${stream}: ${info.pending} pending, entries-read ${info['entries-read']} of ${length}`)
        else read += length
      }
      if (problems.length === 0 && read !== c.size) problems.push(`${read} entries read in all, expected ${c.size}`)
      if (problems.length > 0) throw new Error(`${label}: ${problems.join('; ')}`)
      return {wallMs: child.wallMs, rate: c.size / (child.wallMs / 1000), internalMs: out.durationMs, internalRate: c.size / (out.durationMs / 1000), peakRssKiB: child.peakRssKiB, cpu}
    } finally {
      await dropTopic(topic)
    }
  }

  const contenders = CASES.flatMap((c) => CONTENDERS.map((contender) => ({name: `${c.id}/${contender}`, describe, run: drain(c, contender)})))
  log(`ordered: cases ${CASES.map((c) => `${c.id} (${fmt(c.size)})`).join(', ')}; ${rounds} round${rounds === 1 ? '' : 's'}`)
  const result = await interleavedRounds({rounds, contenders, log})

  const rows = []
  const ratioRows = []
  const ratioRow = (what, values, target) => {
    const r = summary(values)
    return [what, `${r.median.toFixed(2)}x`, `${r.min.toFixed(2)}–${r.max.toFixed(2)}`, values.map((v) => v.toFixed(2)).join(', '), target === undefined ? '–' : `≥ ${target}x`, target === undefined ? '–' : r.median >= target ? 'met' : 'missed']
  }
  for (const c of CASES) {
    const sub = {
      rounds: result.rounds.map(({round, samples}) => ({round, samples: Object.fromEntries(CONTENDERS.map((k) => [k, samples[`${c.id}/${k}`]]))})),
      samples: Object.fromEntries(CONTENDERS.map((k) => [k, result.samples[`${c.id}/${k}`]])),
    }
    rows.push(...summarizeRounds(sub, {scenario: `ordered: ${fmt(c.size)} msgs, ${KEYS} keys, ${PARTITIONS} partitions, ${c.what}, concurrency ${CONCURRENCY}`, metric: (s) => s.rate, baseline: 'unordered', extra: {peakRssKiB: (s) => s.peakRssKiB}}))
    const per = (a, b) => sub.rounds.map(({samples}) => samples[a].rate / samples[b].rate)
    ratioRows.push(ratioRow(`${c.what}: ordered / unordered`, per('ordered', 'unordered'), c.target))
    ratioRows.push(ratioRow(`${c.what}: ordered / bare-keyed`, per('ordered', 'bare-keyed')))
    ratioRows.push(ratioRow(`${c.what}: ordered / unordered, in-process rates (start-up and exit left out)`, sub.rounds.map(({samples}) => samples.ordered.internalRate / samples.unordered.internalRate)))
    if (c.handler !== 'noop') ratioRows.push(ratioRow(`${c.what}: ordered / ${fmt(timerRate)}/s (${CONCURRENCY} lanes awaiting the timer alone)`, sub.rounds.map(({samples}) => samples.ordered.rate / timerRate)))
  }
  const ratios = markdownTable(['ratio (per round, then median)', 'median', 'min–max', 'per round', 'target (#17)', 'verdict'], ratioRows, ['left', 'right', 'right', 'left', 'left', 'left'])
  log(`\n${ratios}`)

  for (const size of Object.keys(templates)) await dropTopic(templates[size].topic)

  // Part 2: rebalance times.
  const rebalance = await rebalanceTimes({admin, repoRoot, redisUrl, log, repetitions, createTopic, dropTopic, noop: handlerPath('noop')})

  const keysAfter = await admin.dbsize()
  if (keysAfter !== keysBefore) log(`ordered: warning: ${keysAfter - keysBefore} keys left behind in redis`)

  const ms = (r) => `${fmt(r.median)} ms (${fmt(r.min)}–${fmt(r.max)}, ${r.n} runs)`
  const rebalanceTable = markdownTable(
    ['event', 'until', 'median (min–max, runs)', 'per run ms'],
    [
      ['a third worker spawned (Node start-up included)', 'leases held 3/3/2 by the three', ms(summary(rebalance.join)), rebalance.join.map(fmt).join(', ')],
      ['one of three gets SIGTERM', 'the other two hold all 8, 4/4', ms(summary(rebalance.term)), rebalance.term.map(fmt).join(', ')],
      [`one of three gets SIGKILL (lease timeout ${LEASE_TIMEOUT})`, 'the other two hold all 8, 4/4', ms(summary(rebalance.kill)), rebalance.kill.map(fmt).join(', ')],
    ],
    ['left', 'left', 'right', 'left'],
  )
  log(`\n${rebalanceTable}`)

  return {
    rows,
    details: [
      '### ordered: ratios and the targets',
      '',
      ratios,
      '',
      `### ordered: rebalance times (\`--ordered --lease-timeout ${LEASE_TIMEOUT}\`, ${PARTITIONS} partitions, empty topic)`,
      '',
      rebalanceTable,
      '',
      `Leases read with \`GET {stream}:lease:${GROUP}\` for every partition every 10 ms; a worker spawned with \`--consumer\` naming it, so the owner in "<token>:<owner>" is known. ${repetitions} repetition${repetitions === 1 ? '' : 's'}, each: two workers until 4/4, a third joins (3/3/2), SIGTERM one, a fourth joins (3/3/2), SIGKILL one.`,
      '',
      '### ordered: per run',
      '',
      perRunTable(result.rounds),
      '',
      `Topics of ${PARTITIONS} partitions; messages ~220-byte JSON order records with an \`account\` field of ${KEYS} values (seeded), published with \`--key-field account\`; ${fmt(messages)} messages with the no-op handler, ${fmt(small)} with the ${SLEEP_MS} ms handler (\`bench/handlers/sleep-1ms.mjs\`; ${CONCURRENCY} lanes awaiting only the timer reached ${fmt(timerRate)}/s here). Contenders run in interleaved rounds (ordered, unordered, bare-keyed per case), each a whole process timed from spawn to exit; ratios are per round, then the median. bare-keyed: \`bench/bare-keyed-consume.mjs\` (XREADGROUP COUNT 100 over the 8 streams at once, per-key promise chains, at most ${CONCURRENCY} handlers in flight, XACK batched per stream after each read; no retries, leases or fencing).`,
    ].join('\n'),
  }
}

/** Spawn an ordered worker named `consumer`; resolves nothing, returns the child (stdout ignored, stderr kept). */
function spawnWorker({repoRoot, redisUrl, topic, consumer, noop}) {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/run.js'), 'work', noop, '-t', topic, '-g', GROUP, '--ordered', '--lease-timeout', LEASE_TIMEOUT, '--concurrency', String(CONCURRENCY), '--consumer', consumer, '--json', '-u', redisUrl], {cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe']})
  runningChildren.add(child)
  child.stderrText = ''
  child.stderr.setEncoding('utf8').on('data', (chunk) => (child.stderrText += chunk))
  child.exited = new Promise((done) => child.once('exit', (code, signal) => done({code, signal})))
  child.exited.then(() => runningChildren.delete(child))
  child.consumer = consumer
  return child
}

async function rebalanceTimes({admin, repoRoot, redisUrl, log, repetitions, createTopic, dropTopic, noop}) {
  const join_ = []
  const term = []
  const kill = []
  for (let rep = 1; rep <= repetitions; rep++) {
    const topic = `qctl-bench:ordered:rebalance:${process.pid}:${rep}`
    const workers = []
    try {
      const streams = await createTopic(topic)
      const leases = async () => {
        const values = await admin.mget(...streams.map((stream) => `${stream}:lease:${GROUP}`))
        const held = {}
        for (const value of values) {
          if (value === null) continue
          const owner = value.slice(value.indexOf(':') + 1)
          held[owner] = (held[owner] ?? 0) + 1
        }
        return held
      }
      /** Poll until the leases are held exactly as `want` ({consumer: count}); ms since `from`. */
      const until = async (what, want, from, timeoutMs = 60_000) => {
        let held
        for (;;) {
          held = await leases()
          const owners = Object.keys(held)
          if (owners.length === Object.keys(want).length && owners.every((owner) => held[owner] === want[owner])) return performance.now() - from
          if (performance.now() - from > timeoutMs) {
            throw new Error(`ordered rebalance (repetition ${rep}): ${what}: not reached after ${timeoutMs / 1000} s; leases held ${JSON.stringify(held)}; want ${JSON.stringify(want)}\n${workers.map((w) => `${w.consumer}: ${w.stderrText.slice(-1500)}`).join('\n')}`)
          }
          await sleep(10)
        }
      }
      /** The two-of-three-at-3 shares: any worker of `names` may hold the 2. */
      const shared332 = async (what, names, from) => {
        for (;;) {
          const held = await leases()
          const counts = names.map((n) => held[n] ?? 0).sort()
          if (Object.keys(held).length === 3 && counts.join() === '2,3,3') return performance.now() - from
          if (performance.now() - from > 60_000) throw new Error(`ordered rebalance (repetition ${rep}): ${what}: not 3/3/2 after 60 s; leases held ${JSON.stringify(held)}`)
          await sleep(10)
        }
      }
      const start = (consumer) => {
        const worker = spawnWorker({repoRoot, redisUrl, topic, consumer, noop})
        workers.push(worker)
        return worker
      }
      const [w1, w2] = [start(`w1-${rep}`), start(`w2-${rep}`)]
      await until('two workers start', {[w1.consumer]: 4, [w2.consumer]: 4}, performance.now())
      await sleep(500)

      let from = performance.now()
      const w3 = start(`w3-${rep}`)
      join_.push(await shared332('a third worker joins', [w1.consumer, w2.consumer, w3.consumer], from))
      await sleep(500)

      from = performance.now()
      w1.kill('SIGTERM')
      term.push(await until('SIGTERM of one of three', {[w2.consumer]: 4, [w3.consumer]: 4}, from))
      const exit1 = await w1.exited
      if (exit1.code !== 0) log(`  warning: ${w1.consumer} exited with ${exit1.code ?? exit1.signal} after SIGTERM`)
      await sleep(500)

      from = performance.now()
      const w4 = start(`w4-${rep}`)
      join_.push(await shared332('a fourth worker joins', [w2.consumer, w3.consumer, w4.consumer], from))
      await sleep(500)

      from = performance.now()
      w2.kill('SIGKILL')
      kill.push(await until('SIGKILL of one of three', {[w3.consumer]: 4, [w4.consumer]: 4}, from))
      log(`  rebalance ${rep}/${repetitions}: join ${fmt(join_.at(-2))} and ${fmt(join_.at(-1))} ms, SIGTERM ${fmt(term.at(-1))} ms, SIGKILL ${fmt(kill.at(-1))} ms`)
    } finally {
      for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGTERM')
      await Promise.race([Promise.all(workers.map((w) => w.exited)), sleep(10_000)])
      for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL')
      await Promise.all(workers.map((w) => w.exited))
      await dropTopic(topic)
    }
  }
  return {join: join_, term, kill}
}
