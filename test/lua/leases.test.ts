import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {deadLetterKey, leaseKey, membersKey, replayKey, replayRetryKey, retryDueKey, retryKey} from '../../src/core/keys.js'
import {GroupOps} from '../../src/core/worker/group-ops.js'
import {Leases, shareOf, type LeaseHooks} from '../../src/core/worker/leases.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * Partition leases (src/lua/lease-acquire-2.lua, lease-renew-1.lua, members-beat-1.lua) and the fenced
 * steps (ack-fenced-3.lua, dead-letter-fenced-5.lua, record-attempt-fenced-2.lua), against a real
 * Redis: one holder at a time, tokens that only grow, a lost lease never renewed or given back by its
 * former holder, and acknowledgements, dead-letter moves and attempt records refused to a worker
 * whose lease lapsed.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0
const GROUP = 'g'

beforeAll(() => {
  redis = context.redis
})

const noHooks = (events: string[] = []): LeaseHooks => ({
  acquired: async (partition, token) => void events.push(`acquired ${partition} ${token}`),
  releasing: async (partition) => void events.push(`releasing ${partition}`),
  lost: (partition) => void events.push(`lost ${partition}`),
})

const streamsOf = (topic: string, count: number): string[] => Array.from({length: count}, (_, index) => `{${topic}:p${index}:x}`)

describe('shareOf: each live member\'s fair share', () => {
  it('gives every partition to exactly one member, at most one more to any', () => {
    for (const members of [['a'], ['a', 'b'], ['c', 'a', 'b'], ['a', 'b', 'c', 'd', 'e']]) {
      for (const partitions of [1, 4, 8, 9]) {
        const shares = members.map((member) => shareOf(partitions, members, member))
        expect(shares.flat().sort((x, y) => x - y)).toEqual(Array.from({length: partitions}, (_, index) => index))
        const sizes = shares.map((share) => share.length)
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
      }
    }
    expect(shareOf(4, ['a', 'b'], 'z')).toEqual([])
  })
})

describe('partition leases', () => {
  it('gives a partition to one worker at a time, with a larger fencing token for each new holder', async () => {
    const topic = `leases-${++counter}`
    const streams = streamsOf(topic, 2)
    const eventsA: string[] = []
    const eventsB: string[] = []
    const a = new Leases(redis, topic, streams, GROUP, 'a', 1000, noHooks(eventsA), () => undefined)
    const b = new Leases(redis, topic, streams, GROUP, 'b', 1000, noHooks(eventsB), () => undefined)
    await a.cycle()
    expect(a.ownedPartitions).toEqual([0, 1])
    expect(await redis.zrange(membersKey(topic, GROUP), 0, -1)).toEqual(['a'])
    const first = a.token(1) as number
    // b joins: both see two members; a gives partition 1 up (its share is 0), b takes it.
    await b.cycle()
    expect(b.ownedPartitions).toEqual([])
    await a.cycle()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(a.ownedPartitions).toEqual([0])
    await b.cycle()
    expect(b.ownedPartitions).toEqual([1])
    expect(b.token(1)).toBeGreaterThan(first)
    expect(eventsA).toContain('releasing 1')
    expect(await redis.get(leaseKey(streams[1] as string, GROUP))).toBe(`${b.token(1)}:b`)
    await a.stop()
    await b.stop()
    expect(await redis.exists(leaseKey(streams[0] as string, GROUP), leaseKey(streams[1] as string, GROUP))).toBe(0)
    expect(await redis.zcard(membersKey(topic, GROUP))).toBe(0)
  })

  it('a holder that stops renewing loses the lease on its own clock before another may take it; its stale renewal changes nothing', async () => {
    const topic = `leases-${++counter}`
    const streams = streamsOf(topic, 1)
    const eventsA: string[] = []
    const a = new Leases(redis, topic, streams, GROUP, 'a', 300, noHooks(eventsA), () => undefined)
    await a.cycle()
    const token = a.token(0) as number
    expect(a.valid(0)).toBe(true)
    // No renewal: invalid on a's clock (at 90% of the time to live), and the key gone in Redis after it.
    await new Promise((resolve) => setTimeout(resolve, 280))
    expect(a.valid(0)).toBe(false)
    expect(eventsA).toContain('lost 0')
    await new Promise((resolve) => setTimeout(resolve, 100))
    const b = new Leases(redis, topic, streams, GROUP, 'b', 10_000, noHooks(), () => undefined)
    await redis.zrem(membersKey(topic, GROUP), 'a')
    await b.cycle()
    expect(b.token(0)).toBe(token + 1)
    // a's renewal under its old token is refused: b keeps the lease.
    const renewed = await redis.eval("if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end return 1", 1, leaseKey(streams[0] as string, GROUP), `${token}:a`)
    expect(renewed).toBe(0)
    await a.cycle()
    expect(await redis.get(leaseKey(streams[0] as string, GROUP))).toBe(`${token + 1}:b`)
    await b.stop()
    await a.stop()
  })

  it('refuses the acknowledgements of a worker whose lease is gone (fenced), and keeps the entries pending', async () => {
    const topic = `leases-${++counter}`
    const [stream] = streamsOf(topic, 1) as [string]
    const ids = [(await redis.xadd(stream, '*', 'data', '1')) as string, (await redis.xadd(stream, '*', 'data', '2')) as string]
    await redis.xgroup('CREATE', stream, GROUP, '0')
    await redis.xreadgroup('GROUP', GROUP, 'a', 'COUNT', 10, 'STREAMS', stream, '>')
    await redis.hset(retryKey(stream, GROUP), ids[0] as string, '0:1:1:0')
    const ops = new GroupOps(redis, stream, GROUP, 'a')
    await redis.set(leaseKey(stream, GROUP), '7:a', 'PX', 10_000)
    expect(await ops.ackFenced([ids[0] as string], [ids[0] as string], '7:a')).toEqual({acked: 1, fenced: 0})
    expect(await redis.hexists(retryKey(stream, GROUP), ids[0] as string)).toBe(0)
    // Another holder now (token 8): a's late acknowledgement is refused.
    await redis.set(leaseKey(stream, GROUP), '8:b', 'PX', 10_000)
    expect(await ops.ackFenced([ids[1] as string], [], '7:a')).toEqual({acked: 0, fenced: 1})
    expect(await ops.ackFenced([ids[1] as string], [], undefined)).toEqual({acked: 0, fenced: 1})
    const pending = (await redis.xpending(stream, GROUP)) as [number]
    expect(pending[0]).toBe(1)
  })

  /** A partition's stream with one entry pending to consumer a, its attempt record and due time set. */
  async function pendingEntry(): Promise<{stream: string; id: string; ops: GroupOps}> {
    const topic = `leases-${++counter}`
    const [stream] = streamsOf(topic, 1) as [string]
    const id = (await redis.xadd(stream, '*', 'data', '{"n":1}', 'key', 'k')) as string
    await redis.xgroup('CREATE', stream, GROUP, '0')
    await redis.xreadgroup('GROUP', GROUP, 'a', 'COUNT', 10, 'STREAMS', stream, '>')
    await redis.hset(retryKey(stream, GROUP), id, '1000:2:2:0')
    await redis.zadd(retryDueKey(stream, GROUP), 5000, id)
    return {stream, id, ops: new GroupOps(redis, stream, GROUP, 'a')}
  }
  const METADATA: Array<[string, string]> = [['dlq.error-name', 'PermanentError']]

  it('moves a dead letter under the lease it is held with (dead-letter-fenced-5.lua), as dead-letter-4.lua does', async () => {
    const {stream, id, ops} = await pendingEntry()
    await redis.set(leaseKey(stream, GROUP), '7:a', 'PX', 10_000)
    const outcome = await ops.deadLetterFenced(id, METADATA, '7:a')
    expect(outcome).toMatchObject({moved: true})
    const [[dlqId, fields]] = (await redis.xrange(deadLetterKey(stream), '-', '+')) as [[string, string[]]]
    expect(outcome).toEqual({moved: true, dlqId})
    expect(fields).toEqual(['data', '{"n":1}', 'key', 'k', 'dlq.error-name', 'PermanentError'])
    expect((await redis.xpending(stream, GROUP))[0]).toBe(0)
    expect(await redis.hexists(retryKey(stream, GROUP), id)).toBe(0)
    expect(await redis.zscore(retryDueKey(stream, GROUP), id)).toBeNull()
    // Run twice: nothing is pending any more, nothing is filed again.
    expect(await ops.deadLetterFenced(id, METADATA, '7:a')).toEqual({moved: false, reason: 'not-pending'})
    expect(await redis.xlen(deadLetterKey(stream))).toBe(1)
  })

  it('refuses the dead-letter move of a worker whose lease is another\'s or gone: nothing filed, the entry pending with its retry state', async () => {
    const {stream, id, ops} = await pendingEntry()
    const unchanged = async (): Promise<void> => {
      expect(await redis.xlen(deadLetterKey(stream))).toBe(0)
      expect(await redis.xpending(stream, GROUP, '-', '+', 10)).toEqual([[id, 'a', expect.any(Number), 1]])
      expect(await redis.hget(retryKey(stream, GROUP), id)).toBe('1000:2:2:0')
      expect(await redis.zscore(retryDueKey(stream, GROUP), id)).toBe('5000')
    }
    // Another holder now (token 8).
    await redis.set(leaseKey(stream, GROUP), '8:b', 'PX', 10_000)
    expect(await ops.deadLetterFenced(id, METADATA, '7:a')).toEqual({moved: false, reason: 'fenced'})
    await unchanged()
    // Expired, nobody holds it: refused too (the next holder takes the entry when it takes the partition).
    await redis.del(leaseKey(stream, GROUP))
    expect(await ops.deadLetterFenced(id, METADATA, '7:a')).toEqual({moved: false, reason: 'fenced'})
    // The worker knows it lost the lease: nothing is sent.
    expect(await ops.deadLetterFenced(id, METADATA, undefined)).toEqual({moved: false, reason: 'fenced'})
    await unchanged()
  })

  it('moves a dead letter from a partition\'s replay stream under the lease, deleting it there as dead-letter-4.lua does', async () => {
    const topic = `leases-${++counter}`
    const [stream] = streamsOf(topic, 1) as [string]
    const replay = replayKey(stream, GROUP)
    const id = (await redis.xadd(replay, '*', 'data', '{"n":2}')) as string
    await redis.xgroup('CREATE', replay, GROUP, '0')
    await redis.xreadgroup('GROUP', GROUP, 'a', 'COUNT', 10, 'STREAMS', replay, '>')
    await redis.hset(replayRetryKey(stream, GROUP), id, '1000:1:1:0')
    const ops = new GroupOps(redis, stream, GROUP, 'a', undefined, 'replay')
    await redis.set(leaseKey(stream, GROUP), '3:b', 'PX', 10_000)
    expect(await ops.deadLetterFenced(id, METADATA, '2:a')).toEqual({moved: false, reason: 'fenced'})
    expect(await redis.xlen(replay)).toBe(1)
    await redis.set(leaseKey(stream, GROUP), '4:a', 'PX', 10_000)
    expect(await ops.deadLetterFenced(id, METADATA, '4:a')).toMatchObject({moved: true})
    expect(await redis.xlen(deadLetterKey(stream))).toBe(1)
    expect(await redis.xlen(replay)).toBe(0)
    expect(await redis.hexists(replayRetryKey(stream, GROUP), id)).toBe(0)
  })

  it('writes an ordered retry\'s attempt record only under the lease (record-attempt-fenced-2.lua)', async () => {
    const {stream, id, ops} = await pendingEntry()
    const record = {firstFailureMs: 1000, starts: 3, settled: 3, solo: 0}
    await redis.set(leaseKey(stream, GROUP), '8:b', 'PX', 10_000)
    expect(await ops.recordAttemptFenced(id, record, '7:a')).toBe(false)
    expect(await ops.recordAttemptFenced(id, record, undefined)).toBe(false)
    expect(await redis.hget(retryKey(stream, GROUP), id)).toBe('1000:2:2:0')
    await redis.set(leaseKey(stream, GROUP), '9:a', 'PX', 10_000)
    expect(await ops.recordAttemptFenced(id, record, '9:a')).toBe(true)
    expect(await redis.hget(retryKey(stream, GROUP), id)).toBe('1000:3:3:0')
  })

  it('drops a member that stopped beating after its time to live', async () => {
    const topic = `leases-${++counter}`
    const streams = streamsOf(topic, 4)
    const a = new Leases(redis, topic, streams, GROUP, 'a', 200, noHooks(), () => undefined)
    const b = new Leases(redis, topic, streams, GROUP, 'b', 10_000, noHooks(), () => undefined)
    await a.cycle()
    await b.cycle()
    expect(b.liveMembers).toEqual(['a', 'b'])
    await new Promise((resolve) => setTimeout(resolve, 250))
    await b.cycle()
    expect(b.liveMembers).toEqual(['b'])
    expect(b.ownedPartitions).toEqual([0, 1, 2, 3])
    await b.stop()
    await a.stop()
  })
})
