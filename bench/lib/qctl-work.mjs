// One timed `qctl work HANDLER ... --until-empty --json` run, as users run it (the built bin/run.js, a
// whole process, spawn to exit), with its outcome checked: shared by the retry-storm and reclaim
// scenarios.
import {join} from 'node:path'

import {groupInfo, lastJsonLine} from './backlog.mjs'
import {runNode} from './child.mjs'
import {startCpuMeter} from './cpu-meter.mjs'
import {deleteMatching} from './redis-keys.mjs'

/** stdout kept: the summary is the last line; the retry events before it (one per retry) are not needed. */
const STDOUT_TAIL_BYTES = 64 * 1024

/** A generous bound for one run of `messages` (retried at most once): 2 minutes plus 0.3 ms a message. */
const runTimeoutMs = (messages) => 120_000 + Math.ceil(messages * 0.3)

const SIZE_OF = {hash: 'hlen', zset: 'zcard', set: 'scard', list: 'llen', stream: 'xlen', string: 'strlen'}

/**
 * What qctl left under `{topic}:` besides an empty dead-letter stream and an empty replay stream
 * (a worker creates its group's replay stream at start: one XREADGROUP reads both), as text, or
 * undefined if nothing. After a finished run the retry bookkeeping should be gone (Redis drops an
 * emptied hash or sorted set); takeover marks `{topic}:taken:G` stay until they expire (reclaim-4.lua).
 */
async function leftovers(admin, topic) {
  const found = []
  let cursor = '0'
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `{${topic}}:*`, 'COUNT', 1000)
    cursor = next
    for (const key of keys) {
      const type = await admin.type(key)
      const size = SIZE_OF[type] === undefined ? '?' : await admin[SIZE_OF[type]](key)
      if (size === 0 && (key === `{${topic}}:dlq` || key.startsWith(`{${topic}}:replay:`))) continue
      // Takeover marks outlive the run on purpose (a frozen worker that comes back counts its second
      // handling by them) and expire on their own: only one without a TTL is left behind.
      if (key.startsWith(`{${topic}}:taken:`) && (await admin.pttl(key)) > 0) continue
      found.push(`${key} (${type}, ${size})`)
    }
  } while (cursor !== '0')
  return found.length === 0 ? undefined : found.join(', ')
}

/** Delete a topic's stream and everything qctl derives from it ({topic}:dlq, {topic}:retry:G, {topic}:due:G). */
export async function deleteTopic(admin, topic) {
  await admin.unlink(topic)
  await deleteMatching(admin, `{${topic}}:*`)
}

/**
 * Run `qctl work HANDLER --topic TOPIC --group GROUP ...args --until-empty --json -u URL` and check
 * it: exit 0 within `timeoutMs`; a summary with `expect.processed` processed and `expect.retried`
 * retried, nothing dead-lettered, lost, duplicated or unfinished, stopReason until-empty; the group
 * with nothing pending and `expect.processed` entries read; the dead-letter stream empty. Throws,
 * naming `label` and what differed. Resolves a sample: {wallMs, rate (per wall second), internalMs
 * (the summary's durationMs), internalRate, peakRssKiB, cpu, stdoutBytes, leftover (what stayed
 * under {TOPIC}:, or undefined)}.
 */
export async function timedQctlWork({admin, repoRoot, redisUrl, log, label, topic, group, handler, args = [], expect, timeoutMs = runTimeoutMs(expect.processed)}) {
  const argv = ['work', handler, '--topic', topic, '--group', group, ...args, '--until-empty', '--json', '-u', redisUrl]
  const meter = await startCpuMeter(admin)
  const child = await runNode(join(repoRoot, 'bin/run.js'), argv, {cwd: repoRoot, timeoutMs, stdoutTailBytes: STDOUT_TAIL_BYTES})
  const cpu = await meter(child.cpuMs)
  const output = () => `\n${child.stderr.slice(-3000)}\n${child.stdout.slice(-2000)}`
  if (child.timedOut) throw new Error(`${label}: still running after ${(timeoutMs / 1000).toFixed(1)} s (the bound for ${expect.processed.toLocaleString('en-US')} messages); killed${output()}`)
  if (child.code !== 0) throw new Error(`${label}: qctl work exited with ${child.code ?? child.signal}${output()}`)
  const summary = lastJsonLine(child.stdout, label)
  const problems = []
  if (summary.event !== 'summary') problems.push(`its last line is not the summary: ${JSON.stringify(summary)}`)
  const want = {processed: expect.processed, retried: expect.retried, deadLettered: 0, lost: 0, duplicates: 0, unfinished: 0, stopReason: 'until-empty'}
  for (const [field, value] of Object.entries(want)) if (summary[field] !== value) problems.push(`${field} ${summary[field]}, expected ${value}`)
  const info = await groupInfo(admin, topic, group)
  if (info === undefined) problems.push(`group ${group} is gone`)
  else if (Number(info.pending) !== 0 || Number(info['entries-read']) !== expect.processed) problems.push(`group ${group}: ${info.pending} pending, entries-read ${info['entries-read']} (expected 0 and ${expect.processed})`)
  const dlq = await admin.xlen(`{${topic}}:dlq`)
  if (dlq !== 0) problems.push(`${dlq} entries in the dead-letter stream`)
  if (problems.length > 0) throw new Error(`${label}: ${problems.join('; ')}`)
  if (child.wallMs - summary.durationMs > 5000) log(`  warning: ${label} ran ${((child.wallMs - summary.durationMs) / 1000).toFixed(1)} s beyond its own durationMs (slow start-up or exit, or the machine was paused)`)
  const leftover = await leftovers(admin, topic)
  if (leftover !== undefined) log(`  warning: ${label}: left in Redis after a finished run: ${leftover}`)
  return {
    wallMs: child.wallMs,
    rate: expect.processed / (child.wallMs / 1000),
    internalMs: summary.durationMs,
    internalRate: expect.processed / (summary.durationMs / 1000),
    peakRssKiB: child.peakRssKiB,
    cpu,
    stdoutBytes: child.stdoutBytes,
    leftover,
  }
}
