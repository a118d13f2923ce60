// Scenario "reclaim": draining entries that are already pending, against a normal drain (issue 14).
// N = 100,000 ~200-byte messages (--lines N), 3 rounds (--quick: 1). Contenders, per round, in order:
//   drain:         a normal drain, `node bin/run.js work bench/handlers/noop.mjs --topic T --group G
//                  --concurrency 8 --until-empty --json`: every entry new to the group.
//   own pending:   the N entries first delivered to consumer `c1` and not acknowledged (XREADGROUP as
//                  c1, server-side, untimed: a worker that died with all of them), then the same
//                  command with `--consumer c1`: a restarted worker with a stable name takes back its
//                  own pending entries at start.
//   dead consumer: the N entries delivered to consumer `dead` and not acknowledged, then, once they
//                  are idle for over 1 s, the same command with `--consumer live --visibility-timeout
//                  1s`: a live worker takes over a dead consumer's entries.
// Checked for each: processed N, nothing retried, dead-lettered, lost, duplicated or unfinished;
// nothing pending in the group, N entries read; the dead-letter stream empty. Every key is deleted.
// Target: each reclaim within 2x the normal drain's time (the worker's own durationMs, per round,
// then the median), judged for N >= 100,000. The backlog is written once, untimed, and COPY'd
// server-side before each run.
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {deliverAll, fillStream} from '../lib/backlog.mjs'
import {deleteTopic, timedQctlWork} from '../lib/qctl-work.mjs'
import {interleavedRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {describeSample, markdownTable, perRunTable} from '../lib/table.mjs'

export const name = 'reclaim'

const GROUP = 'bench'
const CONCURRENCY = 8
const VISIBILITY_MS = 1000

const fmt = (n) => Math.round(n).toLocaleString('en-US')

/** Wait until the newest of `consumer`'s pending entries (`lastId`) has been idle over `idleMs`. */
async function waitIdle(admin, topic, consumer, lastId, idleMs) {
  const deadline = Date.now() + idleMs + 10_000
  for (;;) {
    const rows = await admin.xpending(topic, GROUP, 'IDLE', idleMs + 1, lastId, lastId, 1, consumer)
    if (rows.length === 1) return
    if (Date.now() > deadline) throw new Error(`reclaim: ${lastId} of ${consumer} not idle for ${idleMs} ms after ${idleMs + 10_000} ms`)
    await sleep(50)
  }
}

export async function run(ctx) {
  const {quick, repoRoot, redisUrl, admin, log} = ctx
  const messages = ctx.options.lines ?? 100_000
  const rounds = ctx.options.rounds ?? (quick ? 1 : 3)
  const noop = join(repoRoot, 'bench/handlers/noop.mjs')
  const keysBefore = await admin.dbsize()

  const template = `qctl-bench:reclaim:template:${process.pid}`
  await admin.del(template)
  let started = Date.now()
  const {bytes} = await fillStream(admin, template, messages, 0x5ec1 ^ messages).catch(async (error) => {
    await admin.del(template)
    throw error
  })
  await admin.xgroup('CREATE', template, GROUP, '0')
  const avgBytes = Math.round(bytes / messages)
  log(`reclaim: stream backlog of ${fmt(messages)} × ~${avgBytes} B written in ${((Date.now() - started) / 1000).toFixed(1)} s (untimed); ${rounds} round${rounds === 1 ? '' : 's'}`)

  /** A qctl run on a fresh copy of the backlog, after `prepare(topic)` (untimed). */
  const contender = (id, args, prepare) => ({
    name: id,
    describe: describeSample,
    async run({round}) {
      const topic = `qctl-bench:reclaim:${id.replaceAll(' ', '-')}:${process.pid}:${round}`
      try {
        await deleteTopic(admin, topic)
        await admin.copy(template, topic)
        await prepare?.(topic)
        return await timedQctlWork({
          admin, repoRoot, redisUrl, log,
          label: `reclaim ${id} (round ${round})`,
          topic, group: GROUP, handler: noop, args: ['--concurrency', String(CONCURRENCY), ...args],
          expect: {processed: messages, retried: 0},
        })
      } finally {
        await deleteTopic(admin, topic)
      }
    },
  })
  /** Deliver every entry to `consumer`, unacknowledged; check they are all pending for it. Returns the last ID. */
  const pendFor = async (topic, consumer) => {
    started = Date.now()
    const delivered = await deliverAll(admin, topic, GROUP, consumer)
    const [count, , lastId, consumers] = await admin.xpending(topic, GROUP)
    const own = consumers?.find(([name]) => name === consumer)?.[1]
    if (delivered !== messages || count !== messages || Number(own) !== messages) {
      throw new Error(`reclaim: delivered ${delivered} entries to ${consumer}; pending ${count}, ${own} of them for ${consumer}; expected ${messages}`)
    }
    return {lastId, tookMs: Date.now() - started}
  }
  const contenders = [
    contender('drain', []),
    contender('own pending', ['--consumer', 'c1'], (topic) => pendFor(topic, 'c1')),
    contender('dead consumer', ['--consumer', 'live', '--visibility-timeout', `${VISIBILITY_MS / 1000}s`], async (topic) => {
      const {lastId} = await pendFor(topic, 'dead')
      await waitIdle(admin, topic, 'dead', lastId, VISIBILITY_MS)
    }),
  ]

  let result
  try {
    result = await interleavedRounds({rounds, contenders, log})
  } finally {
    await admin.unlink(template)
  }
  const keysAfter = await admin.dbsize()
  if (keysAfter !== keysBefore) throw new Error(`reclaim: ${keysAfter - keysBefore} keys left behind in redis (cleanup is incomplete)`)

  const judged = messages >= 100_000
  const ratioRow = (what, values, target) => {
    const r = summary(values)
    const verdict = target === undefined ? '–' : !judged ? `– (for 100,000 or more, not ${fmt(messages)})` : r.median <= target ? 'met' : 'missed'
    return [what, `${r.median.toFixed(2)}x`, `${r.min.toFixed(2)}–${r.max.toFixed(2)}`, values.map((value) => value.toFixed(2)).join(', '), target === undefined ? '–' : `≤ ${target}x`, verdict]
  }
  const ratios = (id, pick) => result.rounds.map(({samples}) => pick(samples[id]) / pick(samples.drain))
  const targetRows = ['own pending', 'dead consumer'].flatMap((id) => [
    ratioRow(`${id} / drain: time (in-process)`, ratios(id, (s) => s.internalMs), 2),
    ratioRow(`${id} / drain: time (wall)`, ratios(id, (s) => s.wallMs)),
  ])
  const targets = markdownTable(['ratio (per round, then median)', 'median', 'min–max', 'per round', 'target (#14)', 'verdict'], targetRows, ['left', 'right', 'right', 'left', 'left', 'left'])
  log(`\n${targets}`)

  const table = markdownTable(
    ['scenario', 'contender', 'median msg/s (wall)', 'min–max', 'in-process msg/s (median)', 'wall s (median)', 'in-process s (median)', 'runs', 'peak RSS (median)'],
    contenders.map(({name: id}) => {
      const samples = result.samples[id]
      const rate = summary(samples.map((s) => s.rate))
      const rss = summary(samples.map((s) => s.peakRssKiB)).median
      return [
        `reclaim ${fmt(messages)} × ~${avgBytes} B, concurrency ${CONCURRENCY}`,
        id,
        fmt(rate.median),
        `${fmt(rate.min)}–${fmt(rate.max)}`,
        fmt(summary(samples.map((s) => s.internalRate)).median),
        (summary(samples.map((s) => s.wallMs)).median / 1000).toFixed(2),
        (summary(samples.map((s) => s.internalMs)).median / 1000).toFixed(2),
        String(rate.n),
        Number.isFinite(rss) ? `${(rss / 1024).toFixed(0)} MiB` : '–',
      ]
    }),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  )
  const leftovers = Object.entries(result.samples).flatMap(([id, samples]) => samples.filter((s) => s.leftover !== undefined).map((s) => `${id}: ${s.leftover}`))

  return {
    rows: [],
    table,
    details: [
      '### reclaim: ratios and the target',
      '',
      targets,
      '',
      '### reclaim: per run',
      '',
      perRunTable(result.rounds),
      '',
      `All three: \`node bin/run.js work bench/handlers/noop.mjs --topic T --group G --concurrency ${CONCURRENCY} --until-empty --json\` on a fresh copy of ${fmt(messages)} entries (written once, not timed, COPY'd server-side before each run). drain: every entry new to the group. own pending: first delivered to consumer \`c1\` and left unacknowledged (XREADGROUP in a server-side script, untimed), then the worker runs with \`--consumer c1\` and takes its own pending entries back at start. dead consumer: delivered to consumer \`dead\` and left unacknowledged, then, once they are idle over ${VISIBILITY_MS / 1000} s (checked with XPENDING IDLE), the worker runs with \`--consumer live --visibility-timeout ${VISIBILITY_MS / 1000}s\` and takes them over. Checked after each run: ${fmt(messages)} processed, none retried, dead-lettered, lost, duplicated or unfinished, nothing pending, ${fmt(messages)} entries read, the dead-letter stream empty. The target (each reclaim within 2x the drain's time) uses the worker's own durationMs (it excludes process start-up, the same for all three); the wall-time ratios are shown too. Left in Redis after finished runs: ${leftovers.length === 0 ? 'nothing' : leftovers.join('; ')}.`,
    ].join('\n'),
  }
}
