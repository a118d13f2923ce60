import {afterEach, describe, expect, it} from 'vitest'

import {waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js'
import {WorkerFleet} from './lib/fleet.js'
import {checkLedger, readLedger} from './lib/ledger.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'
import {newScenario, publishAll, settle, workSummary} from './lib/scenario.js'

// Chaos scenario 21 (issue 14, point 2): the worker's connections go silent (a firewall, NAT or load
// balancer dropping the flow: bytes swallowed, no FIN or RST), through a TCP proxy that blackholes the
// connections open at that moment while new ones work. The worker must replace them, keep going, and
// report exactly what happened.

describe('chaos: silent connections', {timeout: CHAOS_TIMEOUT}, () => {
  const redis = usePrivateRedis()
  const cleanups: Array<() => Promise<void>> = []

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  const proxied = async (): Promise<TcpProxy> => {
    const proxy = await startTcpProxy({port: redis.server.port})
    cleanups.push(async () => proxy.close())
    return proxy
  }

  it('21a. a lone worker whose connections are blackholed mid-run replaces them and drains everything: nothing lost, nothing unacknowledged, counters exact', async () => {
    const {started, topic, group, ledger, count, ndjson, mids} = newScenario('blackhole', scaled(3_000, 30_000))
    await publishAll(redis.server.url, topic, ndjson)
    const proxy = await proxied()
    const fleet = new WorkerFleet({redisUrl: proxy.url, topic, group, ledger, args: ['--concurrency', '4', '--until-empty'], env: {CHAOS_SLEEP_MS: '1'}})
    cleanups.push(async () => fleet.killAll())
    const worker = fleet.start([], 'lone')
    await waitFor(() => readLedger(ledger).length >= count / 5, 60_000, 'the worker to handle a fifth of the messages')
    proxy.blackhole()
    const result = await worker.cli.done
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    const summary = workSummary(result)
    expect(summary).toMatchObject({stopReason: 'until-empty', lost: 0, unacknowledged: 0, deadLettered: 0})
    // The worker said it replaced the connection.
    expect(result.stdout).toMatch(/stopped answering on the command connection/)
    const report = await checkLedger({redis: redis.redis, topic, group, mids, ledger})
    expect(report).toMatchObject({lost: [], unexpected: [], pending: 0, handled: count})
    // Every successful call is counted once in processed; a second one (none expected: one worker) is a duplicate.
    expect(summary?.['processed']).toBe(readLedger(ledger).length)
    expect(summary?.['duplicates']).toBe(report.duplicated)
    recordRow({scenario: '21a connections of a lone worker blackholed mid-run', messages: count, faults: '1 blackhole of every open connection', lost: 0, duplicated: report.duplicated, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('21b. one of two workers goes silent under steady traffic: the other keeps working, the silent one comes back, and the duplicates both report add up to the ledger', async () => {
    const {started, topic, group, ledger, count, ndjson, mids} = newScenario('silent-peer', scaled(4_000, 40_000))
    const proxy = await proxied()
    const args = ['--concurrency', '4', '--visibility-timeout', '2s']
    const silent = new WorkerFleet({redisUrl: proxy.url, topic, group, ledger, args, env: {CHAOS_SLEEP_MS: '2'}})
    const healthy = new WorkerFleet({redisUrl: redis.server.url, topic, group, ledger, args, env: {CHAOS_SLEEP_MS: '2'}})
    cleanups.push(async () => silent.killAll(), async () => healthy.killAll())
    silent.start([], 'silent')
    healthy.start([], 'healthy')
    await Promise.all([silent.ready(), healthy.ready()])
    // Steady traffic: published in slices while the workers run.
    const lines = ndjson.trimEnd().split('\n')
    const slices = 8
    for (let i = 0; i < slices; i++) {
      await publishAll(redis.server.url, topic, `${lines.slice((i * lines.length) / slices, ((i + 1) * lines.length) / slices).join('\n')}\n`)
      if (i === 2) proxy.blackhole()
    }
    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})
    const [silentResult] = await silent.stopAll()
    const [healthyResult] = await healthy.stopAll()
    for (const result of [silentResult, healthyResult]) expect(result?.code, `${result?.stdout}${result?.stderr}`).toBe(0)
    const summaries = [silentResult, healthyResult].map((result) => workSummary(result as NonNullable<typeof result>) ?? {})
    expect(report).toMatchObject({lost: [], unexpected: [], pending: 0, handled: count})
    // Each second handling is counted once, by the worker it was taken over from (the silent one).
    expect(summaries.reduce((sum, summary) => sum + Number(summary['duplicates']), 0)).toBe(report.duplicated)
    expect(summaries.reduce((sum, summary) => sum + Number(summary['processed']), 0)).toBe(readLedger(ledger).length)
    for (const summary of summaries) expect(summary).toMatchObject({lost: 0, unacknowledged: 0})
    recordRow({scenario: '21b one of two workers silenced under steady traffic', messages: count, faults: '1 blackhole of one worker\'s connections', lost: 0, duplicated: report.duplicated, deadLettered: 0, timeMs: Date.now() - started})
  })
})
