import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {deadLetterKey, retryKey} from '../../src/core/keys.js'
import {PROJECT_ROOT, runCli, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {chaosMessages, checkLedger, deadLetteredMids, readLedger} from './lib/ledger.js'
import {CHAOS_TIMEOUT, LONG, recordRow} from './lib/results.js'
import {scratchDir, uniqueTopic, workSummary} from './lib/scenario.js'

// Chaos scenario 14 (issue 14, point 1): a handler that ends its own process on one poison message,
// under a supervisor that restarts the worker until the group is drained. Only the poison message may
// reach the dead-letter stream; every neighbour (running beside it, or waiting in the read-ahead
// behind it) is handled and none is dead-lettered.

const CRASH_HANDLER = join(PROJECT_ROOT, 'test', 'chaos', 'handlers', 'crash-on-poison.mjs')
const MAX_ROUNDS = 40

interface Variant {
  mode: 'exit1' | 'exit0' | 'oom'
  /** A stable --consumer (the restarted worker takes back its own entries) or a new one each time (taken over after the visibility timeout). */
  stableConsumer: boolean
}

const variants: Variant[] = [
  {mode: 'exit1', stableConsumer: false},
  {mode: 'exit0', stableConsumer: true},
  ...(LONG ? [{mode: 'oom', stableConsumer: false} as Variant, {mode: 'exit1', stableConsumer: true} as Variant] : []),
]

describe('chaos: a crash-looping handler', {timeout: CHAOS_TIMEOUT}, () => {
  const redis = usePrivateRedis()

  for (const {mode, stableConsumer} of variants) {
    it(`14. ${mode}${stableConsumer ? ', same --consumer' : ''}: only the message that ends the process is dead-lettered; its 399 neighbours are handled`, async () => {
      const started = Date.now()
      const topic = uniqueTopic(`crash-${mode}`)
      const group = 'crash'
      const ledger = join(scratchDir('crash'), 'ledger.jsonl')
      const count = 400
      const {ndjson, mids} = chaosMessages(count)
      const poisonIndex = 150
      const lines = ndjson.trimEnd().split('\n')
      lines[poisonIndex] = JSON.stringify({...(JSON.parse(lines[poisonIndex] as string) as object), crash: true})
      const publish = await runCli(['publish', topic, '--ndjson', '-u', redis.server.url], {input: `${lines.join('\n')}\n`})
      expect(publish.code, publish.stderr).toBe(0)

      const env = {CHAOS_LEDGER: ledger, CRASH_MODE: mode, NODE_OPTIONS: mode === 'oom' ? '--max-old-space-size=96' : undefined}
      const args = ['work', CRASH_HANDLER, '--topic', topic, '--group', group, '--concurrency', '4', '--max-attempts', '3', '--visibility-timeout', '1s', '--until-empty', '--json', '-u', redis.server.url]
      const results: CliResult[] = []
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const result = await runCli([...args, ...(stableConsumer ? ['--consumer', 'the-worker'] : [])], {env, timeoutMs: 60_000})
        results.push(result)
        if (result.code === 0) break
        // A worker ended by its handler never claims the group drained.
        expect(workSummary(result)?.stopReason).not.toBe('until-empty')
        if (mode !== 'oom') expect(result.code, `${result.stdout}${result.stderr}`).toBe(7)
      }
      const last = results.at(-1) as CliResult
      expect(last.code, `${last.stdout}${last.stderr}`).toBe(0)
      expect(workSummary(last)?.stopReason).toBe('until-empty')

      const poisonMid = mids[poisonIndex] as string
      const dead = await deadLetteredMids(redis.redis, deadLetterKey(topic))
      expect(dead).toEqual([poisonMid])
      const [, fields] = (await redis.redis.xrange(deadLetterKey(topic), '-', '+'))[0] as [string, string[]]
      const meta = Object.fromEntries(fields.flatMap((value, i) => (i % 2 === 0 ? [[value, fields[i + 1]]] : [])))
      expect(meta['dlq.error-name']).toBe('MaxAttemptsExceeded')

      const report = await checkLedger({redis: redis.redis, topic, group, mids, ledger})
      expect(report.lost).toEqual([])
      expect(report.unexpected).toEqual([])
      expect(report.pending).toBe(0)
      const handled = new Set(readLedger(ledger).map((line) => line.mid))
      expect(handled.size).toBe(count - 1)
      expect(handled.has(poisonMid)).toBe(false)
      expect(await redis.redis.exists(retryKey(topic, group))).toBe(0)

      recordRow({
        scenario: `14 handler ends its process (${mode}${stableConsumer ? ', same --consumer' : ''}) on 1 of ${count}, worker restarted until drained`,
        messages: count,
        faults: `${results.length - 1} worker deaths`,
        lost: report.lost.length,
        duplicated: report.duplicated,
        deadLettered: dead.length,
        timeMs: Date.now() - started,
      })
    })
  }
})
