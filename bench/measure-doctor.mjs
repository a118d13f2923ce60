// One-off measurement (issue 18, qctl doctor): how its cost grows with the state it reads. Seeds
// TOPICS topics (3 entries each, a group whose consumer holds one pending entry, a dead letter and
// a retry record for every tenth) into the Redis at REDIS_URL, then runs `qctl doctor --json`
// (each run a whole process, start-up included) ROUNDS times in two ways: with the default limits
// (healthy consumers: nothing to read per consumer) and with --visibility-timeout 1s (every consumer
// and its oldest pending entries read, a stuck-consumer finding per topic: the most it reads), and
// `qctl lag --json` as the reference, in interleaved rounds.
// Prints one JSON line per way: the median and range of wall and CPU seconds, and the findings.
// Usage: node bench/measure-doctor.mjs REDIS_URL [topics] [rounds]   (the database should be empty)
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Redis} from 'ioredis'

const [redisUrl, topicArg = '10000', roundsArg = '5'] = process.argv.slice(2)
const TOPICS = Number(topicArg)
const ROUNDS = Number(roundsArg)
const repoRoot = new URL('..', import.meta.url).pathname

const admin = new Redis(redisUrl)
for (let start = 0; start < TOPICS; start += 1000) {
  const pipeline = admin.pipeline()
  for (let i = start; i < Math.min(TOPICS, start + 1000); i++) {
    const topic = `tenant.${String(i).padStart(6, '0')}`
    for (let n = 0; n < 3; n++) pipeline.xadd(topic, '*', 'data', `{"n":${n}}`)
    pipeline.xgroup('CREATE', topic, 'g', '0')
    pipeline.xreadgroup('GROUP', 'g', 'c', 'COUNT', 1, 'STREAMS', topic, '>')
    if (i % 10 === 0) {
      pipeline.xadd(`{${topic}}:dlq`, '*', 'data', '{}', 'dlq.group', 'g')
      pipeline.hset(`{${topic}}:retry:g`, `${Date.now()}-0`, '0:1:1:0')
    }
  }
  await pipeline.exec()
}
const keys = await admin.dbsize()
admin.disconnect()

/**
 * One run of the CLI through bash, whose `times` gives the CPU seconds (user + system) of its
 * children: the wall seconds around it, the CPU seconds, and the exit code and findings of the run.
 */
function run(command, args) {
  const output = join(tmpdir(), `qctl-doctor-${process.pid}.json`)
  const line = [process.execPath, join(repoRoot, 'bin/run.js'), command, '--json', '-u', redisUrl, ...args].map((word) => `'${word}'`).join(' ')
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn('bash', ['-c', `${line} > '${output}'; echo "exit $?"; times`], {stdio: ['ignore', 'pipe', 'inherit']})
    let out = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.on('error', reject)
    child.on('exit', () => {
      const wall = (performance.now() - started) / 1000
      const [exitLine, , children] = out.trim().split('\n')
      // `times` prints the shell's, then its children's, user and system times: "0m1.234s 0m0.123s".
      const cpu = (children ?? '').split(/\s+/).reduce((sum, part) => {
        const match = /(\d+)m([\d.]+)s/.exec(part)
        return match === null ? sum : sum + Number(match[1]) * 60 + Number(match[2])
      }, 0)
      const json = JSON.parse(readFileSync(output, 'utf8'))
      resolve({wall, cpu, code: Number(exitLine?.split(' ')[1]), findings: Array.isArray(json) ? null : json.findings.length})
    })
  })
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const round = (value) => Number(value.toFixed(2))

// Interleaved rounds (A B C A B C …), so load on the machine hits every way alike; `lag --json` over
// the same topics is the reference (it reads every topic the same way, with qctl's read script).
const WAYS = [
  ['lag --json (reference)', 'lag', []],
  ['doctor, default limits', 'doctor', []],
  ['doctor --visibility-timeout 1s', 'doctor', ['--visibility-timeout', '1s']],
]
const runs = WAYS.map(() => [])
for (let r = 0; r < ROUNDS; r++) for (const [index, [, command, args]] of WAYS.entries()) runs[index].push(await run(command, args))
for (const [index, [way]] of WAYS.entries()) {
  const mine = runs[index]
  const walls = mine.map((one) => one.wall)
  const last = mine.at(-1)
  console.log(JSON.stringify({topics: TOPICS, keys, way, wallMedian: round(median(walls)), wallMin: round(Math.min(...walls)), wallMax: round(Math.max(...walls)), cpuMedian: round(median(mine.map((one) => one.cpu))), exit: last.code, findings: last.findings}))
}
