import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {deadLetterKey, replayKey, replayRetryKey} from '../../src/core/keys.js'
import {GroupOps} from '../../src/core/worker/group-ops.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * A group's replay stream keeps only its backlog: src/lua/ack-replayed-2.lua (GroupOps.ack on the
 * replay lane) and dead-letter-4.lua (GroupOps.deadLetter there) delete what this consumer held and
 * finished, never an entry another consumer took over, and a user without XDEL on the replay stream
 * still acknowledges, is told once, and deletes nothing.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0
const GROUP = 'billing'

beforeAll(async () => {
  redis = context.redis
  // The worker role's rules for this test's keys, without XDEL on replay streams (a role file older than it).
  await redis.call(
    'ACL', 'SETUSER', 'no-xdel', 'on', 'nopass', 'resetkeys', '-@all', '+ping', '+client|setname', '+xreadgroup', '+xack', '+xpending', '+xrange', '+hdel', '+hget', '+hset', '+zrem',
    '~ack-replayed.*', '~{ack-replayed.*}:*', '(+xadd ~{ack-replayed.*}:dlq)', '(+evalsha +eval ~ack-replayed.* ~{ack-replayed.*}:*)',
  )
})

/** A topic whose replay stream for GROUP holds `count` entries, `held` of them delivered to w1; the ops of w1 there. */
async function replayed(count: number, held: number, client: Redis = redis): Promise<{topic: string; stream: string; ids: string[]; ops: GroupOps; warnings: string[]}> {
  const topic = `ack-replayed.${++counter}`
  const stream = replayKey(topic, GROUP)
  const ids: string[] = []
  for (let n = 0; n < count; n++) ids.push((await redis.xadd(stream, '*', 'data', `{"n":${n}}`)) as string)
  await redis.xgroup('CREATE', stream, GROUP, '0')
  await redis.xreadgroup('GROUP', GROUP, 'w1', 'COUNT', held, 'STREAMS', stream, '>')
  const ops = new GroupOps(client, topic, GROUP, 'w1', undefined, 'replay')
  const warnings: string[] = []
  ops.onWarning = (message) => warnings.push(message)
  return {topic, stream, ids, ops, warnings}
}

const streamIds = async (stream: string): Promise<string[]> => ((await redis.xrange(stream, '-', '+')) as Array<[string, string[]]>).map(([id]) => id)

describe('ack-replayed-2.lua: a replay stream keeps only what its group has not finished', () => {
  it('acknowledges and deletes the entries this consumer held, and forgets their attempt records', async () => {
    const {stream, ids, ops, topic, warnings} = await replayed(3, 2)
    const [first, second, third] = ids as [string, string, string]
    await redis.hset(replayRetryKey(topic, GROUP), first, '5000:2:1:0', `${first}+`, 'x')
    expect(await ops.ack([first, second], [first])).toBe(2)
    expect(await streamIds(stream)).toEqual([third])
    expect(await redis.xpending(stream, GROUP)).toEqual([0, null, null, null])
    expect(await redis.hgetall(replayRetryKey(topic, GROUP))).toEqual({})
    expect(warnings).toEqual([])
  })

  it('only acknowledges an entry another consumer took over: that one may be running it, and finds it acknowledged, not deleted', async () => {
    const {stream, ids, ops} = await replayed(2, 2)
    const [mine, taken] = ids as [string, string]
    await redis.xclaim(stream, GROUP, 'w2', 0, taken, 'JUSTID')
    expect(await ops.ack([mine, taken], [])).toBe(2)
    expect(await streamIds(stream)).toEqual([taken])
  })

  it('an entry acknowledged already (by the worker that took it over) is left in the stream', async () => {
    const {stream, ids, ops} = await replayed(1, 1)
    const [id] = ids as [string]
    await redis.xack(stream, GROUP, id)
    expect(await ops.ack([id], [])).toBe(0)
    expect(await streamIds(stream)).toEqual([id])
  })

  it('a user who may not XDEL there: acknowledged, nothing deleted, said once', async () => {
    const client = await context.server.client({username: 'no-xdel', password: 'x'})
    try {
      const {stream, ids, ops, warnings} = await replayed(3, 3, client)
      const [first, second, third] = ids as [string, string, string]
      expect(await ops.ack([first], [])).toBe(1)
      expect(await ops.ack([second, third], [])).toBe(2)
      expect(await streamIds(stream)).toEqual(ids)
      expect(await redis.xpending(stream, GROUP)).toEqual([0, null, null, null])
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain(`may not XDEL the replay stream ${stream}`)
    } finally {
      client.disconnect()
    }
  })
})

describe('dead-letter-4.lua on a replay stream', () => {
  const metadata: Array<[string, string]> = [['dlq.group', GROUP], ['dlq.error-name', 'PermanentError']]

  it('deletes the entry it moved to the DLQ when this consumer held it', async () => {
    const {topic, stream, ids, ops} = await replayed(2, 1)
    const [held, waiting] = ids as [string, string]
    expect(await ops.deadLetter(held, metadata)).toMatchObject({moved: true})
    expect(await streamIds(stream)).toEqual([waiting])
    expect(await redis.xlen(deadLetterKey(topic))).toBe(1)
  })

  it('moves but keeps an entry another consumer took over (it may be running it)', async () => {
    const {topic, stream, ids, ops} = await replayed(1, 1)
    const [id] = ids as [string]
    await redis.xclaim(stream, GROUP, 'w2', 0, id, 'JUSTID')
    expect(await ops.deadLetter(id, metadata)).toMatchObject({moved: true})
    expect(await streamIds(stream)).toEqual([id])
    expect(await redis.xlen(deadLetterKey(topic))).toBe(1)
  })

  it('on a topic, never deletes the entry (topics are every group\'s)', async () => {
    const topic = `ack-replayed.${++counter}`
    const [id] = [(await redis.xadd(topic, '*', 'data', '{}')) as string]
    await redis.xgroup('CREATE', topic, GROUP, '0')
    await redis.xreadgroup('GROUP', GROUP, 'w1', 'COUNT', 1, 'STREAMS', topic, '>')
    expect(await new GroupOps(redis, topic, GROUP, 'w1').deadLetter(id, metadata)).toMatchObject({moved: true})
    expect(await redis.xlen(topic)).toBe(1)
  })
})
