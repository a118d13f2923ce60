import {appendFileSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {partitionOfKey} from '../../src/core/partitions/partition-hash.js'
import type {TopicDescription} from '../../src/core/topics/describe.js'
import {jsonOf, runCli, startCli, waitFor} from '../helpers/cli.js'
import {jsonEvents, type WorkEvent} from '../helpers/json-lines.js'
import {createPartitionedTopic, handledLines, publishKeyed as publishKeyedTo, recordingHandler as writeRecordingHandler} from '../helpers/partitioned.js'
import {useTestRedis} from '../helpers/test-redis.js'

/** `qctl work` on partitioned topics: every partition read, each with its own dead letters and replays. */

const ctx = useTestRedis()
let dir = ''
let counter = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-work-partitions-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})


const qctl = async (...args: string[]) => runCli([...args, '-u', ctx.server.url])

const createTopic = async (partitions: number): Promise<TopicDescription> => createPartitionedTopic(ctx.server.url, 'work-partitions', partitions)
const publishKeyed = async (topic: string, messages: number, keys: number): Promise<void> => publishKeyedTo(ctx.server.url, dir, topic, messages, keys)
const recordingHandler = async (log: string, extra = ''): Promise<string> => writeRecordingHandler(dir, log, extra)

describe('qctl work on a partitioned topic', () => {
  it('drains every partition with two workers: each message once at least, with its partition', async () => {
    const {topic} = await createTopic(8)
    await publishKeyed(topic, 4000, 300)
    const log = join(dir, `log-${++counter}`)
    appendFileSync(log, '')
    const file = await recordingHandler(log)
    const args = ['work', file, '-t', topic, '-g', 'billing', '-c', '8', '--until-empty', '--json', '-u', ctx.server.url]
    const [a, b] = await Promise.all([runCli(args), runCli(args)])
    expect([a.code, b.code]).toEqual([0, 0])
    const start = jsonEvents(a.stdout).find((event) => event.event === 'start')
    expect(start).toMatchObject({partitions: 8, deadLetterKey: null, replayKey: null})
    const handled = await handledLines(log)
    const seen = new Set(handled.map(([, , n]) => n))
    expect(seen.size).toBe(4000)
    for (const [partition, key] of handled) expect(Number(partition)).toBe(partitionOfKey(key as string, 8))
    const summaries = [a, b].map((result) => jsonEvents(result.stdout).at(-1) as WorkEvent)
    expect(summaries.reduce((sum, summary) => sum + (summary['processed'] as number), 0)).toBe(handled.length)
    const lag = jsonOf<Array<{lag: number; pending: number}>>(await qctl('lag', topic, '--group', 'billing', '--json'))
    expect(lag).toEqual([expect.objectContaining({lag: 0, pending: 0, partitions: 8})])
  })

  it('dead-letters into the partition\'s own dead-letter stream, and reads the partition\'s replay stream', async () => {
    const {topic, partitions} = await createTopic(4)
    await publishKeyed(topic, 40, 40)
    const log = join(dir, `log-${++counter}`)
    const file = await recordingHandler(log, "if (message.data.n % 10 === 3) throw Object.assign(new Error('bad'), {name: 'PermanentError'})")
    const first = await qctl('work', file, '-t', topic, '-g', 'billing', '--max-attempts', '1', '--until-empty', '--json')
    expect(first.code).toBe(0)
    expect(jsonEvents(first.stdout).at(-1)).toMatchObject({processed: 36, deadLettered: 4})
    for (const n of [3, 13, 23, 33]) {
      const partition = partitions[partitionOfKey(`key-${n}`, 4)]!
      const entries = await ctx.redis.xrange(`${partition.stream}:dlq`, '-', '+')
      expect(entries.some(([, fields]) => fields.includes(JSON.stringify({k: `key-${n}`, n})))).toBe(true)
    }
    // A replay into partition 2's replay stream for the group is read with the partition.
    const replay = `${partitions[2]!.stream}:replay:billing`
    await ctx.redis.xadd(replay, '*', 'data', JSON.stringify({n: 1000}), 'key', 'replayed')
    const second = await qctl('work', file, '-t', topic, '-g', 'billing', '--until-empty', '--json')
    expect(second.code).toBe(0)
    expect(jsonEvents(second.stdout).at(-1)).toMatchObject({processed: 1})
    expect((await handledLines(log)).at(-1)).toEqual(['2', 'replayed', '1000'])
  })

  it('gives each --json retry, deadLetter and log event the partition of its entry', async () => {
    const {topic, partitions} = await createTopic(4)
    await publishKeyed(topic, 40, 40)
    const file = join(dir, `handler-${++counter}.mjs`)
    await writeFile(
      file,
      `export default async (message, ctx) => {
  ctx.log(message.key)
  if (message.data.n % 10 === 3) throw Object.assign(new Error('bad'), {name: 'PermanentError'})
  if (message.data.n % 10 === 5 && message.attempt === 1) throw new Error('once')
}
`,
    )
    const result = await qctl('work', file, '-t', topic, '-g', 'billing', '--backoff-delay', '10ms', '--until-empty', '--json')
    expect(result.code).toBe(0)
    const events = jsonEvents(result.stdout)
    /** The n of the entry an event names, read from its partition's stream (IDs of different partitions may be equal). */
    const entryOf = async (event: WorkEvent): Promise<{key: string; n: number}> => {
      const partition = event['partition']
      expect(typeof partition).toBe('number')
      const [entry] = await ctx.redis.xrange(partitions[partition as number]!.stream, event['id'] as string, event['id'] as string)
      expect(entry).toBeDefined()
      const {k, n} = JSON.parse(entry![1][entry![1].indexOf('data') + 1] as string) as {k: string; n: number}
      // The entry's key hashes to the partition the event names.
      expect(partitionOfKey(k, 4)).toBe(partition)
      return {key: k, n}
    }
    const of = async (name: string): Promise<Array<{event: WorkEvent; entry: {key: string; n: number}}>> =>
      Promise.all(events.filter((event) => event.event === name).map(async (event) => ({event, entry: await entryOf(event)})))
    expect((await of('retry')).map(({entry}) => entry.n).sort((a, b) => a - b)).toEqual([5, 15, 25, 35])
    expect((await of('deadLetter')).map(({entry}) => entry.n).sort((a, b) => a - b)).toEqual([3, 13, 23, 33])
    const logs = await of('log')
    expect(logs).toHaveLength(44)
    for (const {event, entry} of logs) expect(event['message']).toBe(entry.key)
  })

  it('what a worker dead-letters, dlq replay sends back to its partition, and a worker handles it there', async () => {
    const {topic} = await createTopic(3)
    await publishKeyed(topic, 12, 12)
    const log = join(dir, `log-${++counter}`)
    const failing = await recordingHandler(log, "if (message.data.n % 4 === 1 && message.attempt === 1 && message.headers['qctl-replayed-from'] === undefined) throw Object.assign(new Error('bad'), {name: 'PermanentError'})")
    const first = await qctl('work', failing, '-t', topic, '-g', 'billing', '--until-empty', '--json')
    expect(jsonEvents(first.stdout).at(-1)).toMatchObject({processed: 9, deadLettered: 3})
    const listed = jsonOf<{total: number; entries: Array<{partition: number; originTopic: string}>}>(await qctl('dlq', 'list', topic, '--json'))
    expect(listed.total).toBe(3)
    expect(listed.entries.every((entry) => entry.originTopic === topic)).toBe(true)
    const replayed = await qctl('dlq', 'replay', topic, '--yes', '--json')
    expect(replayed.code).toBe(0)
    expect(jsonOf<{replayed: number}>(replayed).replayed).toBe(3)
    const second = await qctl('work', failing, '-t', topic, '-g', 'billing', '--until-empty', '--json')
    expect(jsonEvents(second.stdout).at(-1)).toMatchObject({processed: 3, deadLettered: 0})
    const handled = await handledLines(log)
    for (const n of [1, 5, 9]) {
      const rows = handled.filter(([, , seen]) => seen === String(n))
      expect(rows).toHaveLength(1)
      expect(Number(rows[0]![0])).toBe(partitionOfKey(`key-${n}`, 3))
    }
  })

  it('refuses --dlq for a partitioned topic (exit 2), before creating anything', async () => {
    const {topic, partitions} = await createTopic(2)
    const file = await recordingHandler(join(dir, `log-${++counter}`))
    const result = await qctl('work', file, '-t', topic, '-g', 'billing', '--dlq', 'elsewhere', '--until-empty')
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`--dlq cannot be used with the partitioned topic "${topic}"`)
    for (const partition of partitions) expect(await ctx.redis.exists(partition.stream)).toBe(0)
  })

  it('holds no more than --concurrency + --prefetch entries, however many partitions have a backlog', async () => {
    const {topic, partitions} = await createTopic(16)
    await publishKeyed(topic, 1600, 1600)
    const release = join(dir, `release-${++counter}`)
    const file = join(dir, `handler-${++counter}.mjs`)
    await writeFile(
      file,
      `import {existsSync} from 'node:fs'
export default async () => {
  while (!existsSync(${JSON.stringify(release)})) await new Promise((resolve) => setTimeout(resolve, 20))
}
`,
    )
    const worker = startCli(['work', file, '-t', topic, '-g', 'billing', '-c', '2', '--prefetch', '10', '--until-empty', '--json', '-u', ctx.server.url])
    try {
      const pendingOverall = async (): Promise<number> => {
        let total = 0
        for (const partition of partitions) {
          const summary = (await ctx.redis.xpending(partition.stream, 'billing').catch(() => [0])) as [number]
          total += Number(summary[0])
        }
        return total
      }
      await waitFor(async () => (await pendingOverall()) >= 2, 20_000, 'the first reads')
      // Reads keep coming while handlers wait: give them time to overfill, if they would.
      for (let look = 0; look < 20; look++) {
        expect(await pendingOverall()).toBeLessThanOrEqual(12)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      await writeFile(release, '')
      const result = await worker.done
      expect(result.code).toBe(0)
      expect(jsonEvents(result.stdout).at(-1)).toMatchObject({event: 'summary', processed: 1600})
    } finally {
      worker.child.kill('SIGKILL')
    }
  })
})
