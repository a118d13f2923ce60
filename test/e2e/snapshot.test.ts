import {describe, expect, it} from 'vitest'

import {readSnapshot} from '../../src/core/stats/snapshot-source.js'
import {rateRows} from '../../src/core/stats/rates.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/** One snapshot, no discovery or focus: what each refresh of `qctl top` reads. */
const takeSnapshot = async (...args: [Parameters<typeof readSnapshot>[0], readonly string[]]) => (await readSnapshot(...args)).snapshot

describe('readSnapshot (the data source of qctl top)', () => {
  const ctx = usePrivateRedis()

  it('reads every topic, group and consumer in one round trip, and two snapshots give the rates', async () => {
    for (const topic of ['snap.a', 'snap.b', 'snap.c']) {
      for (let i = 0; i < 10; i++) await ctx.redis.xadd(topic, '*', 'data', '{}')
      await ctx.redis.xgroup('CREATE', topic, 'g', '0')
    }
    await ctx.redis.xadd('{snap.a}:dlq', '*', 'data', '{}')
    let execs = 0
    const original = ctx.redis.pipeline.bind(ctx.redis)
    ctx.redis.pipeline = ((...args: Parameters<typeof original>) => {
      const pipeline = original(...args)
      const exec = pipeline.exec.bind(pipeline)
      pipeline.exec = (async (...execArgs: Parameters<typeof exec>) => {
        execs++
        return exec(...execArgs)
      }) as typeof pipeline.exec
      return pipeline
    }) as typeof ctx.redis.pipeline

    const topics = ['snap.a', 'snap.b', 'snap.c', 'snap.missing']
    const first = await takeSnapshot(ctx.redis, topics)
    expect(execs).toBe(1)
    expect(first.topics.map((topic) => [topic.topic, topic.length, topic.deadLetters, topic.groups[0]?.activeConsumers])).toEqual([
      ['snap.a', 10, 1, 0],
      ['snap.b', 10, 0, 0],
      ['snap.c', 10, 0, 0],
    ])

    const read = (await ctx.redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 6, 'STREAMS', 'snap.a', '>')) as Array<[string, Array<[string, string[]]>]>
    for (let i = 0; i < 5; i++) await ctx.redis.xadd('snap.a', '*', 'data', '{}')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const second = await takeSnapshot(ctx.redis, topics)
    expect(execs).toBe(2)
    const a = second.topics[0]!
    expect(a).toMatchObject({topic: 'snap.a', length: 15, entriesAdded: 15})
    expect(a.groups[0]).toMatchObject({name: 'g', entriesRead: 6, pending: 6, lag: 9, consumers: 1, activeConsumers: 1})
    const [row] = rateRows(first, second)
    expect(row).toMatchObject({topic: 'snap.a', group: 'g', depth: 15, pending: 6, lag: 9})
    expect(row?.inRate).toBeGreaterThan(0)
    // A group that had read nothing has no entries-read counter yet: its out-rate is unknown, not 0.
    expect(row?.outRate).toBeNull()

    await ctx.redis.xack('snap.a', 'g', ...read[0]![1].slice(0, 4).map(([id]) => id))
    await new Promise((resolve) => setTimeout(resolve, 50))
    const third = await takeSnapshot(ctx.redis, topics)
    expect(execs).toBe(3)
    const [acked] = rateRows(second, third)
    expect(acked?.pending).toBe(2)
    expect(acked?.inRate).toBe(0)
    expect(acked?.outRate).toBeGreaterThan(0)
  })
})
