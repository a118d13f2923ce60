import {join} from 'node:path'

import {beforeAll, describe, expect, it} from 'vitest'

import {retryDueKey, retryKey} from '../../src/core/keys.js'
import {PROJECT_ROOT, runCli, startCli, waitFor, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis, type PrivateRedis} from '../helpers/private-redis.js'
import {useFreezableRedis} from './lib/chaos-context.js'
import {callsByPid, consumersOf, countersOf, expectCountersMatchLedger, pendingIdsOf, sleep} from './lib/counters.js'
import {LEDGER_HANDLER, WorkerFleet} from './lib/fleet.js'
import {checkLedger, readLedger, type LedgerReport} from './lib/ledger.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'
import {jsonError, newScenario, publishAll, settle, type Scenario} from './lib/scenario.js'

// Chaos scenarios 18-20 (issue 14, points 3, 4 and 6): Redis frozen past the visibility timeout
// under two workers (delayed acknowledgements race the takeover: nobody reports lost what was
// handled and never deleted); a worker whose clock runs 10 minutes fast beside two healthy ones
// (retry due times come from Redis's clock: nobody parks for 10 minutes); and Redis errors in the
// worker, each with its exit code and one line: the group destroyed while every handler slot is
// busy (6), a topic that is a hash (2), and a Redis over maxmemory (the worker starts and drains).

const FAIL_ONCE_HANDLER = join(PROJECT_ROOT, 'test', 'chaos', 'handlers', 'fail-once.mjs')
const FAST_CLOCK_PRELOAD = join(PROJECT_ROOT, 'test', 'chaos', 'preloads', 'fast-clock.mjs')
const TEN_MINUTES = 10 * 60_000

/** The `retry` events a `qctl work --json` process printed. */
const retryEvents = (stdout: string): Array<{id: string; error: {name: string; message: string}}> =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{"event":"retry"'))
    .map((line) => JSON.parse(line) as {id: string; error: {name: string; message: string}})

/** stderr holds exactly one `Error:` line (warnings aside), no stack trace and no "bug" wording. */
function expectOneErrorLine(result: CliResult): string {
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('Error:'))
  expect(errors, result.stderr).toHaveLength(1)
  expect(result.stderr).not.toMatch(/\n\s+at |bug|internal error/i)
  return errors[0] as string
}

describe('chaos: Redis frozen, skewed clocks, Redis errors', {timeout: CHAOS_TIMEOUT}, () => {
  const {redis, fleets, clis, freezeRedis, thawRedis} = useFreezableRedis()

  const fleetOn = (scenario: Scenario, args: string[], env: Record<string, string> = {}, handler = LEDGER_HANDLER, on: PrivateRedis = redis): WorkerFleet => {
    const created = new WorkerFleet({redisUrl: on.server.url, topic: scenario.topic, group: scenario.group, ledger: scenario.ledger, args, env, handler})
    fleets.push(created)
    return created
  }

  describe('18. Redis SIGSTOPped 20 s under two workers with steady traffic (--visibility-timeout 2s)', () => {
    /** One run of the scenario; the tests below check what it showed. */
    let run: {scenario: Scenario; fleet: WorkerFleet; report: LedgerReport} | undefined

    beforeAll(async () => {
      const scenario = newScenario('redis-frozen', scaled(6_000, 30_000))
      const {topic, group, ledger, mids, ndjson} = scenario
      const fleet = fleetOn(scenario, ['--concurrency', '4', '--visibility-timeout', '2s'], {CHAOS_SLEEP_MS: '2'})
      fleet.start([], 'w1')
      fleet.start([], 'w2')
      await fleet.ready()

      // Steady traffic: chunks published one after another, paused (between chunks) while Redis is frozen.
      const lines = ndjson.trimEnd().split('\n')
      const chunk = 200
      let paused = false
      let publishing: Promise<unknown> = Promise.resolve()
      const traffic = (async () => {
        for (let from = 0; from < lines.length; from += chunk) {
          while (paused) await sleep(50)
          publishing = publishAll(redis.server.url, topic, `${lines.slice(from, from + chunk).join('\n')}\n`)
          await publishing
          await sleep(200)
        }
      })()
      await waitFor(async () => (await redis.redis.xlen(topic)) >= lines.length / 3, 60_000, 'a third published')
      paused = true
      await publishing
      await freezeRedis()
      try {
        await sleep(20_000)
      } finally {
        await thawRedis()
      }
      paused = false
      await traffic

      const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})
      await fleet.stopAll()
      run = {scenario, fleet, report}
    }, CHAOS_TIMEOUT)

    it('no worker reports lost what was handled and never deleted; every entry handled; processed is each worker\'s ledger', () => {
      const {scenario, fleet, report} = run ?? expect.fail('the scenario did not run')
      const results = fleet.workers.map((worker) => worker.result as CliResult)
      for (const result of results) expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
      // Nothing was deleted: a worker reporting an entry lost would be a false alarm.
      for (const result of results) expect(countersOf(result), result.stdout).toMatchObject({lost: 0, lostIds: [], unacknowledged: 0})
      expect(report).toMatchObject({lost: [], unexpected: [], deadLettered: 0, pending: 0, handled: scenario.mids.length})
      const calls = callsByPid(scenario.ledger)
      for (const worker of fleet.workers) expect(countersOf(worker.result as CliResult).processed).toBe(calls.get(worker.cli.child.pid ?? -1) ?? 0)
      recordRow({scenario: '18 Redis SIGSTOPped 20 s under 2 workers with steady traffic', messages: scenario.mids.length, faults: '1 Redis SIGSTOP of 20 s', lost: report.lost.length, duplicated: report.duplicated, deadLettered: 0, timeMs: Date.now() - scenario.started})
    })

    it('the summaries\' duplicates are the ledger\'s: acknowledgements sent again after the freeze are no second handling', () => {
      const {fleet, report} = run ?? expect.fail('the scenario did not run')
      const duplicates = fleet.workers.map((worker) => countersOf(worker.result as CliResult).duplicates)
      expect(duplicates.reduce((a, b) => a + b, 0), `duplicates in the summaries (${duplicates.join(' + ')}), with ${report.duplicated} second handlings in the ledger`).toBe(report.duplicated)
    })
  })

  it('19. a worker whose clock runs 10 minutes fast, every message failing once, beside two healthy workers that finish what it parked: all handled in bounded time, nobody parks for 10 minutes', async () => {
    const scenario = newScenario('skew', scaled(200, 2_000))
    const {started, topic, group, ledger, mids, ndjson} = scenario
    const args = ['--concurrency', '4', '--backoff', 'fixed', '--backoff-delay', '200ms', '--visibility-timeout', '5s']
    const skewed = fleetOn(scenario, args, {NODE_OPTIONS: `--import ${FAST_CLOCK_PRELOAD}`, CHAOS_CLOCK_SKEW_MS: String(TEN_MINUTES)}, FAIL_ONCE_HANDLER)
    const healthy = fleetOn(scenario, args, {}, FAIL_ONCE_HANDLER)
    const fast = skewed.start([], 'fast-clock')
    healthy.start([], 'healthy-1')
    healthy.start([], 'healthy-2')
    await skewed.ready()
    await healthy.ready()

    // Due times are Redis's: watch how far ahead of Redis's clock the latest due time ever is.
    let maxLeadMs = 0
    let watching = true
    const watch = (async () => {
      while (watching) {
        const [seconds, micros] = await redis.redis.time()
        const latest = await redis.redis.zrange(retryDueKey(topic, group), -1, -1, 'WITHSCORES')
        if (latest[1] !== undefined) maxLeadMs = Math.max(maxLeadMs, Number(latest[1]) - (Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)))
        await sleep(20)
      }
    })()
    await publishAll(redis.server.url, topic, ndjson)
    // Once the fast-clock worker has parked a few retries it stops: what it parked is the healthy workers' to finish.
    await waitFor(() => retryEvents(fast.cli.output().stdout).length >= 8, 30_000, 'the fast-clock worker to park retries')
    fast.cli.child.kill('SIGTERM')

    // Each retry is due 200 ms after its failure (Redis's clock): the whole run takes seconds, not 10 minutes.
    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: scaled(60_000, 120_000)})
    watching = false
    await watch
    expect(maxLeadMs, 'the furthest a due time ran ahead of Redis\'s clock').toBeLessThan(5_000)
    expect(await redis.redis.zcard(retryDueKey(topic, group))).toBe(0)
    expect(await redis.redis.exists(retryKey(topic, group))).toBe(0)
    // The fast-clock worker stopped by itself (one signal: a second one now would make it exit 130).
    const results = [await fast.cli.done, ...(await healthy.stopAll())]
    for (const result of results) expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    expect(report).toMatchObject({lost: [], unexpected: [], deadLettered: 0, duplicated: 0, pending: 0, handled: mids.length})
    const workers = [...skewed.workers, ...healthy.workers]
    expectCountersMatchLedger(workers.map((worker) => ({pid: worker.cli.child.pid, result: worker.result as CliResult})), ledger, {lost: 0, duplicates: 0, unacknowledged: 0})
    // Every message failed exactly once and succeeded on attempt 2.
    expect(readLedger(ledger).every((line) => line.attempt === 2)).toBe(true)
    expect(results.reduce((sum, result) => sum + countersOf(result).retried, 0)).toBe(mids.length)
    // The fast-clock worker's clock really ran fast (as its handler saw it when it failed).
    const fastClocks = retryEvents(fast.result?.stdout ?? '').map((event) => Number(/\(clock (\d+)\)/.exec(event.error.message)?.[1]))
    expect(fastClocks.length).toBeGreaterThanOrEqual(8)
    for (const clock of fastClocks) expect(clock).toBeGreaterThan(Date.now() + TEN_MINUTES / 2)
    recordRow({scenario: '19 a worker 10 min fast beside 2 healthy, every message failing once (200 ms backoff)', messages: mids.length, faults: `1 clock 10 min fast (${fastClocks.length} retries parked by it)`, lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('20a. the group destroyed while every handler slot is busy: exit 6 with one line', async () => {
    const scenario = newScenario('destroy-busy', 20)
    const {started, topic, group, ledger, ndjson} = scenario
    await publishAll(redis.server.url, topic, ndjson)
    const worker = startCli(['work', LEDGER_HANDLER, '--topic', topic, '--group', group, '--consumer', 'busy', '--concurrency', '2', '--visibility-timeout', '1s', '-u', redis.server.url], {
      env: {CHAOS_LEDGER: ledger, CHAOS_SLEEP_MS: '3000'},
      timeoutMs: 60_000,
    })
    clis.push(worker)
    await waitFor(async () => (await pendingIdsOf(redis.redis, topic, group, 'busy').catch(() => [])).length >= 2, 30_000, 'both handler slots busy')
    await redis.redis.xgroup('DESTROY', topic, group)
    const result = await worker.done
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(6)
    expect(expectOneErrorLine(result)).toBe(`Error: consumer group "${group}" of topic "${topic}" no longer exists (the stream was deleted or the group destroyed); stopping rather than starting over`)
    expect(((await redis.redis.call('XINFO', 'GROUPS', topic)) as unknown[]).length).toBe(0)
    recordRow({scenario: '20a the group destroyed while every handler slot is busy (exit 6)', messages: 20, faults: 'XGROUP DESTROY', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('20b. TOPIC is a hash: exit 2 naming the key and its type', async () => {
    const started = Date.now()
    const scenario = newScenario('hash-topic', 0)
    await redis.redis.hset(scenario.topic, 'field', 'value')
    const args = ['work', LEDGER_HANDLER, '--topic', scenario.topic, '--group', 'g', '-u', redis.server.url]
    const result = await runCli(args)
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(2)
    expect(expectOneErrorLine(result)).toContain(`"${scenario.topic}" is a hash, not a stream`)
    const json = await runCli([...args, '--json'])
    expect(json.code).toBe(2)
    expect(jsonError(json)).toMatchObject({code: 'USAGE', exitCode: 2})
    expect(jsonError(json)?.message).toContain(`"${scenario.topic}" is a hash, not a stream`)
    expect(await redis.redis.type(scenario.topic)).toBe('hash')
    recordRow({scenario: '20b TOPIC is a hash (exit 2)', messages: 0, faults: 'WRONGTYPE', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  describe('Redis over maxmemory (noeviction)', () => {
    const full = usePrivateRedis({args: ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']})

    it('20c. with the group existing, the worker starts and drains the backlog (not exit 1)', async () => {
      const scenario = newScenario('oom', scaled(1_000, 5_000))
      const {started, topic, group, ledger, mids, ndjson} = scenario
      await publishAll(full.server.url, topic, ndjson)
      await full.redis.xgroup('CREATE', topic, group, '0')
      // Filled to the brim: large values, then smaller ones, until even a tiny write is refused.
      let filled = 0
      for (const size of [20_000, 1_000, 50]) {
        await expect(
          (async () => {
            for (;;) await full.redis.set(`fill:${filled++}`, 'x'.repeat(size))
          })(),
        ).rejects.toThrow(/^OOM /)
      }
      // Held over the limit: at the brim, Redis shrinking a client's buffers (clientsCron) can free a few
      // KB and let a small write through again (CI saw XGROUP CREATE succeed here). With maxmemory set
      // 256 KB under what is used now, every write that needs memory stays refused.
      const used = Number(/^used_memory:(\d+)/m.exec(await full.redis.info('memory'))?.[1])
      await full.redis.config('SET', 'maxmemory', String(used - 256 * 1024))
      await expect(full.redis.xadd(topic, '*', 'data', '{}')).rejects.toThrow(/^OOM /)
      await expect(full.redis.xgroup('CREATE', topic, 'another', '0')).rejects.toThrow(/^OOM /)

      const worker = fleetOn(scenario, ['--concurrency', '4', '--until-empty'], {}, LEDGER_HANDLER, full).start([], 'drainer')
      const result = await worker.cli.done
      expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
      const report = await checkLedger({redis: full.redis, topic, group, mids, ledger})
      expect(report).toMatchObject({lost: [], unexpected: [], duplicated: 0, deadLettered: 0, pending: 0, handled: mids.length})
      expectCountersMatchLedger([{pid: worker.cli.child.pid, result}], ledger, {lost: 0, duplicates: 0, unacknowledged: 0})
      // Still full: draining freed nothing, and the worker did not need it to.
      await expect(full.redis.set('one-more', 'x')).rejects.toThrow(/^OOM /)
      expect((await consumersOf(full.redis, topic, group)).has('drainer')).toBe(false)
      recordRow({scenario: '20c Redis over maxmemory (noeviction), group existing: the worker drains', messages: mids.length, faults: 'OOM', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
    })
  })
})
