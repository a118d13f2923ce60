import {appendFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {partitionOfKey} from '../../src/core/partitions/partition-hash.js'
import type {TopicDescription} from '../../src/core/topics/describe.js'
import {jsonOf, runCli, startCli, waitFor, type RunningCli} from '../helpers/cli.js'
import {jsonEvents} from '../helpers/json-lines.js'
import {createPartitionedTopic, handledLines, publishKeyed, recordingHandler} from '../helpers/partitioned.js'
import {useTestRedis} from '../helpers/test-redis.js'

/**
 * Partitions added by `qctl topic alter` while workers run: the running workers read them (within
 * the growth poll, 5 s), from their start, and with --ordered share them out by lease. Runs on one
 * server and on a 3-primary cluster (a read loop per partition there).
 */

const ctx = useTestRedis()
let dir = ''
const running: RunningCli[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-work-growth-'))
})
afterAll(async () => {
  for (const worker of running) worker.child.kill('SIGKILL')
  await rm(dir, {recursive: true, force: true})
})

interface AlterJson {
  from: number
  to: number
  changed: boolean
  groups: string[]
  partitions: Array<{stream: string}>
}

async function alter(topic: string, partitions: number): Promise<AlterJson> {
  const altered = await runCli(['topic', 'alter', topic, '--partitions', String(partitions), '--yes', '--json', '-u', ctx.server.url])
  expect(altered.code).toBe(0)
  return jsonOf<AlterJson>(altered)
}

const start = (args: string[]): RunningCli => {
  const worker = startCli([...args, '--json', '-u', ctx.server.url])
  running.push(worker)
  return worker
}

/** Every n in [0, count) handled at least once. */
const allHandled = async (log: string, count: number): Promise<boolean> => new Set((await handledLines(log)).map(([, , n]) => n)).size === count

describe('partitions added while workers run', () => {
  it('a running worker reads the new partitions from their start, and says so; alter makes its group there first', async () => {
    const {topic} = await createPartitionedTopic(ctx.server.url, 'growth', 2)
    const log = join(dir, 'plain.log')
    appendFileSync(log, '')
    const worker = start(['work', await recordingHandler(dir, log), '-t', topic, '-g', 'g', '-c', '4'])
    await publishKeyed(ctx.server.url, dir, topic, 40, 40)
    await waitFor(async () => allHandled(log, 40), 20_000, 'the first 40 messages')

    const altered = await alter(topic, 4)
    expect(altered).toMatchObject({from: 2, to: 4, changed: true, groups: ['g']})
    // The group is there on the new partitions at once, at their start: lag counts what is published there.
    for (const {stream} of altered.partitions.slice(2)) {
      const groups = (await ctx.redis.xinfo('GROUPS', stream)) as unknown[][]
      expect(groups.map((group) => group[group.indexOf('name') + 1])).toEqual(['g'])
      expect(groups[0]![groups[0]!.indexOf('last-delivered-id') + 1]).toBe('0-0')
    }
    // Published at once, before the worker can have noticed: nothing of it is skipped.
    await publishKeyed(ctx.server.url, dir, topic, 200, 200, 40)
    await waitFor(async () => allHandled(log, 240), 30_000, 'every message, the new partitions included')
    worker.child.kill('SIGTERM')
    const result = await worker.done
    expect(result.code).toBe(0)
    const events = jsonEvents(result.stdout)
    expect(events.filter((event) => event.event === 'partitionsAdded')).toEqual([{event: 'partitionsAdded', topic, from: 2, to: 4}])
    const handled = await handledLines(log)
    const partitions = new Set(handled.filter(([, , n]) => Number(n) >= 40).map(([partition]) => Number(partition)))
    expect(partitions).toEqual(new Set([0, 1, 2, 3]))
    for (const [partition, key, n] of handled) expect(Number(partition)).toBe(partitionOfKey(key as string, Number(n) < 40 ? 2 : 4))
    const lag = jsonOf<Array<{lag: number; pending: number; partitions: number}>>(await runCli(['lag', topic, '--group', 'g', '--json', '-u', ctx.server.url]))
    expect(lag).toEqual([expect.objectContaining({lag: 0, pending: 0, partitions: 4})])
  })

  it('--ordered: running workers share the new partitions out by lease and keep each key in order', async () => {
    const description: TopicDescription = await createPartitionedTopic(ctx.server.url, 'growth-ordered', 2)
    const {topic} = description
    const log = join(dir, 'ordered.log')
    appendFileSync(log, '')
    const handler = await recordingHandler(dir, log)
    const work = (consumer: string): RunningCli => start(['work', handler, '-t', topic, '-g', 'g', '--ordered', '--lease-timeout', '2s', '--consumer', consumer, '-c', '4'])
    const workers = [work('a'), work('b')]
    const owners = async (streams: readonly string[]): Promise<string[]> => Promise.all(streams.map(async (stream) => ((await ctx.redis.get(`${stream}:lease:g`)) ?? '').replace(/^\d+:/, '')))
    await waitFor(async () => (await owners(description.partitions.map((partition) => partition.stream))).sort().join() === 'a,b', 20_000, 'a and b to hold a partition each')

    const altered = await alter(topic, 6)
    const streams = altered.partitions.map((partition) => partition.stream)
    // The fair share (README): partition p to the (p mod 2)-th member in name order.
    await waitFor(async () => (await owners(streams)).join() === 'a,b,a,b,a,b', 30_000, 'a and b to hold 3 partitions each')
    await publishKeyed(ctx.server.url, dir, topic, 600, 60)
    await waitFor(async () => allHandled(log, 600), 30_000, 'every message')
    for (const worker of workers) worker.child.kill('SIGTERM')
    const results = await Promise.all(workers.map(async (worker) => worker.done))
    expect(results.map((result) => result.code)).toEqual([0, 0])
    for (const result of results) expect(jsonEvents(result.stdout).filter((event) => event.event === 'partitionsAdded')).toHaveLength(1)
    const byKey = new Map<string, number[]>()
    for (const [partition, key, n] of await handledLines(log)) {
      expect(Number(partition)).toBe(partitionOfKey(key as string, 6))
      byKey.set(key as string, [...(byKey.get(key as string) ?? []), Number(n)])
    }
    for (const sequence of byKey.values()) expect(sequence).toEqual([...sequence].sort((x, y) => x - y))
  })
})
