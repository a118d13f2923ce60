import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterEach, describe, expect, it} from 'vitest'

import {deadLetterKey} from '../../src/core/keys.js'
import {PROJECT_ROOT, runCli, waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {WorkerFleet} from './lib/fleet.js'
import {chaosMessages, checkLedger, readLedger} from './lib/ledger.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'
import {publishAll, scratchDir, settle, uniqueTopic, workSummary} from './lib/scenario.js'

// Chaos scenario 13 of issue 7: handler modules that cannot load, never answer, or block their
// process. Load failures stop the worker before it touches the group; a hung handler is timed out,
// retried and dead-lettered; a blocked worker's entries are taken over: duplicates, never a loss.

const CHAOS_HANDLERS = join(PROJECT_ROOT, 'test', 'chaos', 'handlers')
const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'handlers')

/** What a worker could have changed in a group: pending entries (owner, deliveries), position, consumers. */
async function groupState(redis: Redis, topic: string, group: string): Promise<unknown> {
  const pending = (await redis.xpending(topic, group, '-', '+', 1000)) as Array<[string, string, number, number]>
  const groups = (await redis.call('XINFO', 'GROUPS', topic)) as unknown[]
  const consumers = (await redis.call('XINFO', 'CONSUMERS', topic, group)) as unknown[][]
  return {
    pending: pending.map(([id, consumer, , deliveries]) => [id, consumer, deliveries]),
    groups,
    // name and pending count, not the idle times, which grow by themselves
    consumers: consumers.map((fields) => fields.slice(0, 4)),
  }
}

/** The dead-letter entries' metadata fields, as objects. */
async function deadLetters(redis: Redis, topic: string): Promise<Array<Record<string, string>>> {
  return (await redis.xrange(deadLetterKey(topic), '-', '+')).map(([, pairs]) => {
    const fields: Record<string, string> = {}
    for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i] as string] = pairs[i + 1] as string
    return fields
  })
}

describe('chaos: handler module problems', {timeout: CHAOS_TIMEOUT}, () => {
  const redis = usePrivateRedis()
  const fleets: WorkerFleet[] = []

  afterEach(async () => {
    await Promise.all(fleets.splice(0).map(async (fleet) => fleet.killAll()))
  })

  it('13a. a missing module (exit 6), an import-time throw and a module without a handler function (exit 7): one line each, no stack, the group untouched', async () => {
    const started = Date.now()
    const topic = uniqueTopic('load')
    const group = 'load'
    const {ndjson} = chaosMessages(20)
    await publishAll(redis.server.url, topic, ndjson)
    // Another consumer holds 5 entries; 15 wait: a worker that read anything would change this.
    await redis.redis.xgroup('CREATE', topic, group, '0')
    await redis.redis.xreadgroup('GROUP', group, 'other', 'COUNT', 5, 'STREAMS', topic, '>')
    const before = await groupState(redis.redis, topic, group)

    const missing = join(CHAOS_HANDLERS, 'does-not-exist.mjs')
    const cases: Array<[string, number, string]> = [
      [missing, 6, `Error: handler module not found: ${missing} (resolved to ${missing})\n`],
      [join(FIXTURES, 'throws-at-import.ts'), 7, `Error: cannot load handler ${join(FIXTURES, 'throws-at-import.ts')}: ORDERS_API_URL is not set\n`],
      [join(FIXTURES, 'no-function.mjs'), 7, `Error: handler ${join(FIXTURES, 'no-function.mjs')} exports no function as default or handle (it exports: group, helper, topic)\n`],
    ]
    const results = await Promise.all(cases.map(async ([handler]) => runCli(['work', handler, '--topic', topic, '--group', group, '-u', redis.server.url])))
    for (const [index, [handler, code, stderr]] of cases.entries()) {
      const result = results[index]
      expect(result?.code, handler).toBe(code)
      expect(result?.stderr, handler).toBe(stderr)
      expect(result?.stdout, handler).toBe('')
    }
    expect(await groupState(redis.redis, topic, group)).toEqual(before)
    recordRow({scenario: '13a handler modules that cannot load: missing, import throws, no function', messages: 20, faults: '3 bad modules', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('13b. a handler that never resolves: timed out by --handler-timeout, retried, dead-lettered after --max-attempts as HandlerTimeout', async () => {
    const started = Date.now()
    const topic = uniqueTopic('hang')
    const group = 'hang'
    const ledger = join(scratchDir('hang'), 'calls.jsonl')
    const {ndjson, mids} = chaosMessages(scaled(8, 100))
    await publishAll(redis.server.url, topic, ndjson)
    const result = await runCli(
      ['work', join(CHAOS_HANDLERS, 'never-resolves.mjs'), '-t', topic, '-g', group, '--concurrency', '4', '--handler-timeout', '300ms', '--max-attempts', '3', '--backoff', 'fixed', '--backoff-delay', '100ms', '--until-empty', '--json', '-u', redis.server.url],
      {env: {CHAOS_LEDGER: ledger}, timeoutMs: 120_000},
    )
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    expect(workSummary(result)).toMatchObject({processed: 0, retried: 2 * mids.length, deadLettered: mids.length, lost: 0, unfinished: 0})

    // Each message was called on attempts 1, 2 and 3, then dead-lettered with the timeout as its error.
    const calls = readLedger(ledger)
    for (const mid of mids) expect(calls.filter((call) => call.mid === mid).map((call) => call.attempt).sort(), mid).toEqual([1, 2, 3])
    const dead = await deadLetters(redis.redis, topic)
    expect(dead).toHaveLength(mids.length)
    for (const entry of dead) {
      expect(entry).toMatchObject({'dlq.error-name': 'HandlerTimeout', 'dlq.error-message': 'handler timed out after 300ms', 'dlq.attempts': '3', 'dlq.group': group})
    }
    expect(Number(((await redis.redis.xpending(topic, group)) as [number])[0])).toBe(0)
    recordRow({scenario: '13b handler never resolves (--handler-timeout 300ms, 3 attempts)', messages: mids.length, faults: `${calls.length} hung calls`, lost: 0, duplicated: 0, deadLettered: dead.length, timeMs: Date.now() - started})
  })

  it('13c. a handler blocking the event loop past the visibility timeout: another worker takes its entries over; a duplicate is reported, nothing lost', async () => {
    const started = Date.now()
    const topic = uniqueTopic('block')
    const group = 'block'
    const dir = scratchDir('block')
    const ledger = join(dir, 'ledger.jsonl')
    const release = join(dir, 'release')
    const {ndjson, mids} = chaosMessages(scaled(200, 5_000))
    const blocking = `${JSON.stringify({mid: 'block-0', block: true})}\n`
    const fleet = new WorkerFleet({redisUrl: redis.server.url, topic, group, ledger, handler: join(CHAOS_HANDLERS, 'blocks-event-loop.mjs'), args: ['--visibility-timeout', '1s'], env: {CHAOS_RELEASE: release}})
    fleets.push(fleet)

    // The blocker takes the blocking message first, and reads ahead what follows it.
    fleet.start([], 'blocker')
    await fleet.ready()
    await publishAll(redis.server.url, topic, `${blocking}${ndjson}`)
    await waitFor(async () => ((await redis.redis.xpending(topic, group, '-', '+', 1, 'blocker')) as unknown[]).length > 0, 10_000, 'the blocker to hold the blocking message')

    // Its event loop is stuck (no heartbeat): after 1 s of silence the rescuer takes over and handles everything.
    fleet.start([], 'rescuer')
    await waitFor(() => readLedger(ledger).some((line) => line.mid === 'block-0'), 30_000, 'the rescuer to handle the blocking message')
    writeFileSync(release, '')
    const all = ['block-0', ...mids]
    await settle({redis: redis.redis, topic, group, mids: all, ledger, timeoutMs: scaled(60_000, 300_000)})
    // The blocker finishes its call, and its acknowledgement finds the entry acknowledged already.
    await waitFor(() => readLedger(ledger).filter((line) => line.mid === 'block-0').length === 2, 30_000, 'the blocker to finish its call')

    const [blocked, rescued] = await fleet.stopAll()
    expect(blocked?.code, `${blocked?.stdout}${blocked?.stderr}`).toBe(0)
    expect(rescued?.code, `${rescued?.stdout}${rescued?.stderr}`).toBe(0)
    expect(Number(workSummary(blocked as NonNullable<typeof blocked>)?.['duplicates'])).toBeGreaterThanOrEqual(1)
    const report = await checkLedger({redis: redis.redis, topic, group, mids: all, ledger})
    expect(report).toMatchObject({lost: [], unexpected: [], deadLettered: 0, pending: 0})
    expect(report.duplicated).toBeGreaterThanOrEqual(1)
    recordRow({scenario: '13c handler blocks its event loop past the visibility timeout', messages: mids.length + 1, faults: '1 event loop blocked', lost: report.lost.length, duplicated: report.duplicated, deadLettered: 0, timeMs: Date.now() - started})
  })
})
