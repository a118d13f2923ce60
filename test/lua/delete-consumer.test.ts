import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {createTopic, deliver, GROUP, type Topic} from '../helpers/group-state.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * src/lua/delete-consumer-if-idle-1.lua through GroupOps.deleteConsumerIfIdle, the worker's own
 * call, against a private redis-server: a consumer is removed only if it holds nothing and has been
 * idle at least the threshold; XGROUP DELCONSUMER would make its pending entries unclaimable.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

const consumerNames = async (topic: Topic): Promise<string[]> => (await topic.ops('w0').consumers()).map((consumer) => consumer.name).sort()

/** Wait until Redis reports `consumer` idle at least `idleMs` (its idle time only grows while nobody uses it). */
async function idleAtLeast(topic: Topic, consumer: string, idleMs: number): Promise<void> {
  for (;;) {
    const found = (await topic.ops('w0').consumers()).find((info) => info.name === consumer)
    if (found === undefined) throw new Error(`no consumer ${consumer}`)
    if (found.idleMs >= idleMs) return
    await new Promise((resolve) => setTimeout(resolve, idleMs - found.idleMs))
  }
}

/** A topic with consumers `idle` (holds nothing) and `busy` (holds one entry). */
async function twoConsumers(): Promise<Topic> {
  const topic = await createTopic(redis, `delete-consumer-${++counter}`, 2)
  await deliver(redis, topic.name, 'busy', 1)
  await redis.xgroup('CREATECONSUMER', topic.name, GROUP, 'idle')
  return topic
}

describe('delete-consumer-if-idle-1.lua', () => {
  it('deletes a consumer that holds nothing, at threshold 0 (the worker\'s own, on exit)', async () => {
    const topic = await twoConsumers()
    expect(await topic.ops('idle').deleteConsumerIfIdle()).toBe(true)
    expect(await consumerNames(topic)).toEqual(['busy'])
  })

  it('deletes a consumer that holds nothing and has been idle at least the threshold', async () => {
    const topic = await twoConsumers()
    await idleAtLeast(topic, 'idle', 50)
    expect(await topic.ops('w0').deleteConsumerIfIdle('idle', 50)).toBe(true)
    expect(await consumerNames(topic)).toEqual(['busy'])
  })

  it('refuses a consumer idle less than the threshold', async () => {
    const topic = await twoConsumers()
    expect(await topic.ops('w0').deleteConsumerIfIdle('idle', 3_600_000)).toBe(false)
    expect(await consumerNames(topic)).toEqual(['busy', 'idle'])
  })

  it('refuses a consumer that holds an entry, however idle: the entry stays claimable', async () => {
    const topic = await twoConsumers()
    expect(await topic.ops('busy').deleteConsumerIfIdle()).toBe(false)
    await idleAtLeast(topic, 'busy', 50)
    expect(await topic.ops('w0').deleteConsumerIfIdle('busy', 50)).toBe(false)
    expect(await consumerNames(topic)).toEqual(['busy', 'idle'])
    expect((await topic.ops('w1').reclaim('busy', 0, 10)).entries.map((entry) => entry.id)).toEqual([topic.ids[0]])
    // Once it holds nothing, it goes.
    expect(await topic.ops('w0').deleteConsumerIfIdle('busy', 0)).toBe(true)
    expect(await consumerNames(topic)).toEqual(['idle', 'w1'])
  })

  it('a consumer that does not exist: 0 (false), the others untouched', async () => {
    const topic = await twoConsumers()
    expect(await topic.ops('w0').deleteConsumerIfIdle('nobody', 0)).toBe(false)
    expect(await topic.ops('idle').deleteConsumerIfIdle()).toBe(true)
    // Run twice: the second finds it gone.
    expect(await topic.ops('idle').deleteConsumerIfIdle()).toBe(false)
    expect(await consumerNames(topic)).toEqual(['busy'])
  })
})
