import {appendFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
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
 * mid-move. On one server and on a 3-primary cluster.
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

  it('refuses --delay with --at, a time it cannot read, and scheduling with an idempotency key; nothing stored', async () => {
    const topic = `sched-${++counter}`
    const both = await qctl(['publish', topic, '--data', '{}', '--delay', '1s', '--at', '2030-01-01'])
    expect(both.code).toBe(2)
    const bad = await qctl(['publish', topic, '--data', '{}', '--at', 'tomorrow'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe('Error: invalid --at "tomorrow": use an ISO 8601 time (2026-12-24T18:00:00Z) or Unix milliseconds\n')
    const once = await qctl(['publish', topic, '--data', '{}', '--delay', '1s', '--idempotency-key', 'a'])
    expect(once.code).toBe(2)
    expect(once.stderr).toContain('--delay and --at cannot be used with --idempotency-key(-field) yet')
    expect(await ctx.redis.exists(topic, `{${topic}}:scheduled`)).toBe(0)
    expect((await qctl(['schedule', 'run'])).code).toBe(2)
  })
})
