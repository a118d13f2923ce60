import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterEach, describe, expect, it} from 'vitest'

import {deadLetterKey, replayKey} from '../../src/core/keys.js'
import {runCli, startCli} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {REJECT_ALL_HANDLER, WorkerFleet, seeded} from './lib/fleet.js'
import {chaosMessages} from './lib/ledger.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'
import {newScenario, publishAll, scratchDir, settle, uniqueTopic} from './lib/scenario.js'

// Chaos scenarios 8 and 9 of issue 7: poison messages under competing workers, and processes
// SIGKILLed in the middle of dead-lettering and of `dlq replay`.

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Every entry of a stream as [id, fields as an object]. */
async function entriesOf(redis: Redis, key: string): Promise<Array<[string, Record<string, string>]>> {
  const rows = (await redis.xrange(key, '-', '+')) as Array<[string, string[]]>
  return rows.map(([id, pairs]) => {
    const fields: Record<string, string> = {}
    for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i] as string] = pairs[i + 1] as string
    return [id, fields]
  })
}

const midOf = (data: string | undefined): string => (JSON.parse(data ?? '{}') as {mid: string}).mid

describe('chaos: dead letters', {timeout: CHAOS_TIMEOUT}, () => {
  const redis = usePrivateRedis({args: ['--appendonly', 'yes', '--appendfsync', 'always']})
  let fleet: WorkerFleet | undefined

  afterEach(async () => {
    await fleet?.killAll()
    fleet = undefined
  })

  it('8. poison messages with two workers reclaiming at once: one DLQ entry each, with error and attempts, payload byte-identical, origin acknowledged', async () => {
    const {started, topic, group, ledger, count, ndjson, mids} = newScenario('poison', scaled(1_000, 10_000), {poisonEvery: 10})
    const lines = new Map(ndjson.trimEnd().split('\n').map((line) => [midOf(line), line]))
    const poison = mids.filter((_, i) => i % 10 === 0)
    // Short backoff and visibility timeout: both workers' reclaim loops race for the failed entries.
    fleet = new WorkerFleet({
      redisUrl: redis.server.url, topic, group, ledger,
      args: ['--concurrency', '4', '--max-attempts', '3', '--backoff', 'fixed', '--backoff-delay', '50ms', '--visibility-timeout', '300ms'],
    })
    fleet.start()
    fleet.start()
    await publishAll(redis.server.url, topic, ndjson)
    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})
    const results = await fleet.stopAll()
    for (const result of results) expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    expect(report).toMatchObject({lost: [], unexpected: [], pending: 0, deadLettered: poison.length, deadLetterDuplicates: 0, handled: count - poison.length})

    const dead = await entriesOf(redis.redis, deadLetterKey(topic))
    expect(dead.map(([, fields]) => midOf(fields['data'])).sort()).toEqual([...poison].sort())
    for (const [, fields] of dead) {
      // The payload exactly as published, byte for byte, and why it was dead-lettered.
      expect(fields['data']).toBe(lines.get(midOf(fields['data'])))
      expect(fields).toMatchObject({'dlq.topic': topic, 'dlq.group': group, 'dlq.attempts': '3', 'dlq.error-name': 'PoisonError'})
      expect(fields['dlq.error-message']).toBe(`poison ${midOf(fields['data'])}`)
    }
    recordRow({scenario: '8 poison messages, 2 workers reclaiming', messages: count, faults: `${poison.length} poison messages`, lost: 0, duplicated: report.duplicated, deadLettered: dead.length, timeMs: Date.now() - started})
  })

  it('9a. workers SIGKILLed at random moments while dead-lettering: every poison message ends in the DLQ exactly once, and nothing stays pending', async () => {
    // Every message is poison: the workers do little but move entries to the DLQ.
    const {started, topic, group, ledger, count, ndjson, mids} = newScenario('dlq-crash', scaled(2_000, 20_000), {poisonEvery: 1})
    await publishAll(redis.server.url, topic, ndjson)
    fleet = new WorkerFleet({
      redisUrl: redis.server.url, topic, group, ledger,
      args: ['--concurrency', '2', '--max-attempts', '2', '--backoff', 'fixed', '--backoff-delay', '10ms', '--visibility-timeout', '300ms'],
    })
    const random = seeded(3)
    let kills = 0
    const rounds = scaled(10, 60)
    for (let round = 0; round < rounds; round++) {
      const worker = fleet.start()
      // Killed at a random moment after it has started taking entries.
      await fleet.ready()
      await sleep(5 + Math.floor(random() * 80))
      await fleet.kill(worker)
      kills++
    }
    // Then one worker that is left alone finishes what remains.
    fleet.start()
    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})
    await fleet.stopAll()
    expect(kills).toBe(rounds)
    expect(report).toMatchObject({lost: [], unexpected: [], pending: 0, handled: 0, deadLettered: count, deadLetterDuplicates: 0})
    recordRow({scenario: '9a SIGKILL workers while dead-lettering', messages: count, faults: `${kills} worker SIGKILLs`, lost: 0, duplicated: 0, deadLettered: count, timeMs: Date.now() - started})
  })

  it("9b. dlq replay SIGKILLed at random points over many rounds: every entry ends exactly once, in the failing group's replay stream or in the DLQ", async () => {
    const started = Date.now()
    const topic = uniqueTopic('replay-crash')
    const count = scaled(3_000, 30_000)
    const {ndjson, mids} = chaosMessages(count)
    // Fill the DLQ through the worker's own dead-letter path: a handler that fails every message permanently.
    await publishAll(redis.server.url, topic, ndjson)
    const failing = new WorkerFleet({redisUrl: redis.server.url, topic, group: 'fail-all', ledger: join(scratchDir('replay-crash'), 'unused.jsonl'), handler: REJECT_ALL_HANDLER, args: ['--concurrency', '8', '--until-empty']})
    const filed = await failing.start().cli.done
    expect(filed.code, `${filed.stdout}${filed.stderr}`).toBe(0)
    const dlqKey = deadLetterKey(topic)
    expect(await redis.redis.xlen(dlqKey)).toBe(count)
    // Replays go to the replay stream of the group that failed them (README, qctl dlq), never to the topic.
    const replayed = replayKey(topic, 'fail-all')

    const random = seeded(5)
    let kills = 0
    for (let round = 0; round < scaled(8, 40) && (await redis.redis.xlen(dlqKey)) > 0; round++) {
      const replay = startCli(['dlq', 'replay', topic, '--yes', '--rate', '2000', '-u', redis.server.url], {timeoutMs: 60_000})
      await sleep(100 + Math.floor(random() * 400))
      replay.child.kill('SIGKILL')
      const result = await replay.done
      if (result.signal === 'SIGKILL') kills++
      // Invariant after every crash: each message is in the replay stream or in the DLQ, exactly once.
      const onTopic = (await entriesOf(redis.redis, replayed)).map(([, fields]) => midOf(fields['data']))
      const inDlq = (await entriesOf(redis.redis, dlqKey)).map(([, fields]) => midOf(fields['data']))
      expect([...onTopic, ...inDlq].sort()).toEqual([...mids].sort())
    }
    const finish = await runCli(['dlq', 'replay', topic, '--yes', '-u', redis.server.url], {timeoutMs: 60_000})
    expect(finish.code, `${finish.stdout}${finish.stderr}`).toBe(0)
    const onTopic = (await entriesOf(redis.redis, replayed)).map(([, fields]) => midOf(fields['data']))
    expect(onTopic.sort()).toEqual([...mids].sort())
    expect(await redis.redis.xlen(dlqKey)).toBe(0)
    expect(kills).toBeGreaterThan(0)
    recordRow({scenario: '9b SIGKILL dlq replay at random points', messages: count, faults: `${kills} replay SIGKILLs`, lost: 0, duplicated: 0, deadLettered: count, timeMs: Date.now() - started})
  })
})
