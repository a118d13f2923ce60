#!/usr/bin/env node
// qctl benchmark suite. `npm run bench` (full) or `npm run bench -- --quick`.
//
// Options:
//   --quick              smaller inputs, fewer rounds (a couple of minutes)
//   --scenario NAME      run only this scenario (repeatable); default: all
//   --rounds N           override the number of interleaved rounds
//   --lines N            override the input size (publish: lines; work: backlog messages; memory: the
//                        large backlog; latency: measured messages; replay: DLQ entries; top: entries
//                        per topic; retry-storm: the large size, the small one a tenth of it;
//                        reclaim: pending entries; many-topics: topics, and entries of its DLQ;
//                        cluster: messages per topic; ordered: the no-op handler's backlog, the
//                        1 ms handler's is at most 30,000)
//   --case ID            work only: run only this case (repeatable; c1, c8, c64, 2p, 1ms)
//   --profile DIR        top only: run qctl's process with `node --cpu-prof --cpu-prof-dir DIR`, for
//                        a .cpuprofile per run (open it in Chrome DevTools); its CPU figures then
//                        include the profiler's own cost
//   --no-write           do not write bench/results/latest.md (a run of some scenarios replaces
//                        only their sections there and keeps the others')
//
// Every scenario runs against a private redis-server started here (loopback, free port, temp dir,
// no persistence) and stopped at the end, also on error or Ctrl-C. Scenarios live in
// bench/scenarios/*.mjs and export {name, run(ctx) => {rows, details?, table?}}; shared helpers are
// in bench/lib/. A scenario whose result is not a throughput (top) returns its own Markdown `table`,
// shown instead of the throughput table of its `rows`. Add a scenario by writing a module and
// listing it in SCENARIOS below.
import {existsSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {Redis} from 'ioredis'

import {runningChildren} from './lib/child.mjs'
import {loadWarning, machineHeader} from './lib/machine.mjs'
import {startRedisServer} from './lib/redis-server.mjs'
import {writeMergedResults} from './lib/results.mjs'
import {renderThroughputTable} from './lib/table.mjs'
import * as cluster from './scenarios/cluster.mjs'
import * as latency from './scenarios/latency.mjs'
import * as manyTopics from './scenarios/many-topics.mjs'
import * as ordered from './scenarios/ordered.mjs'
import * as memory from './scenarios/memory.mjs'
import * as publish from './scenarios/publish.mjs'
import * as reclaim from './scenarios/reclaim.mjs'
import * as replay from './scenarios/replay.mjs'
import * as retryStorm from './scenarios/retry-storm.mjs'
import * as startup from './scenarios/startup.mjs'
import * as top from './scenarios/top.mjs'
import * as work from './scenarios/work.mjs'

const SCENARIOS = [publish, work, memory, top, latency, startup, replay, retryStorm, reclaim, manyTopics, cluster, ordered]

const benchDir = dirname(fileURLToPath(import.meta.url))
const repoRoot = dirname(benchDir)

const {values} = parseArgs({
  options: {
    quick: {type: 'boolean', default: false},
    scenario: {type: 'string', multiple: true},
    rounds: {type: 'string'},
    lines: {type: 'string'},
    profile: {type: 'string'},
    case: {type: 'string', multiple: true},
    'no-write': {type: 'boolean', default: false},
  },
})
const positiveInt = (text, flag) => {
  if (text === undefined) return undefined
  const value = Number(text)
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${flag} must be a positive integer, got ${text}`)
  return value
}
const options = {rounds: positiveInt(values.rounds, '--rounds'), lines: positiveInt(values.lines, '--lines'), profileDir: values.profile, cases: values.case}
const selected = values.scenario === undefined ? SCENARIOS : SCENARIOS.filter((scenario) => values.scenario.includes(scenario.name))
if (selected.length === 0) throw new Error(`no such scenario: ${values.scenario.join(', ')} (have: ${SCENARIOS.map((s) => s.name).join(', ')})`)
if (!existsSync(join(repoRoot, 'dist/commands'))) throw new Error('dist/ is missing: run `npm run build` (or use `npm run bench`)')

const log = (text) => process.stderr.write(`${text}\n`)

let server
let admin
const cleanupSync = () => {
  for (const child of runningChildren) child.kill('SIGKILL')
  server?.stopSync()
}
process.on('exit', cleanupSync)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`\n${signal}: stopping`)
    cleanupSync()
    process.exit(130)
  })
}

const header = await machineHeader()
log(`machine: ${header}`)
const busy = await loadWarning()
if (busy !== undefined) log(busy)
let exitCode = 0
try {
  server = await startRedisServer()
  log(`redis-server pid ${server.pid} on ${server.url} (dir ${server.dir})`)
  admin = new Redis(server.url, {lazyConnect: true, maxRetriesPerRequest: 0})
  await admin.connect()

  const ctx = {
    quick: values.quick,
    options,
    repoRoot,
    benchDir,
    dataDir: join(benchDir, '.data'),
    redisUrl: server.url,
    admin,
    log,
  }
  // --lines and --rounds change what a section holds: say so in its heading.
  const mode = [values.quick ? 'quick' : 'full', ...(options.lines === undefined ? [] : [`--lines ${options.lines}`]), ...(options.rounds === undefined ? [] : [`--rounds ${options.rounds}`]), ...(options.cases === undefined ? [] : options.cases.map((id) => `--case ${id}`))].join(', ')
  const rows = []
  const ownTables = []
  const sections = {}
  for (const scenario of selected) {
    log(`\n== ${scenario.name}`)
    const result = await scenario.run(ctx)
    if (result.table === undefined) rows.push(...result.rows)
    else ownTables.push(result.table)
    sections[scenario.name] = [
      `## ${scenario.name} (${mode})`,
      '',
      `Machine: ${header}`,
      '',
      ...(busy === undefined ? [] : [`> ${busy}`, '']),
      result.table ?? renderThroughputTable(result.rows),
      '',
      ...(result.details ? [result.details] : []),
    ].join('\n')
  }

  const tables = [...(rows.length > 0 ? [renderThroughputTable(rows)] : []), ...ownTables]
  process.stdout.write(`\n${tables.join('\n\n')}\n`)
  if (!values['no-write']) {
    const out = join(benchDir, 'results/latest.md')
    await mkdir(dirname(out), {recursive: true})
    const {kept, legacyDropped} = await writeMergedResults(out, sections, SCENARIOS.map((scenario) => scenario.name))
    if (legacyDropped) log(`note: ${relative(repoRoot, out)} had no scenario sections (old format); it was replaced`)
    log(`\nwrote ${relative(repoRoot, out)}${kept.length > 0 ? ` (kept the earlier results of: ${kept.join(', ')})` : ''}`)
  }
} catch (error) {
  log(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  exitCode = 1
} finally {
  admin?.disconnect()
  await server?.stop()
}
process.exitCode = exitCode
