#!/usr/bin/env node
// `npm run chaos`: the long form of the chaos suite (CHAOS_LONG=1: larger counts, more rounds),
// then a table of what each scenario did, printed and written to test/chaos/results/latest.md.
// The short form of the same scenarios runs inside `npm test`.
//
//   node test/chaos/run.mjs [vitest arguments, e.g. a file filter]
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, totalmem} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const rowsFile = join(here, 'results', 'rows.jsonl')
const tableFile = join(here, 'results', 'latest.md')

rmSync(rowsFile, {force: true})
const started = Date.now()
const vitest = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/chaos', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: {...process.env, CHAOS_LONG: '1'},
})

const rows = existsSync(rowsFile)
  ? readFileSync(rowsFile, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line))
  : []
rows.sort((a, b) => a.scenario.localeCompare(b.scenario, 'en', {numeric: true}))
const server = spawnSync(process.env.QCTL_TEST_REDIS_SERVER ?? 'redis-server', ['--version'], {encoding: 'utf8'}).stdout.trim()
const header = [
  `Chaos suite, long form (\`npm run chaos\`), ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; ${server}; Node ${process.version}.`,
  `Vitest exit code ${vitest.status}; ${((Date.now() - started) / 1000).toFixed(0)} s in all. "lost" counts messages neither handled nor dead-lettered (the suite fails if it is not 0); duplicates are second successful handler calls (at-least-once).`,
  '',
]
const table = [
  '| scenario | messages | faults injected | lost | duplicated | dead-lettered | time |',
  '|---|--:|---|--:|--:|--:|--:|',
  ...rows.map((row) => `| ${row.scenario} | ${row.messages.toLocaleString('en-US')} | ${row.faults} | ${row.lost} | ${row.duplicated.toLocaleString('en-US')} | ${row.deadLettered.toLocaleString('en-US')} | ${(row.timeMs / 1000).toFixed(1)} s |`),
]
const text = `${[...header, ...table].join('\n')}\n`
process.stdout.write(`\n${text}`)
if (rows.length > 0) writeFileSync(tableFile, text)
process.exit(vitest.status ?? 1)
