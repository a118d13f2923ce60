import {afterEach, beforeAll, describe, expect, it} from 'vitest'

import {runCli, waitFor, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {callsByPid, consumersOf, countersOf, expectCountersMatchLedger, midsById, pendingIdsOf, sleep} from './lib/counters.js'
import {WorkerFleet, seeded} from './lib/fleet.js'
import {checkLedger, readLedger, type LedgerReport} from './lib/ledger.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'
import {newScenario, publishAll, settle, workSummary, type Scenario} from './lib/scenario.js'

// Chaos scenario 15 (issue 14, point 4): an operator's admin commands under a running worker.
// XGROUP DELCONSUMER of its consumer and XDEL of entries it holds (waiting in its read-ahead, or
// running): every entry is handled or reported lost by ID, exactly once, and the worker's summary
// counters (processed, lost, duplicates, unacknowledged) are exactly what the ledger shows.

describe('chaos: admin commands under a running worker', {timeout: CHAOS_TIMEOUT}, () => {
  const redis = usePrivateRedis()
  const fleets: WorkerFleet[] = []

  afterEach(async () => {
    await Promise.all(fleets.splice(0).map(async (fleet) => fleet.killAll()))
  })

  const setup = (name: string, count: number, messages: Parameters<typeof newScenario>[2] = {}): Scenario & {fleet: (args: string[], env?: Record<string, string>) => WorkerFleet} => {
    const scenario = newScenario(name, count, messages)
    const fleet = (args: string[], env: Record<string, string> = {}): WorkerFleet => {
      const created = new WorkerFleet({redisUrl: redis.server.url, topic: scenario.topic, group: scenario.group, ledger: scenario.ledger, args, env})
      fleets.push(created)
      return created
    }
    return {...scenario, fleet}
  }

  /** Wait until `consumer` holds at least `min` entries (its read-ahead and running handlers). */
  const holding = async (topic: string, group: string, consumer: string, min: number): Promise<void> =>
    waitFor(async () => (await pendingIdsOf(redis.redis, topic, group, consumer).catch(() => [])).length >= min, 30_000, `${consumer} to hold ${min} entries`)

  describe('15a. XGROUP DELCONSUMER of a running worker holding tens of read-ahead entries', () => {
    /** One run of the scenario; the tests below check what it showed. */
    let run: {scenario: Scenario; pid: number | undefined; dropped: number[]; gate: CliResult; atGate: LedgerReport; result: CliResult; report: LedgerReport} | undefined

    beforeAll(async () => {
      const scenario = setup('delconsumer', scaled(5_000, 30_000))
      const {topic, group, ledger, mids, ndjson, fleet} = scenario
      await publishAll(redis.server.url, topic, ndjson)
      // Handlers of 1 ms at concurrency 4: the read-ahead (about 20 ms of work) is tens of entries.
      const workers = fleet(['--concurrency', '4', '--visibility-timeout', '1s'], {CHAOS_SLEEP_MS: '1'})
      const worker = workers.start([], 'victim')
      await workers.ready()
      const dropped: number[] = []
      for (let round = 0; round < scaled(3, 10); round++) {
        await holding(topic, group, 'victim', 20)
        dropped.push(Number(await redis.redis.xgroup('DELCONSUMER', topic, group, 'victim')))
        await sleep(300)
      }
      // The operator's gate: it may pass only once every entry was really handled.
      const gate = await runCli(['lag', topic, '--max-pending', '0', '--max-lag', '0', '--wait', '60s', '-u', redis.server.url], {timeoutMs: 90_000})
      const atGate = await checkLedger({redis: redis.redis, topic, group, mids, ledger})
      const [result] = await workers.stopAll()
      const report = await checkLedger({redis: redis.redis, topic, group, mids, ledger})
      run = {scenario, pid: worker.cli.child.pid, dropped, gate, atGate, result: result as CliResult, report}
    }, CHAOS_TIMEOUT)

    it('every entry is handled, the summary says lost 0, and `lag --max-pending 0 --max-lag 0` passes only once all was handled', () => {
      const {scenario, pid, dropped, gate, atGate, result, report} = run ?? expect.fail('the scenario did not run')
      // The consumer held entries each time it was deleted: they were pending nowhere then.
      expect(Math.min(...dropped)).toBeGreaterThan(0)
      expect(gate.code, `${gate.stdout}${gate.stderr}`).toBe(0)
      expect(atGate.lost, 'published entries not handled when `lag --max-pending 0 --max-lag 0` passed').toEqual([])
      expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
      expect(report).toMatchObject({lost: [], unexpected: [], deadLettered: 0, pending: 0, handled: scenario.mids.length})
      const counters = countersOf(result)
      expect(counters).toMatchObject({processed: callsByPid(scenario.ledger).get(pid ?? -1), lost: 0, lostIds: [], unacknowledged: 0})
      // Nobody took those entries: no "taken over" warning.
      expect(result.stdout).not.toContain('taken over by another consumer')
      recordRow({
        scenario: '15a XGROUP DELCONSUMER of a running worker (its read-ahead handled anyway)',
        messages: scenario.mids.length,
        faults: `${dropped.length} DELCONSUMERs dropping ${dropped.reduce((a, b) => a + b, 0)} pending entries`,
        lost: report.lost.length,
        duplicated: report.duplicated,
        deadLettered: 0,
        timeMs: Date.now() - scenario.started,
      })
    })

    it('the summary\'s duplicates are the ledger\'s: an entry whose consumer was deleted is handled once, and is no duplicate', () => {
      const {result, report, dropped} = run ?? expect.fail('the scenario did not run')
      expect(countersOf(result).duplicates, `duplicates in the summary, with ${report.duplicated} second handlings in the ledger and ${dropped.join(' + ')} entries dropped by DELCONSUMER`).toBe(report.duplicated)
    })
  })

  it('15b. XDEL of entries waiting in the read-ahead behind slow handlers: each reported lost by ID, once; the summary\'s lost is the ledger\'s', async () => {
    // Four messages keep the four handlers busy for 3 s; what the worker read ahead behind them waits.
    const {started, topic, group, ledger, mids, fleet} = setup('xdel-waiting', 40)
    const lines = mids.map((mid, i) => JSON.stringify({mid, ...(i < 4 ? {sleepMs: 3000} : {})}))
    await publishAll(redis.server.url, topic, `${lines.join('\n')}\n`)
    const ids = [...(await midsById(redis.redis, topic)).keys()]
    const workers = fleet(['--concurrency', '4', '--visibility-timeout', '1s', '--until-empty'])
    const worker = workers.start([], 'reader')
    await holding(topic, group, 'reader', 6)
    await sleep(100)
    const waiting = (await pendingIdsOf(redis.redis, topic, group, 'reader')).filter((id) => !ids.slice(0, 4).includes(id))
    expect(waiting.length).toBeGreaterThanOrEqual(2)
    expect(await redis.redis.xdel(topic, ...waiting)).toBe(waiting.length)

    const result = await worker.cli.done
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    const summary = workSummary(result)
    expect(new Set(summary?.['lostIds'] as string[])).toEqual(new Set(waiting))
    const report = await checkLedger({redis: redis.redis, topic, group, mids, ledger})
    const byId = new Map(ids.map((id, i) => [id, mids[i] as string]))
    expect(new Set(report.lost)).toEqual(new Set(waiting.map((id) => byId.get(id))))
    expect(report).toMatchObject({unexpected: [], duplicated: 0, pending: 0, handled: mids.length - waiting.length})
    expectCountersMatchLedger([{pid: worker.cli.child.pid, result}], ledger, {lost: report.lost.length, duplicates: 0, unacknowledged: 0})
    recordRow({scenario: '15b XDEL of entries waiting in the read-ahead (reported lost by ID)', messages: mids.length, faults: `${waiting.length} waiting entries XDELed`, lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('15c. XDEL of read-ahead entries of a fast worker, again and again: each deleted entry is handled or reported lost, exactly once', async () => {
    const {started, topic, group, ledger, mids, ndjson, fleet} = setup('xdel-fast', scaled(3_000, 20_000))
    await publishAll(redis.server.url, topic, ndjson)
    const idToMid = await midsById(redis.redis, topic)
    const workers = fleet(['--concurrency', '4', '--visibility-timeout', '1s'], {CHAOS_SLEEP_MS: '1'})
    const worker = workers.start([], 'fast')
    await workers.ready()

    const random = seeded(15)
    const deleted = new Set<string>()
    const rounds = scaled(5, 20)
    for (let round = 0; round < rounds; round++) {
      await holding(topic, group, 'fast', 20)
      // The newest entries it holds: most of them are still waiting in its read-ahead.
      const held = await pendingIdsOf(redis.redis, topic, group, 'fast')
      const victims = held.slice(-4).filter(() => random() < 0.8)
      if (victims.length > 0) await redis.redis.xdel(topic, ...victims)
      for (const id of victims) deleted.add(id)
      await sleep(100 + Math.floor(random() * 200))
    }
    expect(deleted.size).toBeGreaterThan(0)
    expect(deleted.size).toBeLessThanOrEqual(100)
    const deletedMids = new Set([...deleted].map((id) => idToMid.get(id)))
    const kept = mids.filter((mid) => !deletedMids.has(mid))
    await settle({redis: redis.redis, topic, group, mids: kept, ledger, timeoutMs: scaled(60_000, 300_000)})
    const [result] = await workers.stopAll()
    expect(result?.code, `${result?.stdout}${result?.stderr}`).toBe(0)

    const handledIds = new Set(readLedger(ledger).map((line) => line.id))
    const lostIds = workSummary(result!)?.['lostIds'] as string[]
    // Reported lost: deleted, never handled, and each once.
    expect(lostIds.filter((id) => !deleted.has(id) || handledIds.has(id))).toEqual([])
    expect(new Set(lostIds).size).toBe(lostIds.length)
    // Every deleted entry is one or the other.
    expect([...deleted].filter((id) => !handledIds.has(id) && !lostIds.includes(id))).toEqual([])
    const report = await checkLedger({redis: redis.redis, topic, group, mids, ledger})
    expect(new Set(report.lost)).toEqual(new Set(lostIds.map((id) => idToMid.get(id))))
    expect(report).toMatchObject({unexpected: [], pending: 0})
    expectCountersMatchLedger([{pid: worker.cli.child.pid, result: result!}], ledger, {lost: report.lost.length, duplicates: report.duplicated, unacknowledged: 0})
    recordRow({
      scenario: '15c XDEL of read-ahead entries of a fast worker (handled or reported lost, once)',
      messages: mids.length,
      faults: `${deleted.size} held entries XDELed (${lostIds.length} reported lost, the rest handled)`,
      lost: 0,
      duplicated: report.duplicated,
      deadLettered: 0,
      timeMs: Date.now() - started,
    })
  })

  it('15d. XDEL of an entry while its handler runs (heartbeats during it): processed 1, lost 0, duplicates 0, no "taken over" warning', async () => {
    const {started, topic, group, ledger, mids, fleet} = setup('xdel-running', 1)
    await publishAll(redis.server.url, topic, `${JSON.stringify({mid: mids[0], sleepMs: 2000})}\n`)
    const workers = fleet(['--visibility-timeout', '1s', '--until-empty'])
    const worker = workers.start([], 'runner')
    await holding(topic, group, 'runner', 1)
    // Running now (one entry, concurrency 1); deleted while a heartbeat or two happen.
    await sleep(300)
    const [id] = await pendingIdsOf(redis.redis, topic, group, 'runner')
    expect(await redis.redis.xdel(topic, id as string)).toBe(1)

    const result = await worker.cli.done
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    expect(workSummary(result)).toMatchObject({processed: 1, lost: 0, lostIds: [], duplicates: 0, unacknowledged: 0})
    expect(result.stdout).not.toContain('taken over')
    expect(readLedger(ledger).map((line) => line.id)).toEqual([id])
    const report = await checkLedger({redis: redis.redis, topic, group, mids, ledger})
    expect(report).toMatchObject({lost: [], duplicated: 0, pending: 0, handled: 1})
    expectCountersMatchLedger([{pid: worker.cli.child.pid, result}], ledger, {lost: 0, duplicates: 0, unacknowledged: 0})
    expect((await consumersOf(redis.redis, topic, group)).has('runner')).toBe(false)
    recordRow({scenario: '15d XDEL of an entry while its handler runs', messages: 1, faults: '1 running entry XDELed', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })
})
