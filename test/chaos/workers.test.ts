import {afterEach, describe, expect, it} from 'vitest'

import {waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {WorkerFleet, seeded} from './lib/fleet.js'
import {readLedger} from './lib/ledger.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'
import {newScenario, publishAll, settle, workSummary} from './lib/scenario.js'

// Chaos scenarios 1-3 of issue 7: workers that run, die and freeze while messages flow.
// The oracle is the ledger (lib/ledger.ts): lost must be 0; duplicates are reported.

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('chaos: workers', {timeout: CHAOS_TIMEOUT}, () => {
  const redis = usePrivateRedis({args: ['--appendonly', 'yes', '--appendfsync', 'always']})
  let fleet: WorkerFleet | undefined

  afterEach(async () => {
    await fleet?.killAll()
    fleet = undefined
  })

  it('1. baseline: one publisher, three workers, no faults: lost 0, duplicates 0, pending 0, all exit 0', async () => {
    const {started, topic, group, ledger, ndjson, mids} = newScenario('baseline', scaled(5_000, 100_000))
    fleet = new WorkerFleet({redisUrl: redis.server.url, topic, group, ledger, args: ['--concurrency', '8']})
    for (let i = 0; i < 3; i++) fleet.start()
    await publishAll(redis.server.url, topic, ndjson)

    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})
    const results = await fleet.stopAll()
    expect(results.map((result) => result.code)).toEqual([0, 0, 0])
    expect(report).toMatchObject({lost: [], unexpected: [], duplicated: 0, deadLettered: 0, pending: 0, handled: mids.length})
    const summaries = results.map(workSummary)
    expect(summaries.reduce((sum, summary) => sum + Number(summary?.['processed']), 0)).toBe(mids.length)
    recordRow({scenario: '1 baseline: 3 workers', messages: mids.length, faults: 'none', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('2. SIGKILL a random one of three workers every 2 s, and start another: lost 0, pending 0 soon after the last kill', async () => {
    const {started, topic, group, ledger, count, ndjson, mids} = newScenario('kill', scaled(6_000, 60_000))
    const lines = ndjson.trimEnd().split('\n')
    // Slow enough that the run lasts while workers die, all of them busy: 3 workers × 4 handlers / 20 ms ≈ 600 msg/s at most.
    fleet = new WorkerFleet({redisUrl: redis.server.url, topic, group, ledger, args: ['--concurrency', '4', '--visibility-timeout', '2s'], env: {CHAOS_SLEEP_MS: '20'}})
    for (let i = 0; i < 3; i++) fleet.start()

    // Publish in five parts a second apart while the kills go on.
    const parts = 5
    const publishing = (async () => {
      for (let part = 0; part < parts; part++) {
        const slice = lines.slice((part * lines.length) / parts, ((part + 1) * lines.length) / parts)
        await publishAll(redis.server.url, topic, `${slice.join('\n')}\n`)
        await sleep(1000)
      }
    })()
    const random = seeded(7)
    let kills = 0
    let lastVictim = ''
    let lastKill = 0
    const killRounds = scaled(4, 20)
    for (let round = 0; round < killRounds; round++) {
      await sleep(2000)
      // A started worker that holds entries (a worker killed while still loading proves nothing).
      await fleet.ready()
      const holders = new Set((((await redis.redis.xpending(topic, group)) as [number, string, string, Array<[string, string]> | null])[3] ?? []).map(([name]) => name))
      const victim = fleet.pick(random, (worker) => holders.has(worker.name))
      if (victim === undefined) continue
      const result = await fleet.kill(victim)
      lastKill = Date.now()
      lastVictim = victim.name
      expect(result.signal).toBe('SIGKILL')
      kills++
      fleet.start()
    }
    // What the last one held is taken over within the visibility timeout (2 s: its heartbeat renewed
    // the entries at most 2/3 s before it died) plus one reclaim period (250 ms), plus a margin for a
    // machine that runs other tests beside this one.
    const takenOver = async (): Promise<boolean> => ((await redis.redis.xpending(topic, group, '-', '+', 1, lastVictim)) as unknown[]).length === 0
    await waitFor(takenOver, 30_000, `the entries of ${lastVictim} taken over`)
    const takenOverMs = Date.now() - lastKill
    expect(takenOverMs).toBeLessThan(2000 + 250 + 3000)
    await publishing

    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})
    const results = await fleet.stopAll()
    for (const worker of fleet.workers.filter((w) => w.result?.signal !== 'SIGKILL')) expect(worker.result?.code, `${worker.result?.stdout}${worker.result?.stderr}`).toBe(0)
    expect(kills).toBe(killRounds)
    expect(report).toMatchObject({lost: [], unexpected: [], deadLettered: 0, pending: 0, handled: count})
    // Re-handled only what the dead held: bounded by the in-flight limit of each killed worker (4 running + 200 read ahead).
    expect(report.duplicated).toBeLessThanOrEqual(kills * 204)
    expect(results.length).toBe(3 + kills)
    recordRow({scenario: `2 SIGKILL a worker every 2 s (the last one's entries taken over ${(takenOverMs / 1000).toFixed(1)} s after its death)`, messages: count, faults: `${kills} worker SIGKILLs`, lost: report.lost.length, duplicated: report.duplicated, deadLettered: report.deadLettered, timeMs: Date.now() - started})
  })

  it('3. SIGSTOP a worker holding entries past the visibility timeout, then SIGCONT: others finish its entries, its late acks count as duplicates', async () => {
    const {started, topic, group, ledger, count, ndjson, mids} = newScenario('freeze', scaled(2_000, 20_000))
    // Handlers of 1 ms: the read-ahead (about 20 ms of work) is then tens of entries, many times what
    // runs, so on waking most are still waiting to start when the first heartbeat finds them taken over.
    fleet = new WorkerFleet({redisUrl: redis.server.url, topic, group, ledger, args: ['--concurrency', '4', '--visibility-timeout', '1s'], env: {CHAOS_SLEEP_MS: '1'}})
    const frozen = fleet.start([], 'frozen')
    await publishAll(redis.server.url, topic, ndjson)
    // Let the frozen-to-be worker take entries, then freeze it with handlers mid-flight.
    await fleet.ready()
    await waitFor(async () => Number(((await redis.redis.xpending(topic, group)) as [number])[0]) >= 20, 20_000, 'entries held by the worker')
    frozen.cli.child.kill('SIGSTOP')
    const held = ((await redis.redis.xpending(topic, group, '-', '+', 10_000, 'frozen')) as Array<[string]>).map(([id]) => id)
    for (let i = 0; i < 2; i++) fleet.start()
    // Frozen until the others, once its entries are idle past the visibility timeout (1 s), have taken
    // over and handled every entry it held (however long the machine takes to start them): its own
    // acknowledgements then come second, and find nothing to acknowledge.
    const frozenPid = frozen.cli.child.pid
    await waitFor(
      async () => {
        const byOthers = new Set(readLedger(ledger).filter((line) => line.pid !== frozenPid).map((line) => line.id))
        if (!held.every((id) => byOthers.has(id))) return false
        // ... and acknowledged: none of them is pending any more.
        const pending = new Set(((await redis.redis.xpending(topic, group, '-', '+', 100_000)) as Array<[string]>).map(([id]) => id))
        return held.every((id) => !pending.has(id))
      },
      60_000,
      'the frozen worker\'s entries handled by the others',
    )
    const ledgerAtWake = readLedger(ledger).length
    frozen.cli.child.kill('SIGCONT')

    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})
    await fleet.stopAll()
    const frozenResult = frozen.result
    expect(frozenResult?.code, `${frozenResult?.stdout}${frozenResult?.stderr}`).toBe(0)
    const summary = workSummary(frozenResult as NonNullable<typeof frozenResult>)
    // Its duplicates are at most the entries both it and another worker handled (the ledger, read
    // after every worker stopped): the handlers running when it froze, and those it had handled but
    // not yet acknowledged. It may be 0: a worker frozen between handlers starts none of what was
    // taken from it. (Exactness is not asserted yet: one run in four counted 8 of 10; see the
    // closing note of 2026-12-03.)
    const ledgerLines = readLedger(ledger)
    const byFrozen = new Set(ledgerLines.filter((line) => line.pid === frozenPid).map((line) => line.id))
    const byOthers = new Set(ledgerLines.filter((line) => line.pid !== frozenPid).map((line) => line.id))
    const handledTwice = [...byFrozen].filter((id) => byOthers.has(id)).length
    expect(Number(summary?.['duplicates']), frozenResult?.stdout).toBeLessThanOrEqual(handledTwice)
    // Of what it held, only the (at most 4) handlers running when it froze finished after it woke. What
    // it held but had not started waited for a heartbeat on waking (not renewed for a visibility
    // timeout), which found it taken over: it started none of it.
    const handledAfterWaking = readLedger(ledger).slice(ledgerAtWake).filter((line) => line.pid === frozenPid && held.includes(line.id))
    expect(handledAfterWaking.length, JSON.stringify(handledAfterWaking)).toBeLessThanOrEqual(4)
    // Its first heartbeat after waking found its read-ahead taken over, and dropped what had not started.
    const warning = /"event":"warning","message":"(\d+) entries were taken over by another consumer \(this worker was too slow to renew them\): (\d+) not yet started are theirs now/.exec(frozenResult?.stdout ?? '')
    expect(warning, frozenResult?.stdout).not.toBeNull()
    expect(Number(warning?.[2])).toBeGreaterThan(0)
    expect(report).toMatchObject({lost: [], unexpected: [], deadLettered: 0, pending: 0, handled: count})
    recordRow({scenario: '3 SIGSTOP a worker past the visibility timeout, SIGCONT', messages: count, faults: '1 SIGSTOP until its entries were taken over', lost: report.lost.length, duplicated: report.duplicated, deadLettered: report.deadLettered, timeMs: Date.now() - started})
  })
})
