// Scenario "startup": what a one-shot CLI call costs, as a whole process timed from spawn to exit.
//   qctl --version:     `node bin/run.js --version`
//   qctl publish (1):   `node bin/run.js publish bench.startup --data '{"a":1}' -u URL`
//   bare node -e XADD:  `node -e "<require ioredis, connect, XADD bench.startup * data {"a":1}, disconnect>" URL`
//   node -e '':         an empty Node process (the floor every contender pays)
// 20 interleaved rounds (--quick: 5), no preload in the children (nothing added to their start-up).
// Ratios are taken round by round, to the empty process and to the bare script. Checked: every run
// exits 0, the version line names qctl, and the stream holds exactly one entry per publishing run at
// the end. Targets: issue 19, `qctl --version` and the one-message publish within 2x `node -e ''`;
// issue 6, the publish within 3x the bare script.
import {join} from 'node:path'

import {runNode} from '../lib/child.mjs'
import {interleavedRounds} from '../lib/rounds.mjs'
import {summary} from '../lib/stats.mjs'
import {markdownTable} from '../lib/table.mjs'

export const name = 'startup'

const TOPIC = 'bench.startup'
const TARGET_BARE = 3
const TARGET_EMPTY = 2
const BARE_SCRIPT = `const {Redis} = require('ioredis'); const redis = new Redis(process.argv[1]); redis.xadd(${JSON.stringify(TOPIC)}, '*', 'data', '{"a":1}').then((id) => { process.stdout.write(id + '\\n'); redis.disconnect() })`

export async function run(ctx) {
  const {quick, repoRoot, redisUrl, admin, log} = ctx
  const rounds = ctx.options.rounds ?? (quick ? 5 : 20)
  const bin = join(repoRoot, 'bin/run.js')
  log(`startup: ${rounds} rounds of 4 contenders`)
  const existing = await admin.exists(TOPIC)
  if (existing) throw new Error(`startup: the bench database already has a key ${TOPIC}`)

  const timed = (contender, script, args, check) => ({
    name: contender,
    describe: (s) => `${s.wallMs.toFixed(1)} ms`,
    async run({round}) {
      const child = await runNode(script, args, {cwd: repoRoot, measureRss: false, timeoutMs: 60_000})
      if (child.code !== 0) throw new Error(`startup: ${contender} (round ${round}) exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-3000)}\n${child.stdout.slice(-2000)}`)
      check?.(child, round)
      return {wallMs: child.wallMs}
    },
  })
  const expectOutput = (contender, pattern) => (child, round) => {
    if (!pattern.test(child.stdout)) throw new Error(`startup: ${contender} (round ${round}) printed ${JSON.stringify(child.stdout.slice(0, 300))}, expected ${pattern}`)
  }
  const contenders = [
    timed('bare node -e XADD', '-e', [BARE_SCRIPT, redisUrl], expectOutput('bare', /^\d+-\d+\n$/)),
    timed('qctl --version', bin, ['--version'], expectOutput('qctl --version', /^qctl\/\S+ /)),
    timed('qctl publish (1 message)', bin, ['publish', TOPIC, '--data', '{"a":1}', '-u', redisUrl], expectOutput('qctl publish', /Published 1 message to bench\.startup/)),
    timed("node -e ''", '-e', ['']),
  ]

  let result
  try {
    result = await interleavedRounds({rounds, contenders, log})
    const length = await admin.xlen(TOPIC)
    if (length !== 2 * rounds) throw new Error(`startup: ${TOPIC} holds ${length} entries after ${rounds} rounds, expected ${2 * rounds} (one per publishing run)`)
  } finally {
    await admin.del(TOPIC)
  }

  const bare = contenders[0].name
  const empty = contenders[3].name
  const perRound = (name, baseline = bare) => result.rounds.map(({samples}) => samples[name].wallMs / samples[baseline].wallMs)
  const ratioText = (name, baseline) => {
    if (name === baseline) return '1.00 (baseline)'
    const r = summary(perRound(name, baseline))
    return `${r.median.toFixed(2)}x (${r.min.toFixed(2)}–${r.max.toFixed(2)})`
  }
  const verdict = (name, baseline, target) => (summary(perRound(name, baseline)).median <= target ? 'met' : 'missed')
  const versionName = contenders[1].name
  const publishName = contenders[2].name
  const targetText = (contender) => {
    const targets = []
    if (contender === versionName || contender === publishName) targets.push(`≤ ${TARGET_EMPTY}x empty: ${verdict(contender, empty, TARGET_EMPTY)}`)
    if (contender === publishName) targets.push(`≤ ${TARGET_BARE}x bare: ${verdict(contender, bare, TARGET_BARE)}`)
    return targets.length === 0 ? '–' : targets.join('; ')
  }
  const table = markdownTable(
    ['scenario', 'contender', 'median ms', 'min–max ms', 'runs', "ratio to node -e '' (median, min–max)", 'ratio to bare (median, min–max)', 'target'],
    contenders.map(({name: contender}) => {
      const wall = summary(result.samples[contender].map((s) => s.wallMs))
      return ['start-up, whole process', contender, wall.median.toFixed(1), `${wall.min.toFixed(1)}–${wall.max.toFixed(1)}`, String(wall.n), ratioText(contender, empty), ratioText(contender, bare), targetText(contender)]
    }),
    ['left', 'left', 'right', 'right', 'right', 'left', 'left', 'left'],
  )
  const perRoundText = (baseline, baselineText) =>
    contenders
      .filter(({name: contender}) => contender !== baseline)
      .map(({name: contender}) => `- ${contender} / ${baselineText}: ${perRound(contender, baseline).map((r) => r.toFixed(2)).join(', ')}`)
      .join('\n')
  return {
    rows: [],
    table,
    details: [
      '### startup: ratios per round',
      '',
      perRoundText(empty, "node -e ''"),
      perRoundText(bare, 'bare'),
      '',
      `Wall time from spawn to exit of each process, ${rounds} interleaved rounds (bare, --version, publish, empty node in each round), no preload. bare: \`node -e\` requiring ioredis from the repository, XADD of \`{"a":1}\` to ${TOPIC}, disconnect. qctl publish: \`node bin/run.js publish ${TOPIC} --data '{"a":1}' -u URL\` (plain output); both write one entry each run (checked: ${2 * rounds} entries at the end). "node -e ''" is the cost of an empty Node process, which every contender pays. Targets: issue 19, --version and the publish within ${TARGET_EMPTY}x node -e ''; issue 6, the publish within ${TARGET_BARE}x bare.`,
    ].join('\n'),
  }
}
