import type {Redis} from 'ioredis'
import {afterEach, describe, expect, it} from 'vitest'

import {takeoverKey} from '../../src/core/keys.js'
import {WORKER_CONNECTION_OPTIONS} from '../../src/core/worker/connections.js'
import {openRedis, resolveConnection, Worker, type WorkerSummary} from '../../src/index.js'
import {waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js'

/**
 * `duplicates` in the summaries of two workers after a takeover raced by the late acknowledgement
 * of the worker the entries were taken from (chaos scenario 18, Redis frozen under two workers,
 * made deterministic): worker A handled entries, and its acknowledgement is held in a TCP proxy (as
 * a frozen Redis, or a cut connection, holds it); worker B takes the entries over; A's XACK then
 * lands before B starts them, while B's handlers run, or after B finished them. Each time the
 * workers' `duplicates` add up to the handlers' second calls, each counted once, by one worker.
 */

const VISIBILITY_MS = 1000
const COUNT = 10
const GROUP = 'g'

const ctx = usePrivateRedis()
let counter = 0
const cleanups: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A promise and the function that resolves it. */
function gate(): {opened: Promise<void>; open: () => void} {
  let open = (): void => undefined
  const opened = new Promise<void>((resolve) => (open = resolve))
  return {opened, open}
}

interface RunningWorker {
  worker: Worker
  warnings: string[]
  /** The summary, once `worker.close()` was called. */
  summary: Promise<WorkerSummary>
}

/** A worker named `consumer` reaching Redis through `proxy`, its handler `handle`. */
async function startWorker(topic: string, consumer: string, proxy: TcpProxy, handle: (id: string) => Promise<void>): Promise<RunningWorker> {
  const connection = await resolveConnection({url: proxy.url, connectTimeoutMs: 2000})
  const clients: Redis[] = []
  const worker = new Worker(
    {topic, group: GROUP, consumer, concurrency: COUNT, visibilityTimeoutMs: VISIBILITY_MS, pruneConsumersAfterMs: false, handler: async (message) => handle(message.id)},
    async (role) => {
      const client = await openRedis(connection, {name: `qctl:${consumer}:${role}`, ...WORKER_CONNECTION_OPTIONS[role]})
      clients.push(client)
      return client
    },
  )
  const warnings: string[] = []
  worker.on('warning', ({message}) => warnings.push(message))
  const started = new Promise<void>((resolve) => worker.once('started', () => resolve()))
  const summary = worker.run()
  summary.catch(() => undefined)
  cleanups.push(async () => {
    worker.close()
    await summary.catch(() => undefined)
    for (const client of clients) client.disconnect()
  })
  await Promise.race([started, summary.then(() => Promise.reject(new Error(`${consumer} stopped before it started`)))])
  return {worker, warnings, summary}
}

/**
 * The race, up to the moment A's held acknowledgement is let through: A handled COUNT entries
 * (its handlers were called, then released once its connection was held), B holds them now.
 * `calls` counts handler calls per entry, over both workers.
 */
async function takenOverWhileAcknowledging(options: {takerRoundTripMs?: number; takerHandler?: (id: string) => Promise<void>} = {}): Promise<{
  topic: string
  a: RunningWorker
  b: RunningWorker
  toA: TcpProxy
  toB: TcpProxy
  calls: Map<string, number>
}> {
  const topic = `duplicates.${++counter}`
  const admin = ctx.redis
  const ids: string[] = []
  for (let n = 0; n < COUNT; n++) ids.push((await admin.xadd(topic, '*', 'data', `{"n":${n}}`)) as string)
  await admin.xgroup('CREATE', topic, GROUP, '0')
  const toA = await startTcpProxy({port: ctx.server.port})
  const toB = await startTcpProxy({port: ctx.server.port})
  cleanups.push(async () => {
    await toA.close()
    await toB.close()
  })
  const calls = new Map<string, number>()
  const count = (id: string): void => void calls.set(id, (calls.get(id) ?? 0) + 1)
  const releaseA = gate()
  const a = await startWorker(topic, 'A', toA, async (id) => {
    count(id)
    await releaseA.opened
  })
  await waitFor(() => calls.size === COUNT, 20_000, 'A handling every entry')
  // B reads nothing new (A read it all) and takes nothing yet: A renews what it holds.
  const b = await startWorker(topic, 'B', toB, async (id) => {
    count(id)
    await options.takerHandler?.(id)
  })
  // B's replies come a round trip above the visibility timeout late: what it takes over waits for a
  // heartbeat before it starts (as after a freeze of Redis, where the reclaim's reply came late).
  if (options.takerRoundTripMs !== undefined) toB.latency(options.takerRoundTripMs / 2)
  // A's connection is held: its acknowledgements (sent as its handlers finish) and its heartbeats wait.
  toA.pause()
  releaseA.open()
  // Each entry B takes over is marked "taken from A" (reclaim-4.lua), until A's acknowledgement gets through.
  await waitFor(async () => (await admin.hmget(takeoverKey(topic, GROUP), ...ids)).every((from) => from === 'A'), 20_000, 'B taking over what A held')
  return {topic, a, b, toA, toB, calls}
}

const pendingIn = async (redis: Redis, topic: string): Promise<number> => Number(((await redis.xpending(topic, GROUP)) as [number])[0])

/** Close both workers; their summaries, and the handlers' second calls over all entries. */
async function finish(run: {a: RunningWorker; b: RunningWorker; calls: Map<string, number>}): Promise<{a: WorkerSummary; b: WorkerSummary; secondCalls: number}> {
  run.a.worker.close()
  run.b.worker.close()
  const [a, b] = await Promise.all([run.a.summary, run.b.summary])
  const secondCalls = [...run.calls.values()].reduce((sum, calls) => sum + calls - 1, 0)
  return {a, b, secondCalls}
}

describe('qctl work: second handlings after a takeover, counted once (summary `duplicates`)', () => {
  it('A\'s held acknowledgement lands before B starts what it took over: B drops them, nobody counts a duplicate', async () => {
    const run = await takenOverWhileAcknowledging({takerRoundTripMs: VISIBILITY_MS + 100})
    run.toA.resume()
    await waitFor(async () => (await pendingIn(ctx.redis, run.topic)) === 0, 20_000, 'A\'s acknowledgement')
    // B's late reply brings the entries (they wait for a heartbeat to start); the heartbeat then says what became of them.
    await waitFor(() => run.b.worker.inFlightCount === COUNT, 20_000, 'B holding what it took over')
    await waitFor(() => run.b.worker.inFlightCount === 0, 20_000, 'B\'s heartbeat')
    run.toB.latency(0)
    const {a, b, secondCalls} = await finish(run)
    expect(secondCalls).toBe(0)
    expect({a: a.duplicates, b: b.duplicates}).toEqual({a: 0, b: 0})
    expect({a: a.processed, b: b.processed}).toEqual({a: COUNT, b: 0})
    expect(run.b.warnings.join('\n')).toMatch(new RegExp(`^${COUNT} entries this worker took over were finished meanwhile .*: ${COUNT} not yet started are dropped`, 'm'))
  })

  it('A\'s acknowledgement lands while B\'s handlers run: counted once each, by B (its acknowledgement finds them done)', async () => {
    const releaseB = gate()
    const run = await takenOverWhileAcknowledging({takerHandler: async () => releaseB.opened})
    await waitFor(() => [...run.calls.values()].every((calls) => calls === 2), 20_000, 'B running every entry')
    run.toA.resume()
    await waitFor(async () => (await pendingIn(ctx.redis, run.topic)) === 0, 20_000, 'A\'s acknowledgement')
    releaseB.open()
    const {a, b, secondCalls} = await finish(run)
    expect(secondCalls).toBe(COUNT)
    expect({a: a.duplicates, b: b.duplicates}).toEqual({a: 0, b: COUNT})
  })

  it('B finishes first, A\'s acknowledgement lands after: counted once each, by A', async () => {
    const run = await takenOverWhileAcknowledging()
    await waitFor(async () => (await pendingIn(ctx.redis, run.topic)) === 0, 20_000, 'B finishing what it took over')
    run.toA.resume()
    const {a, b, secondCalls} = await finish(run)
    expect(secondCalls).toBe(COUNT)
    expect({a: a.duplicates, b: b.duplicates}).toEqual({a: COUNT, b: 0})
  })
})
