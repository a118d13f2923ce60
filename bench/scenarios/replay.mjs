// Scenario "replay": `qctl dlq replay` of a large dead-letter stream, messages per second.
// Each round fills a fresh topic's dead-letter stream `{TOPIC}:dlq` with N real dead-letter
// entries (not timed): N ~200-byte order messages are XADDed to the topic in qctl's wire format
// (every other one with a `key` and `headers`, as `--key-field`/`--header` publish them), then a
// real `qctl work bench/handlers/always-permanent.mjs --concurrency 8 --until-empty` dead-letters
// every one (a PermanentError), so the entries are exactly what qctl writes (dead-letter-4.lua:
// the original fields, then the dlq.* fields). Timed: `node bin/run.js dlq replay TOPIC --yes
// --json` as a whole process, spawn to exit. Checked: the JSON reports N selected and replayed,
// 0 skipped, 0 remaining; the DLQ is empty; the topic holds only the N originals and the replay
// stream of the failing group (`{TOPIC}:replay:billing`) the N replayed entries; its first and last
// entries carry an original's `data` and a replay record in `headers`. Every key is deleted afterwards. N = 100,000, 3 rounds (--quick: 20,000, 1 round).
// No target is set for the replay (issue 6); the figure is reported.
// Also timed in each round, on the same full DLQ before the replay, spawn to exit: the dry runs
// `dlq replay --dry-run --json`, `dlq replay --dry-run` for people (stdout piped), the same with
// `--error`, and `dlq purge --dry-run --error --json`. Target (issue 15, point 9): each takes no
// longer than the replay itself. Checked: each reports (or lists) all N entries and changes nothing.
import {join} from 'node:path'

import {lastJsonLine} from '../lib/backlog.mjs'
import {runNode, parseJsonOutput} from '../lib/child.mjs'
import {startCpuMeter} from '../lib/cpu-meter.mjs'
import {makeRecord, prng} from '../lib/ndjson-data.mjs'
import {deleteMatching} from '../lib/redis-keys.mjs'
import {interleavedRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {cpuSeconds, markdownTable} from '../lib/table.mjs'

export const name = 'replay'

/** The dry runs timed beside the replay; the handler's errors are all PermanentError, so `--error` selects every entry. */
const DRY_RUNS = [
  {name: 'replay --dry-run --json', json: true, args: (topic) => ['dlq', 'replay', topic, '--dry-run', '--json']},
  {name: 'replay --dry-run (people)', json: false, args: (topic) => ['dlq', 'replay', topic, '--dry-run']},
  {name: 'replay --dry-run --error --json', json: true, args: (topic) => ['dlq', 'replay', topic, '--dry-run', '--error', '^PermanentError$', '--json']},
  {name: 'replay --dry-run --error (people)', json: false, args: (topic) => ['dlq', 'replay', topic, '--dry-run', '--error', '^PermanentError$']},
  {name: 'purge --dry-run --error --json', json: true, args: (topic) => ['dlq', 'purge', topic, '--dry-run', '--error', '^PermanentError$', '--json']},
]

const CHUNK = 1000
const HEADERS = '{"source":"checkout"}'

const fieldsOf = (pairs) => {
  const fields = {}
  for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i]] ??= pairs[i + 1]
  return fields
}

export async function run(ctx) {
  const {quick, repoRoot, redisUrl, admin, log} = ctx
  const entries = ctx.options.lines ?? (quick ? 20_000 : 100_000)
  const rounds = ctx.options.rounds ?? (quick ? 1 : 3)
  const random = prng(0xd1e ^ entries)
  const records = Array.from({length: entries}, (_, index) => makeRecord(index, random))
  const messageFields = (index) => {
    const fields = ['data', records[index]]
    if (index % 2 === 1) fields.push('key', JSON.parse(records[index]).customer.id, 'headers', HEADERS)
    return fields
  }
  const bin = join(repoRoot, 'bin/run.js')
  log(`replay: ${entries.toLocaleString('en-US')} dead-letter entries per round, ${rounds} rounds`)

  /** Publish the originals and have a real worker dead-letter all of them (not timed). */
  const fill = async (topic, round) => {
    for (let start = 0; start < entries; start += CHUNK) {
      const pipeline = admin.pipeline()
      for (let index = start; index < Math.min(entries, start + CHUNK); index++) pipeline.xadd(topic, '*', ...messageFields(index))
      for (const [error] of await pipeline.exec()) if (error) throw error
    }
    const started = performance.now()
    const worker = await runNode(bin, ['work', join(repoRoot, 'bench/handlers/always-permanent.mjs'), '--topic', topic, '--group', 'billing', '--concurrency', '8', '--until-empty', '--json', '-u', redisUrl], {cwd: repoRoot, measureRss: false})
    const fillMs = performance.now() - started
    if (worker.code !== 0) throw new Error(`replay (round ${round}): filling the DLQ with qctl work failed (exit ${worker.code ?? worker.signal}):\n${worker.stderr.slice(-3000)}\n${worker.stdout.slice(-2000)}`)
    const summaryLine = lastJsonLine(worker.stdout, 'qctl work (fill)')
    const dlqLength = await admin.xlen(`{${topic}}:dlq`)
    if (summaryLine.deadLettered !== entries || dlqLength !== entries) {
      throw new Error(`replay (round ${round}): expected ${entries} dead-lettered entries; the worker reported ${summaryLine.deadLettered}, the DLQ holds ${dlqLength}`)
    }
    return fillMs
  }

  /**
   * The replayed entries are all in the replay stream of the group that failed them (billing), with
   * their data and a replay record; the topic is untouched; the DLQ is empty.
   */
  const check = async (topic, round, output) => {
    const dlq = `{${topic}}:dlq`
    const replayStream = `{${topic}}:replay:billing`
    const problems = []
    if (output.selected !== entries || output.replayed !== entries || output.skipped !== 0 || output.remaining !== 0) {
      problems.push(`the replay reported selected ${output.selected}, replayed ${output.replayed}, skipped ${output.skipped}, remaining ${output.remaining}`)
    }
    const dlqLength = await admin.xlen(dlq)
    const topicLength = await admin.xlen(topic)
    const replayLength = await admin.xlen(replayStream)
    if (dlqLength !== 0) problems.push(`the DLQ still holds ${dlqLength} entries`)
    if (topicLength !== entries) problems.push(`the topic holds ${topicLength} entries, expected ${entries} (the originals only)`)
    if (replayLength !== entries) problems.push(`the replay stream holds ${replayLength} entries, expected ${entries}`)
    // The replay does not report the new entries' IDs: the first and the last of the replay stream.
    const [[, firstPairs]] = await admin.xrange(replayStream, '-', '+', 'COUNT', 1)
    const [[, lastPairs]] = await admin.xrevrange(replayStream, '+', '-', 'COUNT', 1)
    const originals = new Set(records)
    for (const [index, pairs] of [['first', firstPairs], ['last', lastPairs]]) {
      const fields = fieldsOf(pairs)
      if (!originals.has(fields.data)) problems.push(`the ${index} replayed entry has data no original had`)
      if (!/"qctl-replayed-from":"\d+-\d+"/.test(fields.headers ?? '')) problems.push(`the ${index} replayed entry has no replay record in its headers: ${fields.headers}`)
      if (Object.keys(fields).some((field) => field.startsWith('dlq.'))) problems.push(`the ${index} replayed entry kept dlq.* fields`)
    }
    if (problems.length > 0) throw new Error(`replay (round ${round}): ${problems.join('; ')}`)
  }

  const qctl = {
    name: 'qctl dlq replay',
    describe: (s) =>
      `${(s.wallMs / 1000).toFixed(2)} s, ${Math.round(s.rate).toLocaleString('en-US')} msg/s (in-process ${s.internalMs} ms = ${Math.round(s.internalRate).toLocaleString('en-US')} msg/s, peak RSS ${s.peakRssKiB ? (s.peakRssKiB / 1024).toFixed(0) : '?'} MiB, ` +
      `CPU s: self ${cpuSeconds(s.cpu.childMs)} redis ${cpuSeconds(s.cpu.redisMs)} others ${cpuSeconds(s.cpu.othersMs)}); fill by qctl work ${(s.fillMs / 1000).toFixed(1)} s`,
    async run({round}) {
      const topic = `qctl-bench.replay.${process.pid}.${round}`
      try {
        await admin.del(topic)
        await deleteMatching(admin, `{${topic}}:*`)
        const fillMs = await fill(topic, round)
        const dryRuns = {}
        for (const dry of DRY_RUNS) {
          const child = await runNode(bin, [...dry.args(topic), '-u', redisUrl], {cwd: repoRoot, measureRss: false})
          if (child.code !== 0) throw new Error(`replay (round ${round}): ${dry.name} exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-3000)}`)
          const selected = dry.json ? parseJsonOutput(child.stdout, dry.name).selected : Number((/would (?:replay|delete) ([\d,]+) entr/.exec(child.stdout)?.[1] ?? '').replaceAll(',', ''))
          if (selected !== entries) throw new Error(`replay (round ${round}): ${dry.name} selected ${selected}, expected ${entries}`)
          if ((await admin.xlen(`{${topic}}:dlq`)) !== entries) throw new Error(`replay (round ${round}): ${dry.name} changed the DLQ`)
          dryRuns[dry.name] = child.wallMs
        }
        const meter = await startCpuMeter(admin)
        const child = await runNode(bin, ['dlq', 'replay', topic, '--yes', '--json', '-u', redisUrl], {cwd: repoRoot})
        const cpu = await meter(child.cpuMs)
        if (child.code !== 0) throw new Error(`replay (round ${round}): qctl dlq replay exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-3000)}\n${child.stdout.slice(-2000)}`)
        const output = parseJsonOutput(child.stdout, 'qctl dlq replay')
        await check(topic, round, output)
        return {
          wallMs: child.wallMs,
          rate: entries / (child.wallMs / 1000),
          internalMs: output.durationMs,
          internalRate: entries / (output.durationMs / 1000),
          peakRssKiB: child.peakRssKiB,
          cpu,
          fillMs,
          dryRuns,
        }
      } finally {
        await admin.del(topic)
        await deleteMatching(admin, `{${topic}}:*`)
      }
    },
  }

  const keysBefore = await admin.dbsize()
  const result = await interleavedRounds({rounds, contenders: [qctl], log})
  const keysAfter = await admin.dbsize()
  if (keysAfter !== keysBefore) log(`warning: replay: ${keysAfter - keysBefore} keys left behind in redis`)

  const samples = result.samples[qctl.name]
  const rate = summary(samples.map((s) => s.rate))
  const internal = summary(samples.map((s) => s.internalRate))
  const wall = summary(samples.map((s) => s.wallMs / 1000))
  const rss = summary(samples.map((s) => s.peakRssKiB))
  const grouped = (value) => Math.round(value).toLocaleString('en-US')
  const table = markdownTable(
    ['scenario', 'contender', 'median msg/s', 'min–max', 'runs', 'in-process msg/s (median)', 'wall s (median)', 'peak RSS (median)', 'target'],
    [[
      `dlq replay of ${entries.toLocaleString('en-US')} dead-letter entries, whole process`,
      qctl.name,
      grouped(rate.median),
      `${grouped(rate.min)}–${grouped(rate.max)}`,
      String(rate.n),
      grouped(internal.median),
      wall.median.toFixed(2),
      `${(rss.median / 1024).toFixed(0)} MiB`,
      'none set (reported)',
    ]],
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  )
  const perRun = markdownTable(
    ['round', 'entries', 'wall s', 'msg/s', 'in-process ms', 'in-process msg/s', 'peak RSS MiB', 'CPU s: self', 'redis', 'others', 'fill: qctl work dead-lettering, s (msg/s)'],
    result.rounds.map(({round, samples: {[qctl.name]: s}}) => [
      String(round),
      entries.toLocaleString('en-US'),
      (s.wallMs / 1000).toFixed(2),
      grouped(s.rate),
      String(s.internalMs),
      grouped(s.internalRate),
      s.peakRssKiB ? (s.peakRssKiB / 1024).toFixed(0) : '–',
      cpuSeconds(s.cpu.childMs),
      cpuSeconds(s.cpu.redisMs),
      cpuSeconds(s.cpu.othersMs),
      `${(s.fillMs / 1000).toFixed(1)} (${grouped(entries / (s.fillMs / 1000))})`,
    ]),
    ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  )
  const dryTable = markdownTable(
    ['command (spawn to exit)', 'wall s (median)', 'min–max', 'the replay itself, wall s (median)', 'ratio to the replay (median of rounds)', 'target (issue 15)'],
    DRY_RUNS.map((dry) => {
      const times = summary(samples.map((s) => s.dryRuns[dry.name] / 1000))
      const ratio = summary(samples.map((s) => s.dryRuns[dry.name] / s.wallMs))
      return [
        `dlq ${dry.name}, ${entries.toLocaleString('en-US')} entries`,
        times.median.toFixed(2),
        `${times.min.toFixed(2)}–${times.max.toFixed(2)}`,
        wall.median.toFixed(2),
        `${ratio.median.toFixed(2)}x`,
        `≤ 1x the replay: **${ratio.max <= 1 ? 'met' : ratio.median <= 1 ? 'met in the median' : 'missed'}**`,
      ]
    }),
    ['left', 'right', 'right', 'right', 'right', 'left'],
  )
  return {
    rows: [],
    table: `${table}\n\n${dryTable}`,
    details: [
      '### replay: per run',
      '',
      perRun,
      '',
      `Timed: \`node bin/run.js dlq replay TOPIC --yes --json -u URL\`, spawn to exit (msg/s = entries / wall time; "in-process": from the durationMs it reports, which covers moving the entries only: not process start-up, connecting, or the selection scan of the DLQ before the first move). Not timed: ${entries.toLocaleString('en-US')} ~200-byte order messages XADDed to a fresh topic (every other one with \`key\` and \`headers\`), then dead-lettered by a real \`qctl work bench/handlers/always-permanent.mjs --concurrency 8 --until-empty\` (PermanentError), so the DLQ entries are exactly what qctl writes; the fill's duration is shown as a by-product (qctl work's dead-lettering rate, including its start-up). Checked after each run: ${entries.toLocaleString('en-US')} selected and replayed, none skipped or remaining, the DLQ empty, the topic holding originals + replayed, the first and last replayed entries with their original data, a replay record in headers and no dlq.* fields. CPU s: the replay process, redis-server, and the rest of the machine ("others").`,
    ].join('\n'),
  }
}
