import {Redis} from 'ioredis'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js'

// The test proxy itself (test/helpers/tcp-proxy.ts), against a real Redis: what each control does
// to a connection, so the tests that rely on it (silent connections, worker chaos) can trust it.

/** Whether `promise` settles within `ms` (a short wait, to see that nothing arrived). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  const settled = promise.then(
    () => true,
    () => true,
  )
  const result = await Promise.race([settled, late])
  clearTimeout(timer)
  return result
}

describe('test helper: TCP proxy', () => {
  const ctx = usePrivateRedis()
  let proxy: TcpProxy
  const clients: Redis[] = []

  /** A client through the proxy that never retries nor times out by itself: it shows what the wire does. */
  async function client(): Promise<Redis> {
    const redis = new Redis({port: proxy.port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, disableClientInfo: true, maxRetriesPerRequest: 0, retryStrategy: () => null})
    redis.on('error', () => {})
    clients.push(redis)
    await redis.connect()
    return redis
  }

  beforeEach(async () => {
    proxy = await startTcpProxy({port: ctx.server.port})
  })

  afterEach(async () => {
    for (const redis of clients.splice(0)) redis.disconnect()
    await proxy.close()
  })

  it('forwards both ways and counts open connections', async () => {
    const redis = await client()
    expect(await redis.ping()).toBe('PONG')
    expect(proxy.connections).toBe(1)
    await client()
    expect(proxy.connections).toBe(2)
  })

  it('pause() holds every byte both ways with the sockets open; resume() delivers them all, in order', async () => {
    const redis = await client()
    proxy.pause()
    const replies = Promise.all(Array.from({length: 100}, async (_, i) => redis.incr(`counter:${i % 3}`)))
    expect(await settlesWithin(replies, 300)).toBe(false)
    expect(redis.status).toBe('ready')
    expect(await ctx.redis.get('counter:0')).toBeNull()
    // A connection opened while paused starts paused: its handshake (CLIENT SETINFO) is held too.
    const late = new Redis({port: proxy.port, host: '127.0.0.1', enableReadyCheck: false, retryStrategy: () => null})
    late.on('error', () => {})
    clients.push(late)
    const latePing = late.ping()
    expect(await settlesWithin(latePing, 300)).toBe(false)
    expect(proxy.connections).toBe(2)
    proxy.resume()
    const values = await replies
    expect(values.filter((_, i) => i % 3 === 0)).toEqual(Array.from({length: 34}, (_, i) => i + 1))
    expect(await latePing).toBe('PONG')
  })

  it('blackhole() swallows both ways on open connections, never closing them; new connections work', async () => {
    const redis = await client()
    let closed = false
    redis.on('close', () => (closed = true))
    proxy.blackhole()
    const lost = redis.set('blackholed', '1')
    expect(await settlesWithin(lost, 300)).toBe(false)
    expect(await ctx.redis.get('blackholed')).toBeNull()
    expect(closed).toBe(false)
    expect(proxy.connections).toBe(1)
    const fresh = await client()
    expect(await fresh.ping()).toBe('PONG')
    // Still swallowed after resume(): a dropped NAT entry does not come back.
    proxy.resume()
    expect(await settlesWithin(redis.ping(), 200)).toBe(false)
    expect(closed).toBe(false)
  })

  it('cut() closes every current connection', async () => {
    const redis = await client()
    const closed = new Promise<void>((resolve) => redis.once('close', () => resolve()))
    proxy.cut()
    await closed
    await waitFor(() => proxy.connections === 0, 5000, 'no connection left')
  })

  it('latency(ms) delays each direction and keeps order; latency(0) turns it off', async () => {
    const redis = await client()
    proxy.latency(300)
    const pings = Promise.all([redis.ping('a'), redis.ping('b'), redis.ping('c')])
    expect(await settlesWithin(pings, 200)).toBe(false)
    expect(await pings).toEqual(['a', 'b', 'c'])
    proxy.latency(0)
    expect(await redis.ping()).toBe('PONG')
  })

  it("stallOneWay('toServer') holds commands; stallOneWay('toClient') lets them run but holds the replies", async () => {
    const redis = await client()
    proxy.stallOneWay('toServer')
    const held = redis.set('stalled-up', '1')
    expect(await settlesWithin(held, 300)).toBe(false)
    expect(await ctx.redis.get('stalled-up')).toBeNull()
    proxy.resume()
    expect(await held).toBe('OK')

    proxy.stallOneWay('toClient')
    const unanswered = redis.set('stalled-down', '1')
    await waitFor(async () => (await ctx.redis.get('stalled-down')) === '1', 5000, 'the command to reach Redis')
    expect(await settlesWithin(unanswered, 300)).toBe(false)
    proxy.resume()
    expect(await unanswered).toBe('OK')
  })
})
