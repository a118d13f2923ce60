import {writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {join} from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {runCli, waitFor, type CliResult} from '../helpers/cli.js'
import {freePort, RedisServer} from '../helpers/redis-server.js'
import {LEDGER_HANDLER, WorkerFleet} from './lib/fleet.js'
import {chaosMessages} from './lib/ledger.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'
import {jsonError, jsonErrorOf, publishAll, scratchDir, settle, uniqueTopic, workSummary} from './lib/scenario.js'

// Chaos scenario 7 of issue 7: Redis unreachable when a command starts. Every command fails fast
// (exit 3, one line naming host:port and cause, no stack, no password); `qctl work --wait-for-redis`
// instead waits for Redis and then works normally.

/** A password that must never appear in any output. */
const CANARY = 'canary-Pa55-7f3e9b'
const CONNECT_TIMEOUT = ['--connect-timeout', '2s']
/** A functional bound (the command gives up instead of hanging), not a speed target. */
const ENDED_WITHIN_MS = 10_000

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The five commands of the scenario, as argument lists (URL and flags appended by the caller). */
function commands(dir: string): Array<[string, string[]]> {
  const input = join(dir, 'one.json')
  writeFileSync(input, '{"orderId":1}')
  return [
    ['publish', ['publish', 'chaos.unreachable', input]],
    ['work', ['work', LEDGER_HANDLER, '--topic', 'chaos.unreachable']],
    ['lag', ['lag']],
    ['dlq list', ['dlq', 'list', 'chaos.unreachable']],
    ['top --once', ['top', '--once']],
  ]
}

/** A TCP server that accepts connections and never says a word: only the connect timeout ends a client's wait. */
async function silentServer(): Promise<{port: number; close: () => Promise<void>}> {
  const sockets: Socket[] = []
  const server: Server = createServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    port: address.port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

function expectCleanFailure(name: string, result: CliResult, line: RegExp): void {
  const all = `${result.stdout}${result.stderr}`
  expect(result.code, `${name}: ${all}`).toBe(3)
  expect(result.durationMs, name).toBeLessThan(ENDED_WITHIN_MS)
  expect(result.stderr, name).toMatch(line)
  expect(result.stderr.split('\n').filter((text) => text !== ''), name).toHaveLength(1)
  expect(all, name).not.toMatch(/^\s+at /m)
  expect(all, name).not.toContain(CANARY)
}

describe('chaos: Redis unreachable at start', {timeout: CHAOS_TIMEOUT}, () => {
  const cleanups: Array<() => Promise<void>> = []

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('7a. publish, work, lag, dlq list and top --once exit 3 within the connect timeout: one line naming host:port and cause, no stack, no password', async () => {
    const started = Date.now()
    const dir = scratchDir('unreachable')
    const refused = await freePort()
    const silent = await silentServer()
    cleanups.push(silent.close)
    const url = (port: number): string => `redis://qctl:${CANARY}@127.0.0.1:${port}`

    // Nothing listens: refused at once. All five at once (each is its own process).
    const refusals = await Promise.all(commands(dir).map(async ([name, args]) => [name, await runCli([...args, '-u', url(refused), ...CONNECT_TIMEOUT])] as const))
    for (const [name, result] of refusals) {
      expectCleanFailure(name, result, new RegExp(`^Error: cannot connect to 127\\.0\\.0\\.1:${refused}: connection refused\\n$`))
    }

    // Something listens but never answers: only --connect-timeout ends it, and it does; --json errors are clean too.
    const timeouts = await Promise.all(commands(dir).map(async ([name, args]) => [name, await runCli([...args, '-u', url(silent.port), ...CONNECT_TIMEOUT, '--json'])] as const))
    for (const [name, result] of timeouts) {
      expect(result.code, `${name}: ${result.stdout}${result.stderr}`).toBe(3)
      // Ended by the connect timeout (never sooner: the server did accept), and not left hanging.
      expect(result.durationMs, name).toBeGreaterThanOrEqual(2000)
      expect(result.durationMs, name).toBeLessThan(ENDED_WITHIN_MS)
      expect(jsonErrorOf(result), name).toEqual({code: 'REDIS_UNAVAILABLE', exitCode: 3, message: `cannot connect to 127.0.0.1:${silent.port}: timed out after 2s`})
      expect(`${result.stdout}${result.stderr}`, name).not.toContain(CANARY)
      expect(result.stderr, name).toBe('')
    }
    recordRow({scenario: '7a Redis unreachable at start: 5 commands exit 3', messages: 0, faults: '5 refused, 5 silent servers', lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })

  it('7b. work --wait-for-redis: waits (one warning per attempt) until Redis starts, then handles everything and exits 0 on SIGTERM', async () => {
    const started = Date.now()
    const port = await freePort()
    const url = `redis://:${CANARY}@127.0.0.1:${port}`
    const topic = uniqueTopic('wait')
    const group = 'wait'
    const ledger = join(scratchDir('wait'), 'ledger.jsonl')
    const {ndjson, mids} = chaosMessages(scaled(2_000, 50_000))
    const fleet = new WorkerFleet({redisUrl: url, topic, group, ledger, args: ['--wait-for-redis', '--concurrency', '8', ...CONNECT_TIMEOUT]})
    cleanups.push(async () => fleet.killAll())
    const worker = fleet.start()

    // Nothing listens yet: the worker keeps trying, saying so each time, and does not exit. (At least
    // 2 s, and 3 attempts: on a busy machine the process alone may take longer than 2 s to start.)
    const warnings = (): string[] => worker.cli.output().stdout.split('\n').filter((line) => line.includes('"event":"warning"'))
    await Promise.all([sleep(2000), waitFor(() => warnings().length >= 3, 30_000, 'three attempts')])
    expect(fleet.alive).toHaveLength(1)
    const waiting = warnings()
    expect(waiting[0]).toContain(`cannot connect to 127.0.0.1:${port}: connection refused; waiting for Redis (--wait-for-redis): attempt 1, next in 100ms`)

    const server = await RedisServer.start({port, args: ['--requirepass', CANARY]})
    cleanups.push(async () => server.stop())
    const redis = await server.client({password: CANARY})
    cleanups.push(async () => void redis.disconnect())
    // The longest wait between attempts is 5 s.
    await fleet.ready(15_000)
    await publishAll(url, topic, ndjson)
    const report = await settle({redis, topic, group, mids, ledger, timeoutMs: scaled(60_000, 300_000)})

    const [result] = await fleet.stopAll()
    expect(result?.code, `${result?.stdout}${result?.stderr}`).toBe(0)
    expect(`${result?.stdout}${result?.stderr}`).not.toContain(CANARY)
    expect(workSummary(result as CliResult)).toMatchObject({processed: mids.length, stopReason: 'signal'})
    expect(report).toMatchObject({lost: [], unexpected: [], duplicated: 0, deadLettered: 0, pending: 0, handled: mids.length})
    recordRow({scenario: `7b work --wait-for-redis, Redis started after 2 s (${waiting.length}+ attempts)`, messages: mids.length, faults: 'Redis absent at start', lost: report.lost.length, duplicated: report.duplicated, deadLettered: report.deadLettered, timeMs: Date.now() - started})
  })

  it('7c. work --wait-for-redis does not wait out a wrong password (exit 4), and SIGINT while waiting exits 130', async () => {
    const server = await RedisServer.start({args: ['--requirepass', 'the-right-one']})
    cleanups.push(async () => server.stop())
    const denied = await runCli(['work', LEDGER_HANDLER, '--topic', 'chaos.denied', '--wait-for-redis', '-u', `redis://:${CANARY}@127.0.0.1:${server.port}`, ...CONNECT_TIMEOUT])
    expect(denied.code, denied.stderr).toBe(4)
    expect(denied.durationMs).toBeLessThan(ENDED_WITHIN_MS)
    expect(denied.stderr.split('\n')[0]).toBe(`Error: authentication failed for user 'default' on 127.0.0.1:${server.port}: wrong password, unknown user or user disabled`)
    expect(`${denied.stdout}${denied.stderr}`).not.toContain(CANARY)
    expect(denied.stderr).not.toContain('waiting for Redis')

    const port = await freePort()
    const fleet = new WorkerFleet({redisUrl: `redis://127.0.0.1:${port}`, topic: 'chaos.interrupted', group: 'g', ledger: join(scratchDir('interrupted'), 'ledger.jsonl'), args: ['--wait-for-redis']})
    cleanups.push(async () => fleet.killAll())
    const worker = fleet.start()
    await waitFor(() => worker.cli.output().stdout.includes('waiting for Redis'), 10_000, 'the first warning')
    worker.cli.child.kill('SIGINT')
    const result = await worker.cli.done
    expect(result.code).toBe(130)
    expect(jsonError(result)).toEqual({code: 'INTERRUPTED', exitCode: 130, message: 'interrupted while waiting for Redis'})
  })
})
