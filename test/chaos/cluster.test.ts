import {afterEach, describe, expect, it} from 'vitest'

import {keySlot} from '../../src/core/redis/key-slot.js'
import {runCli, waitFor, type CliResult} from '../helpers/cli.js'
import {useRedisCluster} from '../helpers/cluster-harness.js'
import {WorkerFleet} from './lib/fleet.js'
import {readLedger} from './lib/ledger.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'
import {newScenario, publishAll, settle, workSummary} from './lib/scenario.js'

// Chaos scenarios 22a-22d of issue 16: qctl on a Redis Cluster while it reshards, fails over,
// loses a primary, or has one down for long. The oracle is the ledger (lib/ledger.ts): lost must be 0
// for every entry Redis acknowledged and kept.

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** NDJSON cut into `parts` pieces, in order. */
function partsOf(ndjson: string, parts: number): string[] {
  const lines = ndjson.trimEnd().split('\n')
  return Array.from({length: parts}, (_unused, part) => `${lines.slice((part * lines.length) / parts, ((part + 1) * lines.length) / parts).join('\n')}\n`)
}

/** The message of the error a `--json` command printed (its whole stdout is the document). */
function errorMessageOf(result: CliResult): string {
  try {
    return (JSON.parse(result.stdout) as {error?: {message?: string}}).error?.message ?? result.stderr
  } catch {
    return result.stderr
  }
}

/** Workers' exit codes, with what each printed when one is not 0. */
function expectAllExitedZero(results: readonly CliResult[]): void {
  for (const result of results) expect(result.code, `${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`).toBe(0)
}

/** A topic name whose slot is among the first `below` slots: the slots `redis-cli --cluster reshard` moves first from the primary owning slot 0. */
function topicInLowSlots(prefix: string, below: number): string {
  for (let n = 0; ; n++) {
    const name = `${prefix}-${n}`
    if (keySlot(name) < below) return name
  }
}

describe('chaos: a Redis Cluster under reshard', {timeout: CHAOS_TIMEOUT}, () => {
  const context = useRedisCluster({primaries: 3})
  let fleet: WorkerFleet | undefined

  afterEach(async () => {
    await fleet?.killAll()
    fleet = undefined
  })

  it('22a. redis-cli --cluster reshard moves a busy topic\'s slot while two publishers and three workers run: lost 0, every process exits 0', async () => {
    const scenario = newScenario('reshard', scaled(4_000, 60_000))
    const topic = topicInLowSlots(`chaos.reshard.${process.pid}`, 64)
    const {started, group, ledger, ndjson, mids} = scenario
    const seed = context.cluster.seedUrl
    const [from, to] = context.cluster.primaries().map((node) => node.port) as [number, number]
    expect(await context.cluster.ownerOf(topic)).toBe(from)
    fleet = new WorkerFleet({redisUrl: seed, topic, group, ledger, args: ['--concurrency', '8', '--visibility-timeout', '5s'], env: {CHAOS_SLEEP_MS: '1'}})
    for (let i = 0; i < 3; i++) fleet.start()
    await fleet.ready()
    const [first, second] = partsOf(ndjson, 2) as [string, string]
    // Two publishers at once, each in parts, so batches are in flight while the slot moves.
    const publishing = Promise.all(
      [first, second].map(async (half) => {
        for (const part of partsOf(half, 5)) {
          await publishAll(seed, topic, part)
          await sleep(200)
        }
      }),
    )
    await sleep(500)
    await context.cluster.reshard(from, to, 64)
    expect(await context.cluster.ownerOf(topic)).toBe(to)
    await publishing

    const report = await settle({redis: await context.cluster.client(), topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})
    const results = await fleet.stopAll()
    expectAllExitedZero(results)
    expect(report).toMatchObject({lost: [], unexpected: [], deadLettered: 0, pending: 0, handled: mids.length})
    const warned = results.filter((result) => result.stdout.includes('hash slot moved')).length
    recordRow({scenario: `22a cluster: reshard a busy topic's slot (${warned} of 3 workers told of the move)`, messages: mids.length, faults: '64 slots moved by redis-cli --cluster reshard, 2 publishers and 3 workers running', lost: report.lost.length, duplicated: report.duplicated, deadLettered: report.deadLettered, timeMs: Date.now() - started})
  })
})

describe('chaos: a Redis Cluster with replicas', {timeout: CHAOS_TIMEOUT}, () => {
  const context = useRedisCluster({primaries: 3, replicas: 1, nodeTimeoutMs: 2000, args: ['--appendonly', 'yes', '--appendfsync', 'always']})
  let fleet: WorkerFleet | undefined

  afterEach(async () => {
    await fleet?.killAll()
    fleet = undefined
  })

  it('22b. CLUSTER FAILOVER of the topic\'s primary while three workers are blocked in reads: they go on from the new primary, lost 0', async () => {
    const {started, topic, group, ledger, ndjson, mids} = newScenario('failover', scaled(3_000, 30_000))
    const seed = context.cluster.seedUrl
    await context.cluster.refreshTopology()
    const owner = await context.cluster.ownerOf(topic)
    fleet = new WorkerFleet({redisUrl: seed, topic, group, ledger, args: ['--concurrency', '8']})
    for (let i = 0; i < 3; i++) fleet.start()
    await fleet.ready()
    // Blocked in XREADGROUP (nothing to read yet) when the primary hands over.
    await sleep(500)
    const replica = context.cluster.replicaOf(owner)
    await context.cluster.failover(replica)
    expect(await context.cluster.ownerOf(topic)).toBe(replica)
    await publishAll(seed, topic, ndjson)

    const report = await settle({redis: await context.cluster.client(), topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})
    const results = await fleet.stopAll()
    expectAllExitedZero(results)
    expect(report).toMatchObject({lost: [], unexpected: [], deadLettered: 0, pending: 0, handled: mids.length})
    recordRow({scenario: '22b cluster: CLUSTER FAILOVER under blocked workers', messages: mids.length, faults: '1 graceful failover of the topic\'s primary', lost: report.lost.length, duplicated: report.duplicated, deadLettered: report.deadLettered, timeMs: Date.now() - started})
  })

  it('22c. kill -9 of the topic\'s primary mid-publish, its replica promoted: the publisher reports how far it got, workers recover, nothing Redis kept is lost', async () => {
    const {started, topic, group, ledger, ndjson, mids} = newScenario('primary-kill', scaled(4_000, 60_000))
    const seed = context.cluster.seedUrl
    await context.cluster.refreshTopology()
    const owner = await context.cluster.ownerOf(topic)
    // The seed must survive the kill: publish and work through a primary that is not the victim.
    const survivor = context.cluster.nodes.find((node) => node.role === 'primary' && node.port !== owner)?.port as number
    const url = `redis://127.0.0.1:${survivor}`
    fleet = new WorkerFleet({redisUrl: url, topic, group, ledger, args: ['--concurrency', '8', '--visibility-timeout', '3s'], env: {CHAOS_SLEEP_MS: '1'}})
    for (let i = 0; i < 3; i++) fleet.start()
    await fleet.ready()

    const parts = partsOf(ndjson, 20)
    const outcomes: Array<{part: number; result: CliResult}> = []
    let killedAt = 0
    const publishing = (async () => {
      for (const [part, text] of parts.entries()) {
        let input = text
        // A part cut by the kill is resumed as the error says (--skip-lines N), as a user would.
        for (let attempt = 0; attempt < 20; attempt++) {
          const result = await runCli(['publish', topic, '--ndjson', '--json', '-u', url], {input, timeoutMs: 120_000})
          outcomes.push({part, result})
          if (result.code === 0) break
          expect(result.code, result.stdout + result.stderr).toBe(3)
          const skip = /--skip-lines (\d+)/.exec(errorMessageOf(result))?.[1]
          if (skip !== undefined) input = `${input.trimEnd().split('\n').slice(Number(skip)).join('\n')}\n`
          await sleep(500)
        }
        await sleep(100)
      }
    })()
    await sleep(1500)
    await context.cluster.kill(owner, 'SIGKILL')
    killedAt = Date.now()
    const replica = context.cluster.replicaOf(owner)
    await waitFor(async () => (await context.cluster.ownerOf(topic).catch(() => owner)) === replica, 30_000, 'the replica to be promoted')
    const promotedMs = Date.now() - killedAt
    await publishing

    // The ledger against what the new primary kept: an acknowledged batch the old primary never
    // replicated is the one documented loss (asynchronous replication); none of the kept may be lost.
    const admin = await context.cluster.client()
    const kept = new Set<string>()
    for (const [, fields] of (await admin.xrange(topic, '-', '+')) as Array<[string, string[]]>) {
      const data = fields[fields.indexOf('data') + 1]
      if (data !== undefined) kept.add((JSON.parse(data) as {mid: string}).mid)
    }
    const keptMids = mids.filter((mid) => kept.has(mid))
    const report = await settle({redis: admin, topic, group, mids: keptMids, ledger, timeoutMs: scaled(60_000, 300_000)})
    const results = await fleet.stopAll()
    expectAllExitedZero(results)
    expect(report).toMatchObject({lost: [], unexpected: [], pending: 0})
    const notReplicated = mids.length - keptMids.length
    const handledNotKept = new Set(readLedger(ledger).map((line) => line.mid).filter((mid) => !kept.has(mid))).size
    const inDoubt = outcomes.filter(({result}) => result.code === 3).length
    recordRow({
      scenario: `22c cluster: kill -9 the topic's primary mid-publish (replica promoted in ${(promotedMs / 1000).toFixed(1)} s; ${inDoubt} publish run${inDoubt === 1 ? '' : 's'} cut, resumed with --skip-lines; ${notReplicated} acknowledged entries not replicated, ${handledNotKept} of them handled before the kill)`,
      messages: keptMids.length,
      faults: '1 primary SIGKILL, replica promoted',
      lost: report.lost.length,
      duplicated: report.duplicated,
      deadLettered: report.deadLettered,
      timeMs: Date.now() - started,
    })
    await context.cluster.restart(owner)
    await context.cluster.waitForHealthy()
  })
})

describe('chaos: a Redis Cluster with a primary down', {timeout: CHAOS_TIMEOUT}, () => {
  // Without full coverage the other primaries keep serving while one is down (the default stops them all).
  const context = useRedisCluster({primaries: 3, nodeTimeoutMs: 2000, args: ['--cluster-require-full-coverage', 'no', '--appendonly', 'yes', '--appendfsync', 'always']})
  const fleets: WorkerFleet[] = []

  afterEach(async () => {
    await Promise.all(fleets.splice(0).map(async (fleet) => fleet.killAll()))
  })

  it('22d. a primary down for longer than the visibility timeout: workers of the other primaries\' topics drain theirs meanwhile; its own recover after it returns; lost 0', async () => {
    const downMs = scaled(5_000, 45_000)
    const seed = context.cluster.seedUrl
    const ports = context.cluster.primaries().map((node) => node.port)
    const names = await context.cluster.namesOnEachPrimary(`chaos.down.${process.pid}`)
    const scenarios = names.map((topic, index) => ({...newScenario(`down-${index}`, scaled(1_200, 20_000), {prefix: `p${index}`}), topic}))
    const started = Date.now()
    // The victim is the third primary; publish and work through the first (the seed).
    const victim = ports[2] as number
    // Slow handlers (2 workers x 4 x 10 ms: 800 msg/s a topic), so every topic still has work when the
    // primary goes, and the others' (1,200 or 20,000 each) drain well within its downtime.
    for (const scenario of scenarios) {
      const fleet = new WorkerFleet({redisUrl: seed, topic: scenario.topic, group: scenario.group, ledger: scenario.ledger, args: ['--concurrency', '4', '--visibility-timeout', '2s'], env: {CHAOS_SLEEP_MS: '10'}})
      fleet.start()
      fleet.start()
      fleets.push(fleet)
    }
    await Promise.all(fleets.map(async (fleet) => fleet.ready()))
    const halves = scenarios.map((scenario) => partsOf(scenario.ndjson, 2) as [string, string])
    for (const [index, scenario] of scenarios.entries()) await publishAll(seed, scenario.topic, halves[index]?.[0] as string)
    await sleep(300)
    await context.cluster.kill(victim, 'SIGKILL')
    const killedAt = Date.now()
    const admin = await context.cluster.client()
    // The other primaries take new messages and drain their topics while it is down.
    for (const [index, scenario] of scenarios.slice(0, 2).entries()) await publishAll(seed, scenario.topic, halves[index]?.[1] as string)
    for (const scenario of scenarios.slice(0, 2)) {
      const report = await settle({redis: admin, topic: scenario.topic, group: scenario.group, mids: scenario.mids, ledger: scenario.ledger, timeoutMs: downMs + 30_000})
      expect(report).toMatchObject({lost: [], unexpected: [], pending: 0})
    }
    const othersDrainedMs = Date.now() - killedAt
    await sleep(Math.max(0, killedAt + downMs - Date.now()))
    // Its workers are still there, waiting for it.
    expect(fleets[2]?.alive).toHaveLength(2)
    const downForMs = Date.now() - killedAt
    await context.cluster.restart(victim)
    await context.cluster.waitForHealthy()
    const last = scenarios[2] as (typeof scenarios)[number]
    await publishAll(seed, last.topic, halves[2]?.[1] as string)
    const report = await settle({redis: admin, topic: last.topic, group: last.group, mids: last.mids, ledger: last.ledger, timeoutMs: scaled(60_000, 300_000)})
    expect(report).toMatchObject({lost: [], unexpected: [], pending: 0})
    const results = (await Promise.all(fleets.map(async (fleet) => fleet.stopAll()))).flat()
    expectAllExitedZero(results)
    for (const result of results) expect(workSummary(result)?.['lost']).toBe(0)
    recordRow({
      scenario: `22d cluster: a primary down ${(downForMs / 1000).toFixed(1)} s (> visibility timeout 2 s); the other primaries' topics drained ${(othersDrainedMs / 1000).toFixed(1)} s after it went down`,
      messages: scenarios.reduce((sum, scenario) => sum + scenario.mids.length, 0),
      faults: '1 primary SIGKILL, restarted from its AOF',
      lost: report.lost.length,
      duplicated: report.duplicated,
      deadLettered: report.deadLettered,
      timeMs: Date.now() - started,
    })
  })
})
