import type {Redis} from 'ioredis'
import {describe, expect, it} from 'vitest'

import {openRedis, publish, resolveConnection, Worker, type Message} from '../../src/index.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

describe('qctl as a library', () => {
  const ctx = usePrivateRedis()

  it('publishes and runs a Worker programmatically, with typed messages and a summary', async () => {
    const connection = await resolveConnection({url: ctx.server.url, connectTimeoutMs: 2000})
    const clients: Redis[] = []
    const connect = async (): Promise<Redis> => {
      const client = await openRedis(connection, {name: 'qctl:library-test', reconnect: true})
      clients.push(client)
      return client
    }
    const published = await publish(await connect(), {topic: 'lib.orders', source: {kind: 'inline', text: '{"n":1}\n{"n":2}\n{"n":3}\n'}, ndjson: true, maxPayloadBytes: 1024})
    expect(published.published).toBe(3)

    const seen: number[] = []
    const worker = new Worker(
      {
        topic: 'lib.orders',
        group: 'lib',
        concurrency: 2,
        untilEmpty: true,
        handler: async (message: Message) => {
          seen.push((message.data as {n: number}).n)
        },
      },
      connect,
    )
    const summary = await worker.run()
    for (const client of clients) client.disconnect()
    expect(seen.sort()).toEqual([1, 2, 3])
    expect(summary).toMatchObject({topic: 'lib.orders', group: 'lib', processed: 3, deadLettered: 0, stopReason: 'until-empty'})
    expect(await ctx.redis.xpending('lib.orders', 'lib')).toEqual([0, null, null, null])
  })
})
