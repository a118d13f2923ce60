// Scenario "publish": load an NDJSON file of N ~200-byte records into a stream.
//   qctl: `node bin/run.js publish TOPIC FILE --json` (validates every line, then streams them)
//   bare: bench/bare-publish.mjs (readline + pipelines of 1000 XADDs, no validation)
// Each run is a whole child process timed from spawn to exit, as users run it, on a fresh topic
// that is checked (XLEN == N) and deleted afterwards.
import {createReadStream} from 'node:fs'
import {join} from 'node:path'

import {parseJsonOutput, runNode} from '../lib/child.mjs'
import {startCpuMeter} from '../lib/cpu-meter.mjs'
import {describeSample as describe, perRunTable} from '../lib/table.mjs'
import {ensureNdjson} from '../lib/ndjson-data.mjs'
import {interleavedRounds, summarizeRounds} from '../lib/rounds.mjs'

export const name = 'publish'

/** Read the file once so every round starts with it in the page cache. */
async function warmPageCache(path) {
  for await (const _ of createReadStream(path, {highWaterMark: 1024 * 1024})) {
    // discard
  }
}

export async function run(ctx) {
  const {quick, repoRoot, dataDir, redisUrl, admin, log} = ctx
  const lines = ctx.options.lines ?? (quick ? 200_000 : 1_000_000)
  const rounds = ctx.options.rounds ?? (quick ? 3 : 5)
  const data = await ensureNdjson(dataDir, lines, log)
  await warmPageCache(data.path)
  log(`publish: ${lines.toLocaleString('en-US')} lines, ${(data.bytes / 1024 / 1024).toFixed(1)} MiB, ${rounds} rounds`)

  /** Run one contender on a fresh topic; verify and clean up. */
  const timedRun = async (contender, round, script, args) => {
    const topic = `qctl-bench:publish:${contender}:${process.pid}:${round}`
    await admin.del(topic)
    try {
      const meter = await startCpuMeter(admin)
      const child = await runNode(script, args(topic), {cwd: repoRoot})
      const cpu = await meter(child.cpuMs)
      if (child.code !== 0) {
        throw new Error(`${contender} (round ${round}) exited with ${child.code ?? child.signal}:\n${child.stderr.slice(-4000)}\n${child.stdout.slice(-4000)}`)
      }
      const output = parseJsonOutput(child.stdout, contender)
      const length = await admin.xlen(topic)
      if (length !== lines || output.published !== lines) {
        throw new Error(`${contender} (round ${round}): expected ${lines} entries, stream has ${length}, the command reported ${output.published}`)
      }
      return {
        wallMs: child.wallMs,
        rate: lines / (child.wallMs / 1000),
        internalMs: output.durationMs,
        peakRssKiB: child.peakRssKiB,
        cpu,
      }
    } finally {
      await admin.del(topic)
    }
  }

  const qctl = {
    name: 'qctl',
    describe,
    run: ({round}) =>
      timedRun('qctl', round, join(repoRoot, 'bin/run.js'), (topic) => ['publish', topic, data.path, '--redis-url', redisUrl, '--json']),
  }
  const bare = {
    name: 'bare',
    describe,
    run: ({round}) =>
      timedRun('bare', round, join(repoRoot, 'bench/bare-publish.mjs'), (topic) => ['--redis-url', redisUrl, topic, data.path]),
  }

  const result = await interleavedRounds({rounds, contenders: [qctl, bare], log})
  const rows = summarizeRounds(result, {
    scenario: `publish ${lines.toLocaleString('en-US')} × ~${Math.round(data.bytes / lines)} B`,
    metric: (sample) => sample.rate,
    baseline: 'bare',
    extra: {peakRssKiB: (sample) => sample.peakRssKiB, internalMs: (sample) => sample.internalMs, wallMs: (sample) => sample.wallMs},
  })

  const details = perRunTable(result.rounds)
  return {rows, details: `### publish: per run\n\n${details}\n\n"in-process ms" is the durationMs each command reports itself; the rest of the wall time is process start-up, module loading and exit. CPU s: the contender's own CPU time, redis-server's, and the rest of the machine's ("others": anything but the contender, redis-server and the runner; a large value means the run was disturbed).`}
}
