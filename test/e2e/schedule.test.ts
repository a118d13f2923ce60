import {appendFileSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {partitionOfKey} from '../../src/core/partitions/partition-hash.js'
import type {PublishResult} from '../../src/core/publish/publish.js'
import type {ScheduleRunRow} from '../../src/core/schedule/run.js'
import {jsonOf, runCli, startCli, waitFor} from '../helpers/cli.js'
import {createPartitionedTopic, handledLines, recordingHandler} from '../helpers/partitioned.js'
import {useTestRedis} from '../helpers/test-redis.js'

/**
 * Delayed messages: `qctl publish --delay / --at` holds them in the stream's schedule; a running
 * `qctl work` of the topic, or `qctl schedule run`, appends them when due, each once, whoever dies
 * mid-move; with an idempotency key, scheduled once per key within the dedupe window, checked when
 * scheduled. On one server and on a 3-primary cluster.
 */

const ctx = useTestRedis()
let dir = ''
let counter = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-schedule-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

const qctl = async (args: string[], input?: string) => runCli([...args, '-u', ctx.server.url], input === undefined ? {} : {input})
const ndjson = (count: number, keyed = false): string => `${Array.from({length: count}, (_, n) => JSON.stringify({n, ...(keyed ? {k: `key-${n}`} : {})})).join('\n')}\n`

/** Every `n` in the stream, in stream order. */
async function storedNumbers(stream: string): Promise<number[]> {
  const entries = await ctx.redis.xrange(stream, '-', '+')
  return entries.map(([, fields]) => (JSON.parse(fields[fields.indexOf('data') + 1] as string) as {n: number}).n)
}

describe('qctl publish --delay / --at, and who appends them', () => {
  it('--delay: held out of the topic, then a running worker appends and handles every message once', async () => {
    const topic = `sched-${++counter}`
    const log = join(dir, `handled-${counter}.log`)
    appendFileSync(log, '')
    const worker = startCli(['work', await recordingHandler(dir, log), '-t', topic, '-g', 'g', '--json', '-u', ctx.server.url])
    try {
      const published = await qctl(['publish', topic, '--ndjson', '--delay', '1500ms', '--json'], ndjson(50))
      expect(published.code, published.stderr).toBe(0)
      const result = jsonOf<PublishResult>(published)
      expect(result).toMatchObject({published: 0, scheduled: 50})
      expect(Date.parse(result.dueAt as string)).toBeGreaterThan(Date.now() - 60_000)
      // Not in the topic yet: nothing to read.
      expect(await storedNumbers(topic).catch(() => [])).toEqual([])
      await waitFor(async () => (await handledLines(log)).length === 50, 20_000, 'the worker to handle the 50 when due')
    } finally {
      worker.child.kill('SIGTERM')
    }
    expect((await worker.done).code).toBe(0)
    expect(new Set((await handledLines(log)).map(([, , n]) => n)).size).toBe(50)
    expect(await ctx.redis.exists(`{${topic}}:scheduled`)).toBe(0)
    const human = await qctl(['publish', topic, '--data', '{"n":1}', '--delay', '1h'])
    expect(human.stdout).toMatch(/^Scheduled 1 message for .*, due \d{4}-.*: a running qctl work of the topic \(or qctl schedule run\) appends them when due\.\n$/)
  })

  it('--at: qctl schedule run appends what is due and says what is left; byte for byte', async () => {
    const topic = `sched-${++counter}`
    expect((await qctl(['publish', topic, '--ndjson', '--at', '2020-01-01T00:00:00Z'], ndjson(20))).code).toBe(0)
    expect((await qctl(['publish', topic, '--data', '{"n":99}', '--key', 'later', '--at', String(Date.now() + 3_600_000)])).code).toBe(0)
    const run = await qctl(['schedule', 'run', topic, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const [row] = jsonOf<{topics: ScheduleRunRow[]}>(run).topics
    expect(row).toMatchObject({topic, partitions: 1, moved: 20, scheduled: 1, foreign: 0})
    expect(Date.parse(row!.nextDueAt as string)).toBeGreaterThan(Date.now() + 3_000_000)
    expect(await storedNumbers(topic)).toEqual(Array.from({length: 20}, (_, n) => n))
    const [first] = await ctx.redis.xrange(topic, '-', '+')
    expect(first![1]).toEqual(['data', '{"n":0}'])
    const again = await qctl(['schedule', 'run', topic])
    expect(again.stdout).toMatch(new RegExp(`^${topic}: appended 0 due messages; 1 message still scheduled, the next due \\d{4}-`))
  })

  it('a partitioned topic: each message waits in its partition\'s schedule and lands in its key\'s partition', async () => {
    const {topic, partitions} = await createPartitionedTopic(ctx.server.url, 'sched-parts', 3)
    const published = jsonOf<PublishResult>(await qctl(['publish', topic, '--ndjson', '--key-field', 'k', '--delay', '0ms', '--json'], ndjson(60, true)))
    expect(published).toMatchObject({scheduled: 60, published: 0})
    const run = jsonOf<{topics: ScheduleRunRow[]}>(await qctl(['schedule', 'run', topic, '--json']))
    expect(run.topics[0]).toMatchObject({partitions: 3, moved: 60, scheduled: 0})
    let total = 0
    for (const [index, partition] of partitions.entries()) {
      const numbers = await storedNumbers(partition.stream)
      total += numbers.length
      for (const n of numbers) expect(partitionOfKey(`key-${n}`, 3)).toBe(index)
    }
    expect(total).toBe(60)
  })

  it('a mover killed mid-run, and movers racing: every message appended exactly once', async () => {
    const topic = `sched-${++counter}`
    const total = 5000
    expect((await qctl(['publish', topic, '--ndjson', '--at', '1'], ndjson(total))).code).toBe(0)
    const killed = startCli(['schedule', 'run', topic, '--follow', '-u', ctx.server.url])
    await waitFor(async () => (await ctx.redis.xlen(topic).catch(() => 0)) > 0, 20_000, 'the first mover to start moving')
    killed.child.kill('SIGKILL')
    await killed.done
    const racing = await Promise.all([qctl(['schedule', 'run', topic, '--json']), qctl(['schedule', 'run', topic, '--json'])])
    for (const result of racing) expect(result.code, result.stderr).toBe(0)
    const stored = await storedNumbers(topic)
    expect(stored).toHaveLength(total)
    expect(new Set(stored).size).toBe(total)
    expect(await ctx.redis.exists(`{${topic}}:scheduled`)).toBe(0)
  })

  it('schedule run --follow: every second, what comes due in each topic named, until Ctrl-C (exit 0); --json once at the end, moved summed', async () => {
    const [first, second] = [`sched-${++counter}`, `sched-${++counter}`]
    expect((await qctl(['publish', first, '--ndjson', '--at', '1'], ndjson(3))).code).toBe(0)
    const running = startCli(['schedule', 'run', first, second, '--follow', '--json', '-u', ctx.server.url])
    await waitFor(async () => (await ctx.redis.xlen(first)) === 3, 20_000, 'the first pass to append the 3 due')
    // Due only now, after the first pass: the next passes append them, in both topics.
    expect((await qctl(['publish', first, '--ndjson', '--at', '1'], ndjson(2))).code).toBe(0)
    expect((await qctl(['publish', second, '--ndjson', '--at', '1'], ndjson(4))).code).toBe(0)
    await waitFor(async () => (await ctx.redis.xlen(first)) === 5 && (await ctx.redis.xlen(second)) === 4, 20_000, 'a later pass to append the 6 more')
    expect(running.child.exitCode).toBeNull()
    running.child.kill('SIGINT')
    const result = await running.done
    expect(result.code, result.stderr).toBe(0)
    expect(jsonOf<{topics: ScheduleRunRow[]}>(result).topics).toEqual([
      {topic: first, partitions: 1, moved: 5, scheduled: 0, nextDueAt: null, foreign: 0},
      {topic: second, partitions: 1, moved: 4, scheduled: 0, nextDueAt: null, foreign: 0},
    ])
    expect(await storedNumbers(first)).toEqual([0, 1, 2, 0, 1])
  })

  it('schedule run: a topic key that is not a stream, or a schedule that is not a sorted set, exits 2 naming the key; the messages stay scheduled', async () => {
    const topic = `sched-${++counter}`
    expect((await qctl(['publish', topic, '--data', '{"n":1}', '--at', '1'])).code).toBe(0)
    await ctx.redis.set(topic, 'x')
    const notStream = await qctl(['schedule', 'run', topic])
    expect([notStream.code, notStream.stderr]).toEqual([2, `Error: topic "${topic}" is a string, not a stream\n`])
    expect(await ctx.redis.zcard(`{${topic}}:scheduled`)).toBe(1)
    const other = `sched-${++counter}`
    await ctx.redis.set(`{${other}}:scheduled`, 'x')
    const notSorted = await qctl(['schedule', 'run', other, '--json'])
    expect(notSorted.code).toBe(2)
    expect(jsonOf<{error: {code: string; message: string}}>(notSorted).error).toMatchObject({code: 'USAGE', message: `the schedule of "${other}" ("{${other}}:scheduled") is a string, not a sorted set`})
  })

  it('refuses --delay with --at, a time it cannot read, and --envelope with scheduling and an idempotency key; nothing stored', async () => {
    const topic = `sched-${++counter}`
    const both = await qctl(['publish', topic, '--data', '{}', '--delay', '1s', '--at', '2030-01-01'])
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/^Error: --(at|delay)=\S+ cannot also be provided when using --(delay|at)\n/)
    const bad = await qctl(['publish', topic, '--data', '{}', '--at', 'tomorrow'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe('Error: invalid --at "tomorrow": use an ISO 8601 time (2026-12-24T18:00:00Z) or Unix milliseconds\n')
    const soon = await qctl(['publish', topic, '--data', '{}', '--delay', 'soon'])
    expect(soon.code).toBe(2)
    expect(soon.stderr.split('\n')[0]).toBe('Error: Parsing --delay: invalid duration "soon": use a number with a unit (ms, s, m, h, d, w), e.g. 500ms, 5s, 2m, 1h, 7d, 1w')
    const envelope = await qctl(['publish', topic, '--envelope', '-', '--delay', '1s', '--idempotency-key', 'a'], '{"data":"{}"}\n')
    expect(envelope.code).toBe(2)
    expect(envelope.stderr).toMatch(/^Error: .*--envelope/)
    expect(await ctx.redis.exists(topic, `{${topic}}:scheduled`, `{${topic}}:dedupe`)).toBe(0)
    expect((await qctl(['schedule', 'run'])).code).toBe(2)
  })
})

describe('qctl publish --delay / --at with an idempotency key: scheduled once per key within the window', () => {
  /** An NDJSON file of `count` orders `{order: {id: o<n>}, n}`, keyless. */
  async function ordersFile(count: number): Promise<string> {
    const file = join(dir, `orders-${++counter}.ndjson`)
    await writeFile(file, `${Array.from({length: count}, (_, n) => JSON.stringify({order: {id: `o${n}`}, n})).join('\n')}\n`)
    return file
  }
  const once = ['--idempotency-key-field', 'order.id', '--json']
  const scheduledCount = async (stream: string): Promise<number> => ctx.redis.zcard(`{${stream}}:scheduled`)

  it('the same file twice within the window: the schedule holds each key once, then the stream does; publishing it again now stores nothing', async () => {
    const topic = `sched-once-${++counter}`
    const file = await ordersFile(1500)
    const first = await qctl(['publish', topic, file, '--at', '2020-01-01T00:00:00Z', ...once])
    expect(first.code, first.stderr).toBe(0)
    expect(jsonOf<PublishResult>(first)).toMatchObject({published: 0, scheduled: 1500, deduplicated: 0})
    const second = await qctl(['publish', topic, file, '--at', '2020-01-01T00:00:00Z', ...once])
    expect(second.code, second.stderr).toBe(0)
    const repeated = jsonOf<PublishResult>(second)
    expect(repeated).toMatchObject({published: 0, scheduled: 0, deduplicated: 1500})
    expect(repeated.dueAt).toBeUndefined()
    expect(await scheduledCount(topic)).toBe(1500)
    const human = await qctl(['publish', topic, file, '--delay', '1h', '--idempotency-key-field', 'order.id'])
    expect(human.stdout).toBe(
      `Nothing scheduled for ${topic}: every message was published or scheduled there already.\nNot scheduled again: 1,500 messages whose idempotency key was published or scheduled within the dedupe window.\n`,
    )

    // Due: appended once each; the mover does not check the keys again.
    const run = jsonOf<{topics: ScheduleRunRow[]}>(await qctl(['schedule', 'run', topic, '--json']))
    expect(run.topics[0]).toMatchObject({moved: 1500, scheduled: 0})
    const stored = await storedNumbers(topic)
    expect(stored).toHaveLength(1500)
    expect(new Set(stored).size).toBe(1500)
    // One dedupe set for both paths: keys scheduled count as published for a publish without a delay.
    expect(jsonOf<PublishResult>(await qctl(['publish', topic, file, ...once]))).toMatchObject({published: 0, deduplicated: 1500})
    expect(await ctx.redis.xlen(topic)).toBe(1500)
  })

  it('a key published without a delay is not scheduled again; a key repeated in one input is scheduled the first time', async () => {
    const topic = `sched-once-${++counter}`
    expect(jsonOf<PublishResult>(await qctl(['publish', topic, '--data', '{"id":"a","n":0}', '--idempotency-key', 'a', '--json']))).toMatchObject({published: 1})
    const lines = ['{"id":"a","n":1}', '{"id":"b","n":2}', '{"id":"b","n":3}', '{"id":"c","n":4}']
    const result = jsonOf<PublishResult>(await qctl(['publish', topic, '--ndjson', '--idempotency-key-field', 'id', '--at', '1', '--json'], `${lines.join('\n')}\n`))
    expect(result).toMatchObject({scheduled: 2, deduplicated: 2})
    expect(jsonOf<{topics: ScheduleRunRow[]}>(await qctl(['schedule', 'run', topic, '--json'])).topics[0]).toMatchObject({moved: 2})
    expect(await storedNumbers(topic)).toEqual([0, 2, 4])
  })

  it('one document with --idempotency-key and --delay: scheduled once', async () => {
    const topic = `sched-once-${++counter}`
    const args = ['publish', topic, '--data', '{"orderId":42}', '--idempotency-key', 'reminder-42', '--delay', '1h', '--json']
    const first = jsonOf<PublishResult>(await qctl(args))
    expect(first).toMatchObject({published: 0, scheduled: 1, deduplicated: 0})
    expect(Date.parse(first.dueAt as string)).toBeGreaterThan(Date.now() + 3_000_000)
    const second = await qctl(args)
    expect(second.code, second.stderr).toBe(0)
    expect(jsonOf<PublishResult>(second)).toEqual(expect.objectContaining({published: 0, scheduled: 0, deduplicated: 1}))
    expect(jsonOf<PublishResult>(second).dueAt).toBeUndefined()
    expect(await scheduledCount(topic)).toBe(1)
  })

  it('the window counts from publishing, not from when due: shorter than the delay, the key is forgotten before the message is due', async () => {
    const topic = `sched-once-${++counter}`
    const args = ['publish', topic, '--data', '{"n":1}', '--idempotency-key', 'k', '--delay', '1h', '--dedupe-window', '1s', '--json']
    const first = jsonOf<PublishResult>(await qctl(args))
    expect(first).toMatchObject({scheduled: 1})
    // One script took Redis's clock once: due an hour after it, the key kept a second after it.
    const expires = Number(await ctx.redis.zscore(`{${topic}}:dedupe`, 'k'))
    expect(expires).toBe(Date.parse(first.dueAt as string) - 3_600_000 + 1000)
    await waitFor(async () => (await ctx.redis.exists(`{${topic}}:dedupe`)) === 0, 10_000, 'the dedupe set to expire')
    expect(jsonOf<PublishResult>(await qctl(args))).toMatchObject({scheduled: 1, deduplicated: 0})
    expect(await scheduledCount(topic)).toBe(2)
  })

  it('a partitioned topic: a keyless message waits in its idempotency key\'s partition, so a rerun finds it there, and lands there', async () => {
    const {topic, partitions} = await createPartitionedTopic(ctx.server.url, 'sched-once-parts', 4)
    const file = await ordersFile(400)
    expect(jsonOf<PublishResult>(await qctl(['publish', topic, file, '--at', '1', ...once]))).toMatchObject({scheduled: 400, deduplicated: 0})
    expect(jsonOf<PublishResult>(await qctl(['publish', topic, file, '--at', '1', ...once]))).toMatchObject({scheduled: 0, deduplicated: 400})
    expect(jsonOf<{topics: ScheduleRunRow[]}>(await qctl(['schedule', 'run', topic, '--json'])).topics[0]).toMatchObject({partitions: 4, moved: 400, scheduled: 0})
    let total = 0
    for (const [index, partition] of partitions.entries()) {
      const numbers = await storedNumbers(partition.stream)
      total += numbers.length
      for (const n of numbers) expect(partitionOfKey(`o${n}`, 4)).toBe(index)
    }
    expect(total).toBe(400)
    // A single document with the same key goes to the same partition, where its key is known.
    const single = jsonOf<PublishResult>(await qctl(['publish', topic, '--data', '{"n":7}', '--idempotency-key', 'o7', '--delay', '1h', '--json']))
    expect(single).toMatchObject({scheduled: 0, deduplicated: 1})
  })
})
