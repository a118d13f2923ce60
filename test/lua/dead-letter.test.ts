import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {deadLetterKey, retryDueKey, retryKey} from '../../src/core/keys.js'
import {GroupOps} from '../../src/core/worker/group-ops.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {sameBytes, wideFields} from '../helpers/wide-entries.js'

/**
 * src/lua/dead-letter-4.lua through GroupOps.deadLetter, the worker's own call, against a private
 * redis-server: entries of any width move byte for byte, once, with their retry state.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

const GROUP = 'billing'
const METADATA: Array<[string, string]> = [
  ['dlq.topic', 'set per test'],
  ['dlq.id', 'set per test'],
  ['dlq.group', GROUP],
  ['dlq.consumer', 'w1'],
  ['dlq.attempts', '3'],
  ['dlq.error-name', 'PermanentError'],
  ['dlq.error-message', 'rejected'],
  ['dlq.first-failure', '2026-01-01T00:00:00.000Z'],
  ['dlq.last-failure', '2026-01-01T00:00:01.000Z'],
]

interface Pending {
  topic: string
  id: string
  fields: Buffer[]
  metadata: Array<[string, string]>
  ops: GroupOps
}

/** An entry delivered to consumer w1 of the group, with a retry record and a place in the due set (and another entry's, which must stay). */
async function pendingEntry(fields: Buffer[], client: Redis = redis): Promise<Pending> {
  const topic = `dead-letter-${++counter}`
  const id = (await redis.xadd(topic, '*', ...fields)) as string
  const ops = new GroupOps(client, topic, GROUP, 'w1')
  await redis.xgroup('CREATE', topic, GROUP, '0')
  await redis.xreadgroup('GROUP', GROUP, 'w1', 'COUNT', 1, 'STREAMS', topic, '>')
  await redis.hset(retryKey(topic, GROUP), id, '1000:2000', '9-9', '1000:2000')
  await redis.zadd(retryDueKey(topic, GROUP), 2000, id, 2000, '9-9')
  const metadata = METADATA.map(([name, value]): [string, string] => [name, name === 'dlq.topic' ? topic : name === 'dlq.id' ? id : value])
  return {topic, id, fields, metadata, ops}
}

const metadataBytes = (metadata: Array<[string, string]>): Buffer[] => metadata.flat().map((value) => Buffer.from(value))

async function deadLetters(topic: string): Promise<Array<[string, Buffer[]]>> {
  return ((await redis.xrangeBuffer(deadLetterKey(topic), '-', '+')) as Array<[Buffer, Buffer[]]>).map(([id, fields]) => [String(id), fields])
}

/** What the worker leaves of an entry besides the dead-letter stream: pending or not, retry record, due set. */
async function retryState(entry: Pending): Promise<{pending: number; record: string | null; due: string[]}> {
  const [pending] = (await redis.xpending(entry.topic, GROUP)) as [number]
  return {pending, record: await redis.hget(retryKey(entry.topic, GROUP), entry.id), due: await redis.zrange(retryDueKey(entry.topic, GROUP), 0, -1)}
}

describe('dead-letter-4.lua: an entry of any width moves byte for byte', () => {
  it.each([
    ['1 field', 2],
    ['3,991 fields (8,000 values with the metadata: the width unpack could not pass)', 7982],
    ['20,000 fields', 40_000],
    ['100,000 values', 100_000],
  ])('%s', async (_title, values) => {
    const entry = await pendingEntry(wideFields(values))
    const outcome = await entry.ops.deadLetter(entry.id, entry.metadata)
    const filed = await deadLetters(entry.topic)
    expect(outcome).toEqual({moved: true, dlqId: filed[0]?.[0]})
    expect(filed).toHaveLength(1)
    expect(sameBytes(filed[0]?.[1] ?? [], [...entry.fields, ...metadataBytes(entry.metadata)])).toBe(true)
    // Acknowledged, its retry state gone, another entry's kept; the topic keeps the entry.
    expect(await retryState(entry)).toEqual({pending: 0, record: null, due: ['9-9']})
    expect(await redis.hget(retryKey(entry.topic, GROUP), '9-9')).toBe('1000:2000')
    expect(await redis.xlen(entry.topic)).toBe(1)
  })

  it('binary values (not UTF-8, NUL, CR/LF, empty) in names and values are copied as they are', async () => {
    const fields = [Buffer.from('data'), Buffer.from([0x80, 0x00, 0xfe]), Buffer.from([0xff, 0x0d, 0x0a]), Buffer.alloc(0), Buffer.alloc(0), Buffer.from('\u{1f680}')]
    const entry = await pendingEntry(fields)
    expect((await entry.ops.deadLetter(entry.id, entry.metadata)).moved).toBe(true)
    expect(sameBytes((await deadLetters(entry.topic))[0]?.[1] ?? [], [...fields, ...metadataBytes(entry.metadata)])).toBe(true)
  })
})

describe('dead-letter-4.lua: only a pending entry moves, once', () => {
  it('run twice: the second run finds it not pending and changes nothing', async () => {
    const entry = await pendingEntry(wideFields(40_000))
    const first = await entry.ops.deadLetter(entry.id, entry.metadata)
    expect(first.moved).toBe(true)
    await redis.hset(retryKey(entry.topic, GROUP), entry.id, 'written after the move')
    expect(await entry.ops.deadLetter(entry.id, entry.metadata)).toEqual({moved: false, reason: 'not-pending'})
    expect(await deadLetters(entry.topic)).toHaveLength(1)
    // Not pending: nothing is touched, not even a stray record.
    expect(await redis.hget(retryKey(entry.topic, GROUP), entry.id)).toBe('written after the move')
  })

  it('an entry deleted while pending is acknowledged and its retry state removed, and nothing is filed (-1: deleted)', async () => {
    const entry = await pendingEntry(wideFields(20_000))
    await redis.xdel(entry.topic, entry.id)
    expect(await entry.ops.deadLetter(entry.id, entry.metadata)).toEqual({moved: false, reason: 'deleted'})
    expect(await retryState(entry)).toEqual({pending: 0, record: null, due: ['9-9']})
    expect(await redis.exists(deadLetterKey(entry.topic))).toBe(0)
  })
})

describe('dead-letter-4.lua: a write the ACL user may not do changes nothing', () => {
  it.each([
    ['ZREM on the due set', '-zrem', 'zrem', (topic: string) => retryDueKey(topic, GROUP)],
    ['HDEL on the retry hash', '-hdel', 'hdel', (topic: string) => retryKey(topic, GROUP)],
    ['XADD on the dead-letter stream', '-xadd', 'xadd', (topic: string) => deadLetterKey(topic)],
  ])('without %s (a 20,000-field entry)', async (_title, rule, command, keyOf) => {
    const user = `lua-dead-letter${rule}`
    await redis.call('ACL', 'SETUSER', user, 'reset', 'on', '>pw', '~*', '+@all', rule)
    const client = await context.server.client({username: user, password: 'pw'})
    try {
      const entry = await pendingEntry(wideFields(40_000), client)
      const before = await retryState(entry)
      const error = await entry.ops.deadLetter(entry.id, entry.metadata).then(
        () => undefined,
        (rejection: unknown) => rejection,
      )
      expect(String(error)).toContain(`NOPERM this user has no permissions to run the '${command}' command on key '${keyOf(entry.topic)}' (checked before dead-lettering: nothing was changed, the entry stays pending)`)
      expect(before).toEqual({pending: 1, record: '1000:2000', due: [entry.id, '9-9'].sort()})
      expect(await retryState(entry)).toEqual(before)
      expect(await redis.exists(deadLetterKey(entry.topic))).toBe(0)
    } finally {
      client.disconnect()
    }
  })
})
