import type {Redis} from 'ioredis'
import {afterEach, describe, expect, it} from 'vitest'

import {waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {WorkerFleet} from './lib/fleet.js'
import {readLedger} from './lib/ledger.js'
import {CHAOS_TIMEOUT, recordRow} from './lib/results.js'
import {jsonError, newScenario, publishAll, settle, workSummary, type Scenario} from './lib/scenario.js'

// Chaos scenario 4 of issue 7: stopping workers by signal, gracefully or not.

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** This consumer's pending entry IDs. */
async function pendingIdsOf(redis: Redis, topic: string, group: string, consumer: string): Promise<string[]> {
  const rows = (await redis.xpending(topic, group, '-', '+', 10_000, consumer)) as Array<[string, string, number, number]>
  return rows.map(([id]) => id)
}

/**
 * Wait until the worker has started (signal handlers in place: a signal during start-up would just
 * kill node) and holds entries, so the signal lands mid-batch.
 */
async function busy(fleet: WorkerFleet, redis: Redis, topic: string, group: string, consumer: string): Promise<void> {
  await fleet.ready()
  await waitFor(async () => (await pendingIdsOf(redis, topic, group, consumer).catch(() => [])).length >= 4, 20_000, `${consumer} to hold entries`)
}

describe('chaos: stopping workers', {timeout: CHAOS_TIMEOUT}, () => {
  const redis = usePrivateRedis()
  const fleets: WorkerFleet[] = []

  afterEach(async () => {
    await Promise.all(fleets.splice(0).map(async (fleet) => fleet.killAll()))
  })

  /** A scenario (see newScenario) and a maker of worker fleets on it, killed after the test. */
  const setup = (name: string, count: number): Scenario & {fleet: (args: string[], env?: Record<string, string>) => WorkerFleet} => {
    const scenario = newScenario(name, count)
    const fleet = (args: string[], env: Record<string, string> = {}): WorkerFleet => {
      const {topic, group, ledger} = scenario
      const created = new WorkerFleet({redisUrl: redis.server.url, topic, group, ledger, args, env})
      fleets.push(created)
      return created
    }
    return {...scenario, fleet}
  }

  it('4a. SIGTERM mid-batch: running handlers finish and are acknowledged, exit 0; the rest is left for others, nothing handled twice', async () => {
    const {started, topic, group, ledger, mids, ndjson, fleet} = setup('term', 300)
    await publishAll(redis.server.url, topic, ndjson)
    const slow = fleet(['--concurrency', '4'], {CHAOS_SLEEP_MS: '300'})
    const worker = slow.start([], 'term')
    await busy(slow, redis.redis, topic, group, 'term')
    worker.cli.child.kill('SIGTERM')
    const result = await worker.cli.done
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    expect(workSummary(result)).toMatchObject({stopReason: 'signal', unfinished: 0})
    // Everything it handled is acknowledged: none of it is still pending.
    const handled = new Set(readLedger(ledger).map((line) => line.id))
    expect(handled.size).toBeGreaterThan(0)
    const stillPending = await pendingIdsOf(redis.redis, topic, group, 'term')
    expect(stillPending.filter((id) => handled.has(id))).toEqual([])

    const rest = fleet(['--concurrency', '8', '--until-empty'])
    const finisher = rest.start([], 'finisher')
    const finished = await finisher.cli.done
    expect(finished.code, `${finished.stdout}${finished.stderr}`).toBe(0)
    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: 30_000})
    expect(report).toMatchObject({lost: [], unexpected: [], duplicated: 0, pending: 0, handled: mids.length})
    recordRow({scenario: '4a SIGTERM mid-batch, then another worker', messages: mids.length, faults: '1 SIGTERM', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('4b. a handler slower than --shutdown-timeout: exit 130, and another worker takes its entries at once', async () => {
    const {started, topic, group, ledger, mids, ndjson, fleet} = setup('overdue', 50)
    await publishAll(redis.server.url, topic, ndjson)
    const stuck = fleet(['--concurrency', '4', '--shutdown-timeout', '500ms', '--visibility-timeout', '30s'], {CHAOS_SLEEP_MS: '60000'})
    const worker = stuck.start([], 'stuck')
    await busy(stuck, redis.redis, topic, group, 'stuck')
    worker.cli.child.kill('SIGTERM')
    const result = await worker.cli.done
    expect(result.code).toBe(130)
    expect(workSummary(result)).toMatchObject({unfinished: 4})
    expect(jsonError(result)?.message).toContain('did not finish within --shutdown-timeout')

    // Its entries were released on exit (idle set past the visibility timeout): a new worker takes them now, not in 30 s.
    const rest = fleet(['--concurrency', '8', '--visibility-timeout', '30s', '--until-empty'])
    const finisher = rest.start([], 'finisher')
    const finished = await finisher.cli.done
    expect(finished.code, `${finished.stdout}${finished.stderr}`).toBe(0)
    expect(finished.durationMs).toBeLessThan(25_000)
    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: 30_000})
    expect(report).toMatchObject({lost: [], unexpected: [], pending: 0, handled: mids.length})
    recordRow({scenario: '4b handler slower than --shutdown-timeout', messages: mids.length, faults: '1 SIGTERM, 4 handlers abandoned', lost: 0, duplicated: report.duplicated, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('4c. a second SIGINT exits at once (130), long before the shutdown timeout; nothing is lost', async () => {
    const {started, topic, group, ledger, mids, ndjson, fleet} = setup('twice', 50)
    await publishAll(redis.server.url, topic, ndjson)
    const stuck = fleet(['--concurrency', '4', '--shutdown-timeout', '60s', '--visibility-timeout', '2s'], {CHAOS_SLEEP_MS: '60000'})
    const worker = stuck.start([], 'twice')
    await busy(stuck, redis.redis, topic, group, 'twice')
    const signalled = Date.now()
    worker.cli.child.kill('SIGINT')
    await sleep(200)
    worker.cli.child.kill('SIGINT')
    const result = await worker.cli.done
    expect(result.code).toBe(130)
    // Well short of the 60 s it would wait for its handlers after one signal.
    expect(Date.now() - signalled).toBeLessThan(15_000)

    const rest = fleet(['--concurrency', '8', '--visibility-timeout', '2s'])
    rest.start([], 'finisher')
    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: 30_000})
    expect(report).toMatchObject({lost: [], unexpected: [], pending: 0, handled: mids.length})
    recordRow({scenario: '4c double SIGINT', messages: mids.length, faults: '2 SIGINTs', lost: 0, duplicated: report.duplicated, deadLettered: 0, timeMs: Date.now() - started})
  })
})
