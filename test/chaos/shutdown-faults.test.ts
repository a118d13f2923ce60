import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {PROJECT_ROOT, runCli, startCli, waitFor, type CliResult, type RunningCli} from '../helpers/cli.js'
import {useFreezableRedis} from './lib/chaos-context.js'
import {callsByPid, consumersOf, countersOf, expectCountersMatchLedger, pendingIdsOf, sleep} from './lib/counters.js'
import {LEDGER_HANDLER, WorkerFleet} from './lib/fleet.js'
import {checkLedger, readLedger} from './lib/ledger.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'
import {jsonError, newScenario, publishAll, scratchDir, settle, uniqueTopic, type Scenario} from './lib/scenario.js'

// Chaos scenarios 16 and 17 (issue 14, point 5): shutdown is bounded and honest, and consumers of
// killed workers do not pile up. A worker stopped while Redis is frozen ends within its
// --shutdown-timeout and says how many acknowledgements never reached Redis (exit 3); a clean stop
// handles its read-ahead, removes its consumer and leaves nothing pending; each signal gets its line;
// a signal during start-up exits 130 with a line. Live workers prune the consumers of killed workers
// that hold nothing, never one that holds entries, and none with --no-prune-consumers.

const SLOW_LOAD_HANDLER = join(PROJECT_ROOT, 'test', 'chaos', 'handlers', 'slow-load.ts')
const STARTED_MARK_PRELOAD = join(PROJECT_ROOT, 'test', 'chaos', 'preloads', 'started-mark.mjs')
/** Longest a stopped worker may take before the test kills it: --shutdown-timeout 5 s, 1 s of cleanup, and a generous margin for a busy machine. */
const KILL_DEADLINE_MS = 20_000

/** The process's result, or undefined if it had not exited within `ms` (then it is SIGKILLed). */
async function endedWithin(cli: RunningCli, ms: number): Promise<CliResult | undefined> {
  const result = await Promise.race([cli.done, sleep(ms).then(() => undefined)])
  if (result === undefined) cli.child.kill('SIGKILL')
  return result
}

/** A number from the plain-text summary line ("Stopped (signal) after 1.2s: processed 1,234, …"). */
function textCount(stdout: string, name: string): number {
  const match = new RegExp(`Stopped \\([a-z-]+\\) after [^:]+: .*\\b${name} ([\\d,]+)`).exec(stdout)
  if (match === null) throw new Error(`no "${name}" in the summary line:\n${stdout}`)
  return Number(match[1]?.replaceAll(',', ''))
}

describe('chaos: stopping workers, bounded and honest', {timeout: CHAOS_TIMEOUT}, () => {
  const {redis, fleets, clis, freezeRedis, thawRedis} = useFreezableRedis()

  const setup = (name: string, count: number): Scenario & {fleet: (args: string[], env?: Record<string, string>) => WorkerFleet} => {
    const scenario = newScenario(name, count)
    const fleet = (args: string[], env: Record<string, string> = {}): WorkerFleet => {
      const created = new WorkerFleet({redisUrl: redis.server.url, topic: scenario.topic, group: scenario.group, ledger: scenario.ledger, args, env})
      fleets.push(created)
      return created
    }
    return {...scenario, fleet}
  }

  /** A worker without --json (its human lines are under test), cleaned up after the test. */
  const plainWorker = (scenario: Scenario, consumer: string, args: string[], env: Record<string, string | undefined> = {}, handler = LEDGER_HANDLER): RunningCli => {
    const cli = startCli(['work', handler, '--topic', scenario.topic, '--group', scenario.group, '--consumer', consumer, '-u', redis.server.url, ...args], {
      env: {CHAOS_LEDGER: scenario.ledger, ...env},
      timeoutMs: 120_000,
    })
    clis.push(cli)
    return cli
  }

  const holding = async (topic: string, group: string, consumer: string, min: number): Promise<void> =>
    waitFor(async () => (await pendingIdsOf(redis.redis, topic, group, consumer).catch(() => [])).length >= min, 30_000, `${consumer} to hold ${min} entries`)

  /** Drain what is left with a worker that takes over others' entries after 2 s; lost must be 0. */
  const finish = async (scenario: Scenario & {fleet: (args: string[]) => WorkerFleet}): Promise<{result: CliResult; pid: number | undefined}> => {
    const finisher = scenario.fleet(['--concurrency', '8', '--visibility-timeout', '2s', '--until-empty']).start([], 'finisher')
    const result = await finisher.cli.done
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    return {result, pid: finisher.cli.child.pid}
  }

  it('16a. SIGTERM while Redis is frozen (--shutdown-timeout 5s): the worker ends, exit 3, and its summary counts the acknowledgements that never got through', async () => {
    const scenario = setup('stop-frozen', scaled(5_000, 20_000))
    const {started, topic, group, ledger, mids, ndjson, fleet} = scenario
    await publishAll(redis.server.url, topic, ndjson)
    const worker = fleet(['--concurrency', '4', '--visibility-timeout', '2s', '--shutdown-timeout', '5s'], {CHAOS_SLEEP_MS: '1'}).start([], 'frozen-out')
    await waitFor(() => readLedger(ledger).length >= 300, 30_000, '300 messages handled')
    await holding(topic, group, 'frozen-out', 10)

    await freezeRedis()
    // What it held runs to completion; the acknowledgements find no Redis to answer them.
    await sleep(500)
    const signalled = Date.now()
    worker.cli.child.kill('SIGTERM')
    const result = await endedWithin(worker.cli, KILL_DEADLINE_MS)
    const stopMs = Date.now() - signalled
    await thawRedis()
    expect(result, `still running ${KILL_DEADLINE_MS} ms after SIGTERM with Redis frozen:\n${worker.cli.output().stdout}\n${worker.cli.output().stderr}`).toBeDefined()
    expect(result?.code, `${result?.stdout}${result?.stderr}`).toBe(3)
    const unacknowledged = countersOf(result!).unacknowledged
    const [counters] = expectCountersMatchLedger([{pid: worker.cli.child.pid, result: result!}], ledger, {lost: 0, duplicates: 0, unacknowledged})
    expect(counters?.unacknowledged).toBeGreaterThan(0)
    expect(jsonError(result!)).toMatchObject({code: 'REDIS_UNAVAILABLE', exitCode: 3})
    expect(jsonError(result!)?.message).toContain(`${counters?.unacknowledged} handled entries could not be acknowledged`)
    // Whatever it handled and is still pending was counted as unacknowledged: the summary never says less.
    const leftPending = await pendingIdsOf(redis.redis, topic, group, 'frozen-out')
    const handledBefore = new Set(readLedger(ledger).map((line) => line.id))
    expect(leftPending.filter((id) => handledBefore.has(id)).length).toBeLessThanOrEqual(counters?.unacknowledged ?? 0)

    const {result: finished, pid} = await finish(scenario)
    const report = await settle({redis: redis.redis, topic, group, mids, ledger, timeoutMs: 60_000})
    expect(report).toMatchObject({lost: [], unexpected: [], deadLettered: 0, pending: 0, handled: mids.length})
    // Handled twice: only entries whose acknowledgement the frozen-out worker reported as never sent.
    expect(report.duplicated).toBeLessThanOrEqual(counters?.unacknowledged ?? 0)
    expect(callsByPid(ledger).get(pid ?? -1)).toBe(countersOf(finished).processed)
    recordRow({
      scenario: `16a SIGTERM with Redis frozen, --shutdown-timeout 5s (exit 3 after ${(stopMs / 1000).toFixed(1)} s, ${counters?.unacknowledged} unacknowledged)`,
      messages: mids.length,
      faults: 'Redis SIGSTOP, worker SIGTERM',
      lost: report.lost.length,
      duplicated: report.duplicated,
      deadLettered: 0,
      timeMs: Date.now() - started,
    })
  })

  it('16b. a clean SIGINT with read-ahead held: its line, the read-ahead handled, the consumer removed, `lag --max-pending 0` passes at once', async () => {
    const scenario = setup('stop-clean', scaled(3_000, 20_000))
    const {started, topic, group, ledger, mids, ndjson} = scenario
    await publishAll(redis.server.url, topic, ndjson)
    const worker = plainWorker(scenario, 'clean', ['--concurrency', '4', '--visibility-timeout', '30s'], {CHAOS_SLEEP_MS: '1'})
    await waitFor(() => readLedger(ledger).length >= 300, 30_000, '300 messages handled')
    await holding(topic, group, 'clean', 20)
    const heldAtSignal = await pendingIdsOf(redis.redis, topic, group, 'clean')
    worker.child.kill('SIGINT')
    const result = await worker.done
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    expect(result.stderr).toMatch(/^stopping: waiting up to 30(\.00)?s for \d+ running handlers?( and \d+ read ahead)?; Ctrl-C again to stop now$/m)

    // Nothing it read is left: what it held at the signal was handled, by it.
    const mine = new Set(readLedger(ledger).filter((line) => line.pid === worker.child.pid).map((line) => line.id))
    expect(heldAtSignal.filter((id) => !mine.has(id))).toEqual([])
    expect(textCount(result.stdout, 'processed')).toBe(mine.size)
    expect(result.stdout).not.toMatch(/released|unacknowledged|unfinished/)
    expect((await consumersOf(redis.redis, topic, group)).has('clean')).toBe(false)
    const gate = await runCli(['lag', topic, '--max-pending', '0', '-u', redis.server.url])
    expect(gate.code, `${gate.stdout}${gate.stderr}`).toBe(0)

    await finish(scenario)
    const report = await checkLedger({redis: redis.redis, topic, group, mids, ledger})
    expect(report).toMatchObject({lost: [], unexpected: [], duplicated: 0, pending: 0, handled: mids.length})
    recordRow({scenario: '16b clean SIGINT with read-ahead held (handled, consumer removed)', messages: mids.length, faults: `1 SIGINT with ${heldAtSignal.length} entries held`, lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('16c. a second SIGINT: the first-signal line, then the second-signal line naming what is left pending, exit 130; another worker finishes', async () => {
    const scenario = setup('stop-twice', 40)
    const {started, topic, group, ledger, mids, ndjson} = scenario
    await publishAll(redis.server.url, topic, ndjson)
    const worker = plainWorker(scenario, 'twice', ['--concurrency', '4', '--visibility-timeout', '2s'], {CHAOS_SLEEP_MS: '60000'})
    await holding(topic, group, 'twice', 4)
    worker.child.kill('SIGINT')
    await waitFor(() => worker.output().stderr.includes('stopping: '), 10_000, 'the first-signal line')
    expect(worker.output().stderr).toMatch(/^stopping: waiting up to 30(\.00)?s for 4 running handlers( and \d+ read ahead)?; Ctrl-C again to stop now$/m)
    worker.child.kill('SIGINT')
    const result = await worker.done
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(130)
    const line = /^stopped: (\d+) entries left pending; another worker takes them after the visibility timeout$/m.exec(result.stderr)
    expect(line, result.stderr).not.toBeNull()
    expect(Number(line?.[1])).toBe((await pendingIdsOf(redis.redis, topic, group, 'twice')).length)

    await finish(scenario)
    const report = await checkLedger({redis: redis.redis, topic, group, mids, ledger})
    expect(report).toMatchObject({lost: [], unexpected: [], duplicated: 0, pending: 0, handled: mids.length})
    recordRow({scenario: '16c second SIGINT (its line names what is left pending)', messages: mids.length, faults: '2 SIGINTs', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  /** A stop during start-up: exit 130, one `Error:` line about start-up, and nothing read from the group. */
  const expectStoppedDuringStartUp = async (result: CliResult | undefined, topic: string): Promise<void> => {
    expect(result, 'the worker did not end').toBeDefined()
    expect({code: result?.code, signal: result?.signal}, `${result?.stdout}${result?.stderr}`).toEqual({code: 130, signal: null})
    expect(result?.stderr).toMatch(/^Error: [^\n]*start-up[^\n]*\n$/)
    expect(await redis.redis.exists(topic)).toBe(0)
  }

  it('16d. SIGTERM while a TypeScript handler module is still loading: exit 130 with a line', async () => {
    const started = Date.now()
    const scenario = {...newScenario('stop-loading', 0), topic: uniqueTopic('stop-loading')}
    const mark = join(scratchDir('loading'), 'mark')
    const worker = plainWorker(scenario, 'loading', [], {CHAOS_LOADING_MARK: mark, CHAOS_LOAD_MS: '3000'}, SLOW_LOAD_HANDLER)
    await waitFor(() => existsSync(mark), 30_000, 'the handler module to start loading')
    worker.child.kill('SIGTERM')
    await expectStoppedDuringStartUp(await endedWithin(worker, KILL_DEADLINE_MS), scenario.topic)
    recordRow({scenario: '16d SIGTERM while the handler module loads (exit 130, one line)', messages: 0, faults: '1 SIGTERM during start-up', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('16e. SIGTERM right after spawn (as soon as qctl\'s entry point runs): exit 130 with a line, not 143 in silence', async () => {
    const started = Date.now()
    const scenario = {...newScenario('stop-spawned', 0), topic: uniqueTopic('stop-spawned')}
    const mark = join(scratchDir('spawned'), 'mark')
    const worker = plainWorker(scenario, 'spawned', [], {CHAOS_STARTED_MARK: mark, NODE_OPTIONS: `--import ${STARTED_MARK_PRELOAD}`})
    // The preload marks the moment bin/run.js has added its first SIGTERM listener (its first lines),
    // before anything else of qctl has loaded: the earliest signal qctl can answer.
    await waitFor(() => existsSync(mark), 30_000, 'bin/run.js to listen for signals')
    worker.child.kill('SIGTERM')
    const result = await endedWithin(worker, KILL_DEADLINE_MS)
    await expectStoppedDuringStartUp(result, scenario.topic)
    // Answered by bin/run.js's own listener (src/output/early-signals.ts), before the command took signals over.
    expect(result?.stderr).toMatch(/^Error: interrupted by SIGTERM during start-up/)
    recordRow({scenario: '16e SIGTERM right after spawn (exit 130, one line)', messages: 0, faults: '1 SIGTERM during start-up', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('16f. SIGTERM while connecting to a frozen Redis: exit 130 with a line, within the kill deadline', async () => {
    const started = Date.now()
    const scenario = {...newScenario('stop-connecting', 0), topic: uniqueTopic('stop-connecting')}
    await freezeRedis()
    const worker = plainWorker(scenario, 'connecting', [])
    // Long enough for node and qctl to load and open the connection; Redis answers nothing.
    await sleep(2500)
    worker.child.kill('SIGTERM')
    const result = await endedWithin(worker, KILL_DEADLINE_MS)
    await thawRedis()
    await expectStoppedDuringStartUp(result, scenario.topic)
    recordRow({scenario: '16f SIGTERM while connecting to a frozen Redis (exit 130, one line)', messages: 0, faults: 'Redis SIGSTOP, 1 SIGTERM during start-up', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  /** Ten workers, each handles a share and is SIGKILLed in turn once it holds nothing; returns their names. */
  const killTenIdle = async (scenario: Scenario & {fleet: (args: string[]) => WorkerFleet}, count: number): Promise<string[]> => {
    const {topic, group, ledger, mids, ndjson} = scenario
    const doomed = scenario.fleet(['--concurrency', '2'])
    const names = Array.from({length: 10}, (_, i) => `dead-${i + 1}`)
    for (const name of names) doomed.start([], name)
    await doomed.ready(60_000)
    await waitFor(async () => {
      const consumers = await consumersOf(redis.redis, topic, group).catch(() => new Map())
      return names.every((name) => consumers.has(name))
    }, 30_000, 'the ten consumers to join')
    await publishAll(redis.server.url, topic, ndjson)
    await settle({redis: redis.redis, topic, group, mids: mids.slice(0, count), ledger, timeoutMs: 60_000})
    for (const worker of [...doomed.workers]) {
      expect((await doomed.kill(worker)).signal).toBe('SIGKILL')
      await sleep(100)
    }
    const consumers = await consumersOf(redis.redis, topic, group)
    for (const name of names) expect(consumers.get(name)?.pending, name).toBe(0)
    return names
  }

  it('17a. consumers of SIGKILLed workers that hold nothing are pruned by a live worker (--prune-consumers-after 2s); one that holds entries is not, until they are taken over', async () => {
    const scenario = setup('prune', 200)
    const {started, topic, group, ledger, mids} = scenario
    const names = await killTenIdle(scenario, 200)

    // A worker killed while it holds entries (two messages, its handler stuck on the first).
    const holderMids = ['holder-0', 'holder-1']
    const stuck = scenario.fleet(['--concurrency', '1'], {CHAOS_SLEEP_MS: '60000'})
    const holder = stuck.start([], 'holder')
    await stuck.ready()
    await publishAll(redis.server.url, topic, `${holderMids.map((mid) => JSON.stringify({mid})).join('\n')}\n`)
    await holding(topic, group, 'holder', 2)
    await stuck.kill(holder)

    // A live worker that takes over nothing yet (visibility timeout 60 s) prunes the idle, empty ones.
    const live = scenario.fleet(['--prune-consumers-after', '2s', '--visibility-timeout', '60s'])
    const first = live.start([], 'live-1')
    await waitFor(async () => {
      const consumers = await consumersOf(redis.redis, topic, group)
      return names.every((name) => !consumers.has(name))
    }, 30_000, 'the ten dead consumers pruned')
    const afterPrune = await consumersOf(redis.redis, topic, group)
    expect(afterPrune.get('holder')?.pending).toBe(2)
    for (const name of names) expect(first.cli.output().stdout).toContain(`removed consumer \\"${name}\\"`)
    expect(first.cli.output().stdout).not.toContain('removed consumer \\"holder\\"')

    // Another live worker (visibility timeout 2 s) takes the holder's entries over; then it holds nothing and goes too.
    const [firstResult] = await live.stopAll()
    expect(firstResult?.code, `${firstResult?.stdout}${firstResult?.stderr}`).toBe(0)
    const taker = scenario.fleet(['--prune-consumers-after', '2s', '--visibility-timeout', '2s']).start([], 'live-2')
    await waitFor(async () => !(await consumersOf(redis.redis, topic, group)).has('holder'), 30_000, 'the holder pruned once its entries were taken over')
    const all = [...mids, ...holderMids]
    const report = await settle({redis: redis.redis, topic, group, mids: all, ledger, timeoutMs: 30_000})
    taker.cli.child.kill('SIGTERM')
    const takerResult = await taker.cli.done
    expect(takerResult.code, `${takerResult.stdout}${takerResult.stderr}`).toBe(0)
    expect(report).toMatchObject({lost: [], unexpected: [], duplicated: 0, pending: 0, handled: all.length})
    expectCountersMatchLedger([{pid: first.cli.child.pid, result: firstResult!}, {pid: taker.cli.child.pid, result: takerResult}], ledger, {lost: 0, duplicates: 0, unacknowledged: 0})
    // The live workers removed their own consumers on exit: nothing is left.
    expect([...(await consumersOf(redis.redis, topic, group)).keys()]).toEqual([])
    recordRow({scenario: '17a consumers of 11 SIGKILLed workers pruned (the one holding entries only once they were taken over)', messages: all.length, faults: '11 worker SIGKILLs', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('17b. --no-prune-consumers: the consumers of SIGKILLed workers stay', async () => {
    const scenario = setup('no-prune', 100)
    const {started, topic, group} = scenario
    const names = await killTenIdle(scenario, 100)
    // Reclaim passes every 500 ms (a quarter of the visibility timeout) would prune them once idle 2 s.
    const live = scenario.fleet(['--no-prune-consumers', '--prune-consumers-after', '2s', '--visibility-timeout', '2s']).start([], 'live')
    await waitFor(async () => {
      const consumers = await consumersOf(redis.redis, topic, group)
      return consumers.has('live') && names.every((name) => (consumers.get(name)?.idleMs ?? 0) >= 5_000)
    }, 30_000, 'the dead consumers idle 5 s under a live worker')
    const consumers = await consumersOf(redis.redis, topic, group)
    expect(names.filter((name) => !consumers.has(name))).toEqual([])
    live.cli.child.kill('SIGTERM')
    const result = await live.cli.done
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    expect(result.stdout).not.toContain('removed consumer')
    recordRow({scenario: '17b --no-prune-consumers: 10 dead consumers kept', messages: 100, faults: '10 worker SIGKILLs', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })
})
