import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {Redis} from 'ioredis'

import type {TopicDescription} from '../../src/core/topics/describe.js'
import {PROJECT_ROOT, jsonOf, runCli, waitFor} from '../helpers/cli.js'
import {RedisCluster} from '../helpers/cluster-harness.js'
import {RedisServer} from '../helpers/redis-server.js'
import {partitionOfKey} from '../../src/core/partitions/partition-hash.js'
import {orderReport} from '../helpers/order-report.js'
import {WorkerFleet, seeded} from './lib/fleet.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'

// Issue 17's order ledger: 50 keys over 8 partitions, three `qctl work --ordered --concurrency 8`
// workers, random transient failures (retried in place), one worker SIGKILLed, one SIGSTOPped past
// its lease, a fourth joining mid-run. The handler records each successful handling in a ledger on a
// Redis of its own, fenced by the partition lease's token (test/fixtures/work/ordered-ledger.mjs):
// for every key the recorded sequence must never go back (a repeat is a duplicate, counted), and it
// must hold every message (nothing lost). Then the same on a 3-primary cluster, partitions on every node.

const HANDLER = `${PROJECT_ROOT}/test/fixtures/work/ordered-ledger.mjs`
const KEYS = 50
const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

interface Target {
  url: string
  stop(): Promise<void>
  /** An admin connection (the hot-key scenario reads the workers' key reports with it). */
  admin?: Redis
}

/**
 * `hot`: key-0 gets a block of `hot` messages published before all the others, and the workers run
 * with --prefetch 64 (8 waiting per key in memory): most of key-0 is held by ID only (spilled, read
 * back in order) while the other keys go on, through the same faults.
 */
async function orderLedger(target: Target, ledger: Redis, label: 'server' | 'cluster' | 'hot', expectNodes: number | undefined, hot = 0): Promise<void> {
  const started = Date.now()
  const perKey = scaled(60, 200)
  const expected = (key: number): number => (key === 0 && hot > 0 ? hot : perKey)
  const topic = `ordered-chaos-${label}-${Date.now()}`
  const created = await runCli(['topic', 'create', topic, '--partitions', '8', '--json', '-u', target.url])
  expect(created.code).toBe(0)
  const description = jsonOf<TopicDescription>(created)
  if (expectNodes !== undefined) expect(new Set(description.partitions.map((partition) => partition.node)).size).toBe(expectNodes)

  // Every key's messages in sequence, keys interleaved; about one in ten fails once or twice before it succeeds.
  const random = seeded(17)
  const lines: string[] = []
  const retries = (): {fail?: number} => {
    const roll = random()
    return roll < 0.05 ? {fail: 1} : roll < 0.1 ? {fail: 2} : {}
  }
  for (let n = 0; n < hot; n++) lines.push(JSON.stringify({k: 'key-0', n, ...retries()}))
  for (let n = 0; n < perKey; n++) {
    for (let key = hot > 0 ? 1 : 0; key < KEYS; key++) {
      lines.push(JSON.stringify({k: `key-${key}`, n, ...retries()}))
    }
  }
  const published = await runCli(['publish', topic, '--ndjson', '--key-field', 'k', '-u', target.url], {input: `${lines.join('\n')}\n`})
  expect(published.code).toBe(0)

  const fleet = new WorkerFleet({
    redisUrl: target.url,
    topic,
    group: 'ordered',
    ledger: '',
    handler: HANDLER,
    args: ['--ordered', '--concurrency', '8', '--lease-timeout', '2s', '--backoff-delay', '20ms', '--max-attempts', '10', ...(hot > 0 ? ['--prefetch', '64'] : [])],
    env: {LEDGER_URL: `redis://127.0.0.1:${(ledger.options.port ?? 0).toString()}`, SLOW_MS: '20'},
  })
  try {
    const first = fleet.start()
    const second = fleet.start()
    fleet.start()
    await fleet.ready()
    const handled = async (): Promise<number> => {
      let count = 0
      for (let key = 0; key < KEYS; key++) count += new Set(await ledger.lrange(`ledger:key-${key}`, 0, -1)).size
      return count
    }
    await waitFor(async () => (await handled()) > lines.length / 10, 60_000, 'the workers to get going')
    if (hot > 0) {
      // More of key-0 waits in a worker than the worker may hold in memory at all (--concurrency 8 + --prefetch 64):
      // the rest is held by ID (the workers' key reports say so).
      const hotStream = description.partitions[partitionOfKey('key-0', 8)]!.stream
      const waitingOfHot = async (): Promise<number> => {
        const reports = Object.values((await target.admin?.hgetall(`${hotStream}:waiting:ordered`)) ?? {})
        return Math.max(0, ...reports.flatMap((value) => (JSON.parse(value) as {keys: Array<{key: string; waiting: number}>}).keys.filter((key) => key.key === 'key-0').map((key) => key.waiting)))
      }
      await waitFor(async () => (await waitingOfHot()) > 8 + 64, 30_000, 'key-0 to be held mostly by ID')
    }
    await fleet.kill(first, 'SIGKILL')
    second.cli.child.kill('SIGSTOP')
    await sleep(3_500)
    fleet.start()
    second.cli.child.kill('SIGCONT')
    await fleet.ready()
    await waitFor(async () => (await handled()) === lines.length, scaled(120_000, 600_000), 'every message to be handled').catch(async (error: unknown) => {
      const stuck: string[] = []
      for (let key = 0; key < KEYS; key++) if (new Set(await ledger.lrange(`ledger:key-${key}`, 0, -1)).size < expected(key)) stuck.push(`key-${key}`)
      const outputs = fleet.workers.map((worker) => {
        const {stdout, stderr} = worker.cli.output()
        const warnings = stdout.split('\n').filter((line) => line.includes('"warning"')).slice(-8)
        return `${worker.name}: ${stderr.split('\n').slice(-3).join(' | ')} ${warnings.join(' | ')}`
      })
      throw new Error(`${String(error)}; ${await handled()} of ${lines.length}; keys behind: ${stuck.join(', ')}\n${outputs.join('\n')}`)
    })
    const results = await fleet.stopAll()
    const ends = results.slice(1).map((result) => ({code: result.code, signal: result.signal, stderr: result.stderr.split('\n').slice(-5).join('\n')}))
    expect(ends.map((end) => end.code), JSON.stringify(ends, null, 1)).toEqual([0, 0, 0])

    const sequences: number[][] = []
    for (let key = 0; key < KEYS; key++) {
      const sequence = (await ledger.lrange(`ledger:key-${key}`, 0, -1)).map(Number)
      expect(new Set(sequence).size).toBe(expected(key))
      sequences.push(sequence)
    }
    const {outOfOrder, duplicates} = orderReport(sequences)
    expect(outOfOrder).toBe(0)
    const fenced = Number(await ledger.get('fenced'))
    recordRow({
      scenario: {server: '23a --ordered order ledger', cluster: '23b --ordered order ledger on a 3-primary cluster', hot: `23c --ordered order ledger with a hot key (${hot} messages first, --prefetch 64)`}[label] + ': 8 partitions, 3 workers + 1 joining',
      messages: lines.length,
      faults: `1 SIGKILL, 1 SIGSTOP past the lease, transient failures; ${fenced} late writes fenced`,
      lost: 0,
      duplicated: duplicates,
      deadLettered: 0,
      timeMs: Date.now() - started,
    })
  } finally {
    await fleet.killAll()
  }
}

describe('chaos: --ordered keeps each key in order through worker faults', {timeout: CHAOS_TIMEOUT}, () => {
  let ledgerServer: RedisServer
  let ledger: Redis
  beforeAll(async () => {
    ledgerServer = await RedisServer.start()
    ledger = await ledgerServer.client()
  })
  afterAll(async () => {
    ledger?.disconnect()
    await ledgerServer?.stop()
  })
  let target: Target | undefined
  afterEach(async () => {
    await target?.stop()
    target = undefined
    await ledger.flushall()
  })

  it('23a. on one server: no key handled out of order, nothing lost, duplicates counted', async () => {
    const server = await RedisServer.start()
    target = {url: server.url, stop: async () => server.stop()}
    await orderLedger(target, ledger, 'server', undefined)
  })

  it('23c. a hot key (its backlog held by ID, read back in order) through the same faults, on one server', async () => {
    const server = await RedisServer.start()
    const admin = await server.client()
    target = {
      url: server.url,
      stop: async () => {
        admin.disconnect()
        await server.stop()
      },
      admin,
    }
    await orderLedger(target, ledger, 'hot', undefined, scaled(400, 1500))
  })

  it('23b. on a 3-primary cluster, partitions on every node: the same', async () => {
    const cluster = await RedisCluster.start({primaries: 3})
    target = {url: cluster.seedUrl, stop: async () => cluster.stop()}
    await orderLedger(target, ledger, 'cluster', 3)
  })
})
