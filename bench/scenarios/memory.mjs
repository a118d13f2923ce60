// Scenario "memory": what a backlog costs, in the worker and in Redis.
//   - The worker's peak RSS draining a 100,000 and a 2,000,000 backlog (--quick: 300,000; --lines
//     sets the large one) of ~200-byte JSON messages: `qctl work` with a no-op handler at
//     concurrency 8, --until-empty. Backpressure (a bounded read-ahead) should keep the two close.
//     bench/bare-consume.mjs (no read-ahead) runs the same drains as a reference, and both also run
//     on an empty backlog (start-up and exit only: the floor).
//   - Redis bytes per stored message: INFO memory's used_memory (less mem_clients_normal, the
//     clients' buffers) before and after writing N entries, divided by N; MEMORY USAGE of the stream
//     key (SAMPLES 0: every node) divided by N as a cross-check. For both backlogs.
// Targets (#6): peak RSS under 120 MB (10^6 bytes) for both, the large run within 10% of the small one.
// The backlogs are written once (untimed), then COPY'd to a fresh key before each run; each run is
// a whole child process; the group is checked afterwards (nothing pending, entries-read == N) and
// every key is deleted.
import {join} from 'node:path'

import {fillStream, groupInfo, lastJsonLine} from '../lib/backlog.mjs'
import {runNode} from '../lib/child.mjs'
import {startCpuMeter} from '../lib/cpu-meter.mjs'
import {deleteMatching} from '../lib/redis-keys.mjs'
import {interleavedRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {describeSample as describe, perRunTable, renderTargetTable} from '../lib/table.mjs'

export const name = 'memory'

const GROUP = 'bench'
const CONCURRENCY = 8
/** Targets (#6): peak RSS in bytes, and the large backlog's peak RSS over the small one's. */
const RSS_LIMIT = 120e6
const RSS_GROWTH = 1.1

const fmt = (n) => n.toLocaleString('en-US')
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const runName = (contender, size) => `${contender} ${size === 0 ? 'empty' : fmt(size)}`

/** used_memory less the clients' buffers (a big pipelined write leaves a query buffer behind for a while). */
async function storedBytes(admin) {
  const info = await admin.info('memory')
  const field = (name) => Number(info.match(new RegExp(`^${name}:(\\d+)`, 'm'))?.[1] ?? 0)
  return field('used_memory') - field('mem_clients_normal')
}

export async function run(ctx) {
  const {quick, repoRoot, redisUrl, admin, log} = ctx
  const smallSize = 100_000
  const largeSize = ctx.options.lines ?? (quick ? 300_000 : 2_000_000)
  const rounds = ctx.options.rounds ?? (quick ? 1 : 3)
  const sizes = [smallSize, largeSize]
  const keysBefore = await admin.dbsize()

  // The backlogs, written once (untimed), with Redis's memory measured around each write; and an
  // empty stream with its group for the floor.
  const templates = {0: `qctl-bench:memory:template:${process.pid}:0`}
  const stored = {}
  await admin.del(templates[0])
  await admin.xgroup('CREATE', templates[0], GROUP, '0', 'MKSTREAM')
  for (const size of sizes) {
    const key = `qctl-bench:memory:template:${process.pid}:${size}`
    templates[size] = key
    await admin.del(key)
    await sleep(200)
    const before = await storedBytes(admin)
    const started = Date.now()
    const {bytes} = await fillStream(admin, key, size, 0x5eed ^ size)
    await sleep(200)
    const after = await storedBytes(admin)
    const usage = Number(await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'))
    stored[size] = {perMessage: (after - before) / size, usagePerMessage: usage / size, payload: bytes / size}
    await admin.xgroup('CREATE', key, GROUP, '0')
    log(`memory: ${fmt(size)} entries written in ${((Date.now() - started) / 1000).toFixed(1)} s (untimed): ${stored[size].perMessage.toFixed(1)} B per entry (used_memory), ${stored[size].usagePerMessage.toFixed(1)} B (MEMORY USAGE), payload ${stored[size].payload.toFixed(1)} B`)
  }

  /** One drain of a fresh copy of the `size` backlog by `script`; checked and cleaned up. */
  const drain = (contender, size, script, args) => async ({round}) => {
    const key = `qctl-bench:memory:${contender}:${size}:${process.pid}:${round}`
    const label = runName(contender, size)
    try {
      await admin.del(key)
      await admin.copy(templates[size], key)
      const meter = await startCpuMeter(admin)
      const child = await runNode(script, args(key), {cwd: repoRoot})
      const cpu = await meter(child.cpuMs)
      if (child.code !== 0) throw new Error(`${label} (round ${round}) exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-4000)}\n${child.stdout.slice(-4000)}`)
      if (child.peakRssKiB === undefined) throw new Error(`${label} (round ${round}): no peak RSS reported`)
      const output = lastJsonLine(child.stdout, label)
      const info = await groupInfo(admin, key, GROUP)
      if (info === undefined || Number(info.pending) !== 0 || Number(info['entries-read']) !== size || output.processed !== size) {
        throw new Error(`${label} (round ${round}): expected ${size} entries read and none pending; group ${GROUP} has entries-read ${info?.['entries-read']}, pending ${info?.pending}; the run reported ${output.processed}`)
      }
      return {wallMs: child.wallMs, rate: size / (child.wallMs / 1000), internalMs: output.durationMs, peakRssKiB: child.peakRssKiB, cpu}
    } finally {
      await admin.unlink(key)
      await deleteMatching(admin, `{${key}}:*`)
    }
  }
  const qctl = (size) =>
    drain('qctl', size, join(repoRoot, 'bin/run.js'), (key) => [
      'work', join(repoRoot, 'bench/handlers/noop.mjs'), '--topic', key, '--group', GROUP, '--concurrency', String(CONCURRENCY), '--until-empty', '--json', '-u', redisUrl,
    ])
  const bare = (size) =>
    drain('bare', size, join(repoRoot, 'bench/bare-consume.mjs'), (key) => ['--redis-url', redisUrl, '--topic', key, '--group', GROUP, '--concurrency', String(CONCURRENCY)])

  const contenders = [0, ...sizes].flatMap((size) => [
    {name: runName('qctl', size), describe, run: qctl(size)},
    {name: runName('bare', size), describe, run: bare(size)},
  ])
  let result
  try {
    result = await interleavedRounds({rounds, contenders, log})
  } finally {
    await admin.unlink(...Object.values(templates))
  }
  const keysAfter = await admin.dbsize()
  if (keysAfter !== keysBefore) throw new Error(`memory: ${keysAfter - keysBefore} keys left behind in redis (cleanup is incomplete)`)

  const rssBytes = (contender, size) => result.samples[runName(contender, size)].map((sample) => sample.peakRssKiB * 1024)
  const scenario = `memory, no-op handler, concurrency ${CONCURRENCY}${quick && ctx.options.lines === undefined ? ' (--quick: 300k, not 2M)' : ''}`
  const rows = []
  for (const contender of ['qctl', 'bare']) {
    const floor = summary(rssBytes(contender, 0))
    rows.push({scenario, measure: `${contender} peak RSS, empty backlog (start-up and exit: the floor)`, ...floor, format: mb})
    for (const size of sizes) {
      const values = summary(rssBytes(contender, size))
      rows.push({
        scenario,
        measure: `${contender} peak RSS, ${fmt(size)} backlog${contender === 'bare' ? ' (reference)' : ''}`,
        ...values,
        format: mb,
        target: contender === 'qctl' ? `< ${mb(RSS_LIMIT)}` : undefined,
        met: contender === 'qctl' ? values.median < RSS_LIMIT : undefined,
      })
    }
    const growth = summary(result.rounds.map(({samples}) => samples[runName(contender, largeSize)].peakRssKiB / samples[runName(contender, smallSize)].peakRssKiB))
    rows.push({
      scenario,
      measure: `${contender} peak RSS, ${fmt(largeSize)} / ${fmt(smallSize)} backlog`,
      ...growth,
      format: (value) => `${value.toFixed(3)}x`,
      target: contender === 'qctl' ? `≤ ${RSS_GROWTH.toFixed(2)}x` : undefined,
      met: contender === 'qctl' ? growth.median <= RSS_GROWTH : undefined,
    })
  }
  for (const size of sizes) {
    const one = (value) => ({median: value, min: value, max: value, n: 1})
    rows.push({scenario: 'Redis, stream entries of ~200 B', measure: `bytes per entry, used_memory delta / ${fmt(size)}`, ...one(stored[size].perMessage), format: (value) => value.toFixed(1)})
    rows.push({scenario: 'Redis, stream entries of ~200 B', measure: `bytes per entry, MEMORY USAGE SAMPLES 0 / ${fmt(size)}`, ...one(stored[size].usagePerMessage), format: (value) => value.toFixed(1)})
    rows.push({scenario: 'Redis, stream entries of ~200 B', measure: `payload bytes per entry (${fmt(size)})`, ...one(stored[size].payload), format: (value) => value.toFixed(1)})
  }
  const table = renderTargetTable(rows)

  return {
    table,
    rows: [],
    details: [
      '### memory: per run',
      '',
      perRunTable(result.rounds),
      '',
      `Peak RSS: getrusage's maxrss of the whole process (the bench's --import preload), in MB of 10^6 bytes (the per-run table: MiB). ${quick && ctx.options.lines === undefined ? 'This is a --quick run: the large backlog is 300,000 entries, not 2,000,000. ' : ''}qctl: \`qctl work bench/handlers/noop.mjs --concurrency ${CONCURRENCY} --until-empty --json\` (default read-ahead); bare: bench/bare-consume.mjs (XREADGROUP COUNT 100, no read-ahead), as a floor. Redis: each backlog written once into a fresh key (one field \`data\` per entry, the default stream-node-max-bytes 4096 and -entries 100), used_memory less mem_clients_normal measured 200 ms after the write, before the group was created; MEMORY USAGE with SAMPLES 0 counts every node of the stream. Both are per entry, payload included.`,
    ].join('\n'),
  }
}
