import type {Redis} from 'ioredis'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {WORKER_CONNECTION_OPTIONS} from '../../src/core/worker/connections.js'
import {openRedis, resolveConnection} from '../../src/index.js'
import {waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js'

// A connection that reconnects but does not resend (the worker's reader) used to leave a command
// it had sent unsettled forever when the connection dropped before the reply: ioredis sets such
// commands aside and, without resend, forgets them. The worker's blocking read then waited for its
// watchdog after every cut connection. They now fail at once (src/core/redis/connection.ts,
// failUnansweredOnReconnect). Without that, the first test below hangs until its timeout.

const ctx = usePrivateRedis()
let proxy: TcpProxy
const clients: Redis[] = []

beforeAll(async () => {
  proxy = await startTcpProxy({port: ctx.server.port})
})
afterAll(async () => {
  await proxy.close()
})
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect()
})

async function reader(name: string): Promise<Redis> {
  const connection = await resolveConnection({url: proxy.url, connectTimeoutMs: 2000})
  const client = await openRedis(connection, {name, ...WORKER_CONNECTION_OPTIONS.reader})
  clients.push(client)
  return client
}

/** Whether the server has a client named `name` blocked in a command now. */
async function blocked(name: string): Promise<boolean> {
  const list = (await ctx.redis.client('LIST')) as string
  return list.split('\n').some((line) => line.includes(` name=${name} `) && / flags=\S*b/.test(line))
}

describe('a connection that reconnects without resending', () => {
  it('fails a blocking read the dropped connection had sent, naming the cause, and serves the next command on the new connection', async () => {
    const client = await reader('qctl:test:lost-reply')
    const read = client.xread('BLOCK', 0, 'STREAMS', 'lost-reply', '$')
    const settled = read.then(
      () => 'answered',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    )
    await waitFor(() => blocked('qctl:test:lost-reply'), 10_000, 'the read to block on the server')
    proxy.cut()
    expect(await settled).toBe('the connection to Redis was lost before the reply')
    // Not sent again: the server has no read of that connection blocked after the reconnect.
    await waitFor(async () => (await client.ping()) === 'PONG', 10_000, 'the connection to come back')
    expect(await blocked('qctl:test:lost-reply')).toBe(false)
    await ctx.redis.xadd('lost-reply', '*', 'n', '1')
    const rows = (await client.xread('STREAMS', 'lost-reply', '0')) as Array<[string, unknown[]]>
    expect(rows[0]?.[1]).toHaveLength(1)
  })

  it('still sends a command issued while it reconnects (the offline queue), once', async () => {
    const client = await reader('qctl:test:offline')
    await ctx.redis.del('offline-count')
    proxy.cut()
    await waitFor(() => client.status !== 'ready', 10_000, 'the client to see the cut')
    expect(await client.incr('offline-count')).toBe(1)
    expect(await ctx.redis.get('offline-count')).toBe('1')
  })
})
