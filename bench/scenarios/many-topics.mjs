// Scenario "many-topics" (issue 15, point 9): the read-only commands over thousands of topics, as
// users with a stream per tenant have them. N topics `many.NNNNN` (10,000; --quick: 2,000; --lines)
// are written once, untimed: 3 entries each, a group `g` with one entry delivered and pending, and
// a dead letter in `{topic}:dlq` for every tenth topic; plus a topic `many.dlq` whose dead-letter
// stream holds N entries (qctl's dlq.* fields). Timed, each as a whole process, spawn to exit, in
// interleaved rounds (5; --quick: 2):
//   bare XINFO:                 bench/bare-xinfo.mjs: SCAN, then the per-topic and per-group XINFO/XLEN/XPENDING
//                               calls qctl lag makes, in two pipelines (ioredis, no output)
//   qctl lag --json / lag:      --match 'many.*', the human table piped (compact layout)
//   qctl top --once --json / top --once:  --interval 100ms (two readings 100 ms apart: the sleep is in the time)
//   qctl dlq list --json / dlq list:      many.dlq --limit N (every entry), the human table piped
// Checked: lag's JSON has a row per topic, top's a row per topic, dlq list's N entries; the human
// outputs a line per row. Targets (issue 15): each qctl command under 1 s at 10,000 topics
// (entries); lag within 2x the bare script (ratio per round). Every key is deleted afterwards.
import {join} from 'node:path'

import {parseJsonOutput, runNode} from '../lib/child.mjs'
import {deleteMatching} from '../lib/redis-keys.mjs'
import {interleavedRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {markdownTable} from '../lib/table.mjs'

export const name = 'many-topics'

const PREFIX = 'many.'
const DLQ_TOPIC = `${PREFIX}dlq`
const CHUNK = 500
const TARGET_MS = 1000
const TARGET_RATIO = 2

const cpuSeconds = (ms) => (ms === undefined ? '?' : (ms / 1000).toFixed(2))

const topicName = (index) => `${PREFIX}${String(index).padStart(5, '0')}`

const deadLetterFields = (topic, index) => [
  'data', JSON.stringify({orderId: index, total: 0}),
  'dlq.topic', topic, 'dlq.id', `1-${index}`, 'dlq.group', 'g', 'dlq.consumer', 'c1', 'dlq.attempts', '5',
  'dlq.error-name', 'PermanentError', 'dlq.error-message', `order ${index} has a non-positive total`,
]

async function fill(admin, topics) {
  for (let start = 0; start < topics; start += CHUNK) {
    const pipeline = admin.pipeline()
    for (let index = start; index < Math.min(topics, start + CHUNK); index++) {
      const topic = topicName(index)
      for (let n = 0; n < 3; n++) pipeline.xadd(topic, '*', 'data', JSON.stringify({n}))
      pipeline.xgroup('CREATE', topic, 'g', '0')
      pipeline.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 1, 'STREAMS', topic, '>')
      if (index % 10 === 0) pipeline.xadd(`{${topic}}:dlq`, '*', ...deadLetterFields(topic, index))
    }
    pipeline.xadd(DLQ_TOPIC, '*', 'data', '{}')
    for (let index = start; index < Math.min(topics, start + CHUNK); index++) pipeline.xadd(`{${DLQ_TOPIC}}:dlq`, '*', ...deadLetterFields(DLQ_TOPIC, index))
    for (const [error] of await pipeline.exec()) if (error) throw error
  }
}

export async function run(ctx) {
  const {quick, repoRoot, redisUrl, admin, log} = ctx
  const topics = ctx.options.lines ?? (quick ? 2000 : 10_000)
  const rounds = ctx.options.rounds ?? (quick ? 2 : 5)
  const bin = join(repoRoot, 'bin/run.js')
  if ((await admin.exists(topicName(0))) === 1) throw new Error(`many-topics: the bench database already has a key ${topicName(0)}`)
  log(`many-topics: ${topics.toLocaleString('en-US')} topics and a ${topics.toLocaleString('en-US')}-entry DLQ, ${rounds} rounds`)
  await fill(admin, topics)
  // Rows: every topic, plus many.dlq (its one entry has no group: one row saying so).
  const rows = topics + 1

  const lineCount = (text) => text.split('\n').filter((line) => line !== '').length
  const contender = (contenderName, script, args, check) => ({
    name: contenderName,
    describe: (s) => `${s.wallMs.toFixed(0)} ms (CPU ${cpuSeconds(s.cpuMs)} s)`,
    async run({round}) {
      const child = await runNode(script, args, {cwd: repoRoot, timeoutMs: 5 * 60_000})
      // lag exits 0 (no gates); anything else is a failed run.
      if (child.code !== 0) throw new Error(`many-topics: ${contenderName} (round ${round}) exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-3000)}`)
      check(child.stdout, round)
      return {wallMs: child.wallMs, cpuMs: child.cpuMs}
    },
  })
  const expect = (what, actual, expected, round) => {
    if (actual !== expected) throw new Error(`many-topics: ${what} (round ${round}): got ${actual}, expected ${expected}`)
  }
  const contenders = [
    contender('bare XINFO pipelines', join(repoRoot, 'bench/bare-xinfo.mjs'), ['--redis-url', redisUrl, '--match', `${PREFIX}*`], (stdout, round) =>
      expect('bare topics', parseJsonOutput(stdout, 'bare').topics, rows, round),
    ),
    contender('qctl lag --json', bin, ['lag', '--match', `${PREFIX}*`, '--json', '-u', redisUrl], (stdout, round) => expect('lag --json rows', parseJsonOutput(stdout, 'lag').length, rows, round)),
    contender('qctl lag (table, piped)', bin, ['lag', '--match', `${PREFIX}*`, '-u', redisUrl], (stdout, round) => expect('lag lines', lineCount(stdout), rows + 1, round)),
    contender('qctl top --once --json', bin, ['top', '--once', '--interval', '100ms', '--match', `${PREFIX}*`, '--json', '-u', redisUrl], (stdout, round) =>
      expect('top --json rows', parseJsonOutput(stdout, 'top').rows.length, rows, round),
    ),
    contender('qctl top --once (table, piped)', bin, ['top', '--once', '--interval', '100ms', '--match', `${PREFIX}*`, '-u', redisUrl], (stdout, round) =>
      expect('top lines', lineCount(stdout), rows + 2, round),
    ),
    contender('qctl dlq list --json', bin, ['dlq', 'list', DLQ_TOPIC, '--limit', String(topics), '--json', '-u', redisUrl], (stdout, round) =>
      expect('dlq list --json entries', parseJsonOutput(stdout, 'dlq list').entries.length, topics, round),
    ),
    contender('qctl dlq list (table, piped)', bin, ['dlq', 'list', DLQ_TOPIC, '--limit', String(topics), '-u', redisUrl], (stdout, round) =>
      expect('dlq list lines', lineCount(stdout), topics + 2, round),
    ),
  ]

  let result
  try {
    result = await interleavedRounds({rounds, contenders, log})
  } finally {
    await deleteMatching(admin, `${PREFIX}*`)
    await deleteMatching(admin, `{${PREFIX}*}:dlq`)
  }

  const bare = contenders[0].name
  const perRound = (contenderName) => result.rounds.map(({samples}) => samples[contenderName].wallMs / samples[bare].wallMs)
  const comparable = (contenderName) => contenderName.startsWith('qctl lag')
  const table = markdownTable(
    ['scenario', 'contender', 'median ms', 'min–max ms', 'CPU s (median)', 'runs', 'ratio to bare (median, min–max)', 'target'],
    contenders.map(({name: contenderName}) => {
      const wall = summary(result.samples[contenderName].map((s) => s.wallMs))
      const cpu = summary(result.samples[contenderName].map((s) => s.cpuMs))
      const ratio = summary(perRound(contenderName))
      const ratioText = contenderName === bare ? '1.00 (baseline)' : `${ratio.median.toFixed(2)}x (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`
      const targets = []
      if (contenderName !== bare) targets.push(`< ${TARGET_MS} ms: ${wall.median < TARGET_MS ? 'met' : 'missed'}`)
      if (comparable(contenderName)) targets.push(`≤ ${TARGET_RATIO}x bare: ${ratio.median <= TARGET_RATIO ? 'met' : 'missed'}`)
      return [
        `${topics.toLocaleString('en-US')} topics`,
        contenderName,
        wall.median.toFixed(0),
        `${wall.min.toFixed(0)}–${wall.max.toFixed(0)}`,
        cpuSeconds(cpu.median),
        String(wall.n),
        ratioText,
        targets.join('; ') || '–',
      ]
    }),
    ['left', 'left', 'right', 'right', 'right', 'right', 'left', 'left'],
  )
  return {
    rows: [],
    table,
    details: [
      '### many-topics: ratio to bare, per round',
      '',
      ...contenders.slice(1).map(({name: contenderName}) => `- ${contenderName} / bare: ${perRound(contenderName).map((r) => r.toFixed(2)).join(', ')}`),
      '',
      `Wall time from spawn to exit, ${rounds} interleaved rounds, against ${topics.toLocaleString('en-US')} topics (3 entries, a group with one pending entry, a dead letter for every tenth) and a ${topics.toLocaleString('en-US')}-entry DLQ. The bare script sends the same SCAN, XINFO, XLEN and XPENDING calls as qctl lag in two pipelines and prints a count; top --once includes its 100 ms between two readings, and dlq list reads a stream (XREVRANGE), so only lag is compared with the bare script.`,
    ].join('\n'),
  }
}
