import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Redis} from 'ioredis'

import {deadLetterKey, heldKeysKey, leaseKey, retryKey} from '../../src/core/keys.js'
import type {TopicDescription} from '../../src/core/topics/describe.js'
import type {RedisClient} from '../../src/core/redis/client.js'
import {openClient} from '../../src/core/redis/connection.js'
import {PermanentError, resolveConnection, Worker, type WorkerSummary} from '../../src/index.js'
import {PROJECT_ROOT, jsonOf, runCli, startCli, waitFor, type RunningCli} from '../helpers/cli.js'
import {jsonEvents} from '../helpers/json-lines.js'
import {orderReport} from '../helpers/order-report.js'
import {handledLines, recordingHandler} from '../helpers/partitioned.js'
import {RedisServer} from '../helpers/redis-server.js'
import {useTestRedis} from '../helpers/test-redis.js'

/** `qctl work --ordered`: per-key order within a worker, and across workers through partition leases. */

const ctx = useTestRedis()
let ledgerServer: RedisServer
let ledger: Redis
let counter = 0
const HANDLER = `${PROJECT_ROOT}/test/fixtures/work/ordered-ledger.mjs`

beforeAll(async () => {
  ledgerServer = await RedisServer.start()
  ledger = await ledgerServer.client()
})
afterAll(async () => {
  ledger?.disconnect()
  await ledgerServer?.stop()
})


const env = (extra: Record<string, string> = {}): Record<string, string> => ({LEDGER_URL: ledgerServer.url, ...extra})
const qctl = async (...args: string[]) => runCli([...args, '-u', ctx.server.url], {env: env()})
const work = (topic: string, ...args: string[]): string[] => ['work', HANDLER, '-t', topic, '-g', 'g', '--ordered', '--backoff-delay', '5ms', '--json', '-u', ctx.server.url, ...args]

/** Publish messages [{key, n, fail?}] in order (one publish: one stream order). */
async function publish(topic: string, messages: Array<{key: string; n: number; fail?: number | 'permanent'}>): Promise<void> {
  const input = messages.map((message) => JSON.stringify({k: message.key, n: message.n, ...(message.fail === undefined ? {} : {fail: message.fail})})).join('\n')
  const result = await runCli(['publish', topic, '--ndjson', '--key-field', 'k', '-u', ctx.server.url], {input: `${input}\n`})
  expect(result.code).toBe(0)
}

const ledgerOf = async (key: string): Promise<number[]> => (await ledger.lrange(`ledger:${key}`, 0, -1)).map(Number)

describe('qctl work --ordered on a plain topic (one worker)', () => {
  it('handles each key one at a time in stream order, retries in place included', async () => {
    await ledger.flushall()
    const topic = `ordered-plain-${++counter}`
    const messages = Array.from({length: 200}, (_, n) => ({key: `k${n % 4}`, n, fail: (n * 7) % 3}))
    await publish(topic, messages)
    const result = await runCli(work(topic, '-c', '8', '--max-attempts', '5', '--until-empty'), {env: env()})
    expect(result.code).toBe(0)
    expect(jsonEvents(result.stdout).at(-1)).toMatchObject({processed: 200, retried: messages.reduce((sum, message) => sum + message.fail, 0), deadLettered: 0})
    const sequences = new Map<string, number[]>()
    for (const key of ['k0', 'k1', 'k2', 'k3']) {
      const handled = await ledgerOf(key)
      sequences.set(key, handled)
      expect(handled).toEqual(messages.filter((message) => message.key === key).map((message) => message.n))
    }
    expect(orderReport(sequences.values())).toEqual({outOfOrder: 0, duplicates: 0})
  })

  it('says that --lease-timeout does nothing on a plain topic (nothing to lease), and works on', async () => {
    const topic = `ordered-plain-lease-${++counter}`
    await publish(topic, [{key: 'a', n: 1}])
    const result = await runCli(work(topic, '--lease-timeout', '2s', '--until-empty'), {env: env()})
    expect(result.code).toBe(0)
    const warnings = jsonEvents(result.stdout).filter((event) => event.event === 'warning').map((event) => event['message'])
    expect(warnings).toEqual([`--lease-timeout has no effect on the plain topic "${topic}": only a partitioned topic's partitions are leased (its order across workers needs one: qctl topic create NAME --partitions N)`])
    expect(jsonEvents(result.stdout).at(-1)).toMatchObject({processed: 1})
  })

  it('--on-dead-letter continue: the key goes on after a dead letter (its order is broken there)', async () => {
    await ledger.flushall()
    const topic = `ordered-continue-${++counter}`
    await publish(topic, [1, 2, 3, 4].map((n) => ({key: 'a', n, ...(n === 2 ? {fail: 'permanent' as const} : {})})))
    const result = await runCli(work(topic, '--until-empty'), {env: env()})
    expect(result.code).toBe(0)
    expect(await ledgerOf('a')).toEqual([1, 3, 4])
    expect(await ctx.redis.xlen(`{${topic}}:dlq`)).toBe(1)
  })

  it('--on-dead-letter hold-key: the key\'s later messages follow it into the dead-letter stream, in order, until a replayed one succeeds', async () => {
    await ledger.flushall()
    const topic = `ordered-hold-${++counter}`
    await publish(topic, [1, 2, 3, 4].flatMap((n) => [{key: 'a', n, ...(n === 2 ? {fail: 'permanent' as const} : {})}, {key: 'b', n}]))
    const result = await runCli(work(topic, '--on-dead-letter', 'hold-key', '-c', '4', '--until-empty'), {env: env()})
    expect(result.code).toBe(0)
    expect(jsonEvents(result.stdout).at(-1)).toMatchObject({processed: 5, deadLettered: 3})
    expect(await ledgerOf('a')).toEqual([1])
    expect(await ledgerOf('b')).toEqual([1, 2, 3, 4])
    const dead = await ctx.redis.xrange(`{${topic}}:dlq`, '-', '+')
    const fields = dead.map(([, pairs]) => Object.fromEntries(Array.from({length: pairs.length / 2}, (_, i) => [pairs[2 * i], pairs[2 * i + 1]])))
    expect(fields.map((entry) => JSON.parse(entry.data as string).n)).toEqual([2, 3, 4])
    expect(fields.map((entry) => entry['dlq.error-name'])).toEqual(['PermanentError', 'KeyHeld', 'KeyHeld'])
    expect(await ctx.redis.hget(`{${topic}}:held:g`, 'a')).toBe(dead[0]![0])

    // Still held on a restart; a replayed message of the key that succeeds releases it.
    await publish(topic, [{key: 'a', n: 5}])
    await ctx.redis.xadd(`{${topic}}:replay:g`, '*', 'data', JSON.stringify({k: 'a', n: 2}), 'key', 'a')
    const second = await runCli(work(topic, '--on-dead-letter', 'hold-key', '--until-empty'), {env: env()})
    expect(second.code).toBe(0)
    expect(await ctx.redis.hexists(`{${topic}}:held:g`, 'a')).toBe(0)
    await publish(topic, [{key: 'a', n: 6}])
    expect((await runCli(work(topic, '--on-dead-letter', 'hold-key', '--until-empty'), {env: env()})).code).toBe(0)
    expect((await ledgerOf('a')).slice(-1)).toEqual([6])
  })
})

describe('qctl work --ordered: a hot key does not hold up the other keys', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qctl-ordered-hot-'))
  })
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  it("keys published after a hot key's backlog run before it drains; the hot key stays in order; top's report names it", async () => {
    const topic = `ordered-hot-${++counter}`
    const log = join(dir, 'handled.log')
    await writeFile(log, '')
    const handler = await recordingHandler(dir, log, "if (message.key === 'hot') await new Promise((resolve) => setTimeout(resolve, 40))")
    // 200 messages of one key, then 40 of 40 other keys: with --prefetch 8 and -c 4 a key may hold 2 waiting in memory.
    await publish(topic, [...Array.from({length: 200}, (_, n) => ({key: 'hot', n})), ...Array.from({length: 40}, (_, i) => ({key: `cold-${i}`, n: 200 + i}))])
    const worker = startCli(['work', handler, '-t', topic, '-g', 'g', '--ordered', '-c', '4', '--prefetch', '8', '--consumer', 'w1', '--json', '-u', ctx.server.url])
    try {
      const report = async (): Promise<{keys: Array<{key: string; waiting: number}>} | undefined> => {
        const value = await ctx.redis.hget(`{${topic}}:waiting:g`, 'w1')
        return value === null ? undefined : (JSON.parse(value) as {keys: Array<{key: string; waiting: number}>})
      }
      await waitFor(async () => ((await report())?.keys[0]?.waiting ?? 0) > 50, 20_000, "the worker's report to name the hot key")
      expect((await report())?.keys[0]?.key).toBe('hot')
      // What top shows of it.
      const top = await runCli(['top', '--match', topic, '--json', '--interval', '100ms', '-u', ctx.server.url])
      expect(top.code, top.stderr).toBe(0)
      const rows = jsonOf<{rows: Array<{group: string | null; busiestKeys: Array<{key: string; partition: number | null; waiting: number}> | null}>}>(top).rows
      expect(rows.find((row) => row.group === 'g')?.busiestKeys?.[0]).toMatchObject({key: 'hot', partition: null})
      await waitFor(async () => (await handledLines(log)).length === 240, 60_000, 'every message')
    } finally {
      worker.child.kill('SIGTERM')
    }
    expect((await worker.done).code).toBe(0)
    const handled = await handledLines(log)
    const hot = handled.filter(([, key]) => key === 'hot').map(([, , n]) => Number(n))
    expect(hot).toEqual(Array.from({length: 200}, (_, n) => n))
    // Every other key was done while most of the hot key's backlog still waited (it was read past, kept by ID).
    const lastCold = handled.findLastIndex(([, key]) => key !== 'hot')
    expect(handled.slice(0, lastCold).filter(([, key]) => key === 'hot').length).toBeLessThan(100)
    // A clean stop removes its report.
    expect(await ctx.redis.hexists(`{${topic}}:waiting:g`, 'w1')).toBe(0)
  })
})

async function createTopic(partitions: number): Promise<TopicDescription> {
  const topic = `ordered-leases-${++counter}`
  const created = await qctl('topic', 'create', topic, '--partitions', String(partitions), '--json')
  expect(created.code).toBe(0)
  return jsonOf<TopicDescription>(created)
}

/** The lease holders of a topic's partitions for group g ("<token>:<owner>", or null). */
const leases = async (description: TopicDescription): Promise<Array<{token: number; owner: string} | null>> =>
  Promise.all(
    description.partitions.map(async (partition) => {
      const value = await ctx.redis.get(`${partition.stream}:lease:g`)
      if (value === null) return null
      const at = value.indexOf(':')
      return {token: Number(value.slice(0, at)), owner: value.slice(at + 1)}
    }),
  )

const holdings = async (description: TopicDescription): Promise<Map<string, number>> => {
  const counts = new Map<string, number>()
  for (const lease of await leases(description)) if (lease !== null) counts.set(lease.owner, (counts.get(lease.owner) ?? 0) + 1)
  return counts
}

describe('qctl work --ordered on a partitioned topic: partition leases', () => {
  const running: RunningCli[] = []
  afterAll(() => {
    for (const worker of running) worker.child.kill('SIGKILL')
  })
  const start = (topic: string, consumer: string, ...args: string[]): RunningCli => {
    const worker = startCli([...work(topic, '--consumer', consumer, '--lease-timeout', '2s', ...args)], {env: env({SLOW_MS: '100'})})
    running.push(worker)
    return worker
  }

  it('shares the partitions fairly as workers join and leave, within the documented bound', async () => {
    const description = await createTopic(4)
    // Bound (README): two renewal intervals (a third of --lease-timeout each) plus running handlers; generous here for a loaded machine.
    const bound = 10_000
    const a = start(description.topic, 'a')
    await waitFor(async () => (await holdings(description)).get('a') === 4, bound, 'a to hold all 4 partitions')
    const before = await leases(description)
    const b = start(description.topic, 'b')
    await waitFor(async () => {
      const held = await holdings(description)
      return held.get('a') === 2 && held.get('b') === 2
    }, bound, 'a and b to hold 2 partitions each')
    const after = await leases(description)
    // A partition that moved has a larger fencing token.
    after.forEach((lease, partition) => {
      if (lease?.owner === 'b') expect(lease.token).toBeGreaterThan(before[partition]!.token)
    })
    b.child.kill('SIGTERM')
    expect((await b.done).code).toBe(0)
    await waitFor(async () => (await holdings(description)).get('a') === 4, bound, 'a to hold all 4 again after b left')
    a.child.kill('SIGTERM')
    expect((await a.done).code).toBe(0)
    // A clean stop gives the leases back and leaves the members.
    expect((await leases(description)).every((lease) => lease === null)).toBe(true)
    expect(await ctx.redis.zcard(`{${description.topic}}:members:g`)).toBe(0)
  })

  it('hold-key: a partition taken over holds the keys Redis holds now, not those held when the taker started', async () => {
    await ledger.flushall()
    const description = await createTopic(1)
    const [partition] = description.partitions
    const {topic} = description
    const a = start(topic, 'a', '--on-dead-letter', 'hold-key')
    await waitFor(async () => (await holdings(description)).get('a') === 1, 10_000, 'a to hold the partition')
    // b starts with nothing held, and gets no share (one partition: a sorts first).
    const b = start(topic, 'b', '--on-dead-letter', 'hold-key')
    await waitFor(async () => (await ctx.redis.zcard(`{${topic}}:members:g`)) === 2, 10_000, 'b to join the members')
    await publish(topic, [{key: 'x', n: 1, fail: 'permanent'}])
    await waitFor(async () => (await ctx.redis.hexists(`${partition!.stream}:held:g`, 'x')) === 1, 10_000, 'a to hold key x')
    a.child.kill('SIGTERM')
    expect((await a.done).code).toBe(0)
    await waitFor(async () => (await holdings(description)).get('b') === 1, 10_000, 'b to take the partition')
    await publish(topic, [{key: 'x', n: 2}, {key: 'y', n: 1}])
    await waitFor(async () => (await ledgerOf('y')).length === 1, 10_000, 'b to handle y')
    await waitFor(async () => (await ctx.redis.xlen(`${partition!.stream}:dlq`)) === 2, 10_000, "x's second message to follow it into the dead-letter stream")
    b.child.kill('SIGTERM')
    expect((await b.done).code).toBe(0)
    expect(await ledgerOf('x')).toEqual([])
    const dead = await ctx.redis.xrange(`${partition!.stream}:dlq`, '-', '+')
    expect(dead.map(([, pairs]) => pairs[pairs.indexOf('dlq.error-name') + 1])).toEqual(['PermanentError', 'KeyHeld'])
  })

  it('a worker frozen past its lease loses it: the next holder takes over, and the frozen one starts nothing more there', async () => {
    await ledger.flushall()
    const description = await createTopic(2)
    await publish(description.topic, Array.from({length: 60}, (_, n) => ({key: `k${n % 6}`, n})))
    const a = start(description.topic, 'a', '-c', '2')
    try {
      // a holds both partitions and is in the middle of handling when it freezes.
      await waitFor(async () => (await holdings(description)).get('a') === 2 && (await ledger.exists('fence')) === 1, 10_000, 'a to hold both partitions and handle')
      a.child.kill('SIGSTOP')
      const b = start(description.topic, 'b', '-c', '2')
      // a is frozen: its leases lapse after 2 s and b takes both.
      await waitFor(async () => (await holdings(description)).get('b') === 2, 15_000, 'b to take both partitions')
      a.child.kill('SIGCONT')
      await waitFor(async () => {
        let handled = 0
        for (let key = 0; key < 6; key++) handled += new Set(await ledgerOf(`k${key}`)).size
        return handled === 60
      }, 30_000, 'every message to be handled')
      a.child.kill('SIGTERM')
      b.child.kill('SIGTERM')
      const [resultA, resultB] = await Promise.all([a.done, b.done])
      expect(resultA.code).toBe(0)
      expect(resultB.code).toBe(0)
      expect(resultA.stderr + resultA.stdout).toContain('lost the lease of partition')
      const sequences = new Map<string, number[]>()
      for (let key = 0; key < 6; key++) sequences.set(`k${key}`, await ledgerOf(`k${key}`))
      expect(orderReport(sequences.values()).outOfOrder).toBe(0)
      for (const [key, handled] of sequences) expect(new Set(handled)).toEqual(new Set(Array.from({length: 10}, (_, i) => i * 6 + Number(key.slice(1)))))
    } finally {
      a.child.kill('SIGCONT')
    }
  })
})

/**
 * A worker whose partition lease is taken away while its handler runs (as by a new holder, after
 * the worker froze past the lease), in process: the handler overwrites the lease in Redis, then fails.
 */
describe('qctl work --ordered: a worker that lost its lease changes nothing of the failed entry', () => {
  async function runStolen(fail: () => Error): Promise<{stream: string; id: string; summary: WorkerSummary; warnings: string[]; events: string[]; calls: number}> {
    const description = await createTopic(1)
    const {topic} = description
    const stream = description.partitions[0]!.stream
    await publish(topic, [{key: 'a', n: 1}])
    const [[id]] = (await ctx.redis.xrange(stream, '-', '+')) as [[string, string[]]]
    const connection = await resolveConnection({url: ctx.server.url, connectTimeoutMs: 2000})
    const clients: RedisClient[] = []
    // openClient: one server, or (QCTL_TEST_TARGET=cluster) the cluster it finds.
    const connect = async (): Promise<RedisClient> => {
      const client = await openClient(connection, {name: 'qctl:fence-test', reconnect: true})
      clients.push(client)
      return client
    }
    let calls = 0
    const worker = new Worker(
      {
        topic,
        group: 'g',
        consumer: 'w',
        ordered: true,
        backoff: {delayMs: 5},
        handler: async () => {
          calls++
          await ctx.redis.set(leaseKey(stream, 'g'), '999:thief', 'PX', 60_000)
          throw fail()
        },
      },
      connect,
    )
    const warnings: string[] = []
    const events: string[] = []
    // The failure's outcome: refused (a warning), or (unfenced) a dead letter or a retry.
    const settled = new Promise<void>((resolve) => {
      worker.on('warning', ({message}) => {
        warnings.push(message)
        if (message.includes('was refused')) resolve()
      })
      for (const name of ['retry', 'deadLettered'] as const) {
        worker.on(name, () => {
          events.push(name)
          resolve()
        })
      }
    })
    const running = worker.run()
    try {
      // A run that fails (it cannot reach Redis) fails the test at once.
      await Promise.race([settled, running])
      worker.close()
      const summary = await running
      return {stream, id: id as string, summary, warnings, events, calls}
    } finally {
      worker.close()
      await running.catch(() => undefined)
      for (const client of clients) client.disconnect()
      await ctx.redis.del(leaseKey(stream, 'g'))
    }
  }

  it('its dead-letter move is refused: nothing in the dead-letter stream, the entry pending for the new holder, not counted dead-lettered', async () => {
    const {stream, id, summary, warnings, events} = await runStolen(() => new PermanentError('cannot bill'))
    expect(warnings).toContainEqual(`the dead-letter move of ${id} (partition 0) was refused: this worker no longer holds the partition's lease (fenced); the entry stays pending for its new holder, which handles it again`)
    expect(warnings.some((message) => message.startsWith('lost the lease of partition 0'))).toBe(true)
    expect(summary).toMatchObject({deadLettered: 0, processed: 0})
    expect(events).toEqual([])
    expect(await ctx.redis.xlen(deadLetterKey(stream))).toBe(0)
    expect(await ctx.redis.xpending(stream, 'g', '-', '+', 10)).toEqual([[id, 'w', expect.any(Number), 1]])
    expect(await ctx.redis.hlen(heldKeysKey(stream, 'g'))).toBe(0)
  })

  it('its ordered retry writes no attempt record and is not retried here', async () => {
    const {stream, id, summary, warnings, events, calls} = await runStolen(() => new Error('transient'))
    expect(warnings).toContainEqual(`the attempt record of ${id} (partition 0) was refused: this worker no longer holds the partition's lease (fenced); the entry stays pending for its new holder, which handles it again`)
    expect(summary).toMatchObject({retried: 0, deadLettered: 0, processed: 0})
    expect(events).toEqual([])
    expect(calls).toBe(1)
    expect(await ctx.redis.hexists(retryKey(stream, 'g'), id)).toBe(0)
    expect(await ctx.redis.xpending(stream, 'g', '-', '+', 10)).toEqual([[id, 'w', expect.any(Number), 1]])
  })
})
