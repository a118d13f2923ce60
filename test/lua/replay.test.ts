import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {deadLetterKey, replayKey} from '../../src/core/keys.js'
import {planSelection} from '../../src/core/dlq/plan.js'
import {replayPlan} from '../../src/core/dlq/replay.js'
import {buildSelection} from '../../src/core/dlq/selection.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {sameBytes, wideFields} from '../helpers/wide-entries.js'

/**
 * src/lua/replay-2.lua through replayPlan, the core of `qctl dlq replay`, against a private
 * redis-server: dead-letter entries of any width go back byte for byte, once, to the replay stream of
 * the group that failed them (or, with toTopic, onto the topic: the byte tests use that, the same copy).
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

const AT = new Date('2026-11-30T12:00:00.000Z')

/** A dead-letter entry as qctl work writes it: the original fields, then the metadata. */
async function deadLettered(fields: Buffer[]): Promise<{topic: string; dlq: string; dlqId: string}> {
  const topic = `replay-${++counter}`
  const dlq = deadLetterKey(topic)
  const metadata = ['dlq.topic', topic, 'dlq.id', '1-1', 'dlq.group', 'billing', 'dlq.consumer', 'w1', 'dlq.attempts', '1', 'dlq.error-name', 'PermanentError', 'dlq.error-message', 'rejected', 'dlq.first-failure', AT.toISOString(), 'dlq.last-failure', AT.toISOString()]
  const dlqId = (await redis.xadd(dlq, '*', ...fields, ...metadata)) as string
  return {topic, dlq, dlqId}
}

async function replay(topic: string, client: Redis = redis): Promise<Awaited<ReturnType<typeof replayPlan>>> {
  const plan = await planSelection(client, {key: deadLetterKey(topic), selection: buildSelection({topic}, Date.now())})
  return replayPlan(client, plan, {topic, toTopic: true}, {now: () => AT})
}

async function topicEntries(topic: string): Promise<Array<[string, Buffer[]]>> {
  return ((await redis.xrangeBuffer(topic, '-', '+')) as Array<[Buffer, Buffer[]]>).map(([id, fields]) => [String(id), fields])
}

const replayRecord = (dlqId: string): string => `{"qctl-replayed-from":"${dlqId}","qctl-replayed-at":"${AT.toISOString()}","qctl-original-id":"1-1"}`

describe('replay-2.lua: an entry of any width goes back byte for byte', () => {
  it.each([
    ['1 field', 2],
    ['3,999 fields (8,000 values with the headers field: the width unpack could not pass)', 7998],
    ['20,000 fields', 40_000],
    ['100,000 values', 100_000],
  ])('%s', async (_title, values) => {
    const fields = wideFields(values)
    const {topic, dlq, dlqId} = await deadLettered(fields)
    const result = await replay(topic)
    const onTopic = await topicEntries(topic)
    expect(result).toMatchObject({selected: 1, replayed: 1, skipped: 0, remaining: 0, ids: [onTopic[0]?.[0]]})
    expect(onTopic).toHaveLength(1)
    // The original fields in order, without the dlq.* metadata, then the replay record.
    expect(sameBytes(onTopic[0]?.[1] ?? [], [...fields, Buffer.from('headers'), Buffer.from(replayRecord(dlqId))])).toBe(true)
    expect(await redis.xlen(dlq)).toBe(0)
  })

  it('binary values, and a headers field among 20,000 others that gets the replay record in place', async () => {
    const fields = wideFields(40_000)
    fields.splice(10_000, 0, Buffer.from('headers'), Buffer.from('{"source":"checkout"}'))
    fields.push(Buffer.from([0xc3]), Buffer.from([0x00, 0xff, 0x0a]))
    const {topic, dlqId} = await deadLettered(fields)
    expect((await replay(topic)).replayed).toBe(1)
    const expected = [...fields]
    expected[10_001] = Buffer.from(`{"source":"checkout",${replayRecord(dlqId).slice(1)}`)
    expect(sameBytes((await topicEntries(topic))[0]?.[1] ?? [], expected)).toBe(true)
  })
})

describe('replay-2.lua: each entry moves once', () => {
  it('run twice with the same plan: the second run finds it gone and adds nothing', async () => {
    const {topic} = await deadLettered(wideFields(40_000))
    const plan = await planSelection(redis, {key: deadLetterKey(topic), selection: buildSelection({topic}, Date.now())})
    expect(await replayPlan(redis, plan, {topic})).toMatchObject({replayed: 1, skipped: 0})
    expect(await replayPlan(redis, plan, {topic})).toMatchObject({replayed: 0, skipped: 1, ids: []})
    expect(await redis.xlen(replayKey(topic, 'billing'))).toBe(1)
  })

  it('an entry deleted after the plan was made is skipped (already replayed or purged), nothing is added', async () => {
    const {topic, dlq, dlqId} = await deadLettered(wideFields(20_000))
    const plan = await planSelection(redis, {key: dlq, selection: buildSelection({topic}, Date.now())})
    await redis.xdel(dlq, dlqId)
    expect(await replayPlan(redis, plan, {topic})).toMatchObject({selected: 1, replayed: 0, skipped: 1})
    expect(await redis.exists(topic)).toBe(0)
    expect(await redis.exists(replayKey(topic, 'billing'))).toBe(0)
  })
})

describe('replay-2.lua: to the replay stream of the group that failed the entry', () => {
  it('adds it there, creating the group at ID 0 with the stream, and leaves the topic alone', async () => {
    const fields = wideFields(20_000)
    const {topic, dlqId} = await deadLettered(fields)
    const result = await replayPlan(redis, await planSelection(redis, {key: deadLetterKey(topic), selection: buildSelection({topic}, Date.now())}), {topic}, {now: () => AT})
    expect(result).toMatchObject({replayed: 1, targets: [{group: 'billing', key: replayKey(topic, 'billing'), entries: 1}]})
    expect(await redis.exists(topic)).toBe(0)
    const [[id, pairs]] = (await redis.xrangeBuffer(replayKey(topic, 'billing'), '-', '+')) as [[Buffer, Buffer[]]]
    expect(String(id)).toBe(result.ids[0])
    expect(sameBytes(pairs, [...fields, Buffer.from('headers'), Buffer.from(replayRecord(dlqId))])).toBe(true)
    const groups = (await redis.call('XINFO', 'GROUPS', replayKey(topic, 'billing'))) as unknown[][]
    expect(groups.map((group) => [group[1], group[7]])).toEqual([['billing', '0-0']])
  })

  it('with several headers fields, reads and records in the LAST one, as the worker decodes them', async () => {
    const fields = ['data', '{}', 'headers', '{"qctl-original-id":"9-9"}', 'headers', '{"qctl-original-id":"7-7"}'].map((text) => Buffer.from(text))
    const {topic} = await deadLettered(fields)
    await replayPlan(redis, await planSelection(redis, {key: deadLetterKey(topic), selection: buildSelection({topic}, Date.now())}), {topic}, {now: () => AT})
    const [[, pairs]] = (await redis.xrange(replayKey(topic, 'billing'), '-', '+')) as [[string, string[]]]
    // The first stays as it was; the last gets the replay record and keeps its original ID.
    expect(pairs[3]).toBe('{"qctl-original-id":"9-9"}')
    expect(JSON.parse(pairs[5] ?? '{}')).toMatchObject({'qctl-original-id': '7-7'})
    expect(JSON.parse(pairs[5] ?? '{}')).toHaveProperty('qctl-replayed-from')
  })

  it('refuses (nothing changed) an entry whose dlq.group is not the group named', async () => {
    const {topic, dlq, dlqId} = await deadLettered(wideFields(2))
    const plan = await planSelection(redis, {key: dlq, selection: buildSelection({topic}, Date.now())})
    const error = await replayPlan(redis, plan, {topic, group: 'shipping'}).catch((rejection: unknown) => rejection)
    expect(String(error)).toContain(`QCTLGROUP dead-letter entry ${dlqId} was not dead-lettered by group "shipping" (nothing was changed)`)
    expect(await redis.xlen(dlq)).toBe(1)
    expect(await redis.exists(replayKey(topic, 'shipping'))).toBe(0)
  })
})

describe('replay-2.lua: a write the ACL user may not do changes nothing', () => {
  it.each([
    ['XDEL on the dead-letter stream', '-xdel', 'xdel', deadLetterKey, true],
    ['XADD on the topic', '-xadd', 'xadd', (topic: string) => topic, true],
    ['XADD on the replay stream', '-xadd', 'xadd', (topic: string) => replayKey(topic, 'billing'), false],
    ['XGROUP CREATE on the replay stream', '-xgroup|create', 'xgroup|create', (topic: string) => replayKey(topic, 'billing'), false],
  ])('without %s (a 20,000-field entry)', async (_title, rule, command, keyOf, toTopic) => {
    const user = `lua-replay${rule}`
    await redis.call('ACL', 'SETUSER', user, 'reset', 'on', '>pw', '~*', '+@all', rule)
    const client = await context.server.client({username: user, password: 'pw'})
    try {
      const fields = wideFields(40_000)
      const {topic, dlq, dlqId} = await deadLettered(fields)
      const [[, before]] = (await redis.xrangeBuffer(dlq, '-', '+')) as [[Buffer, Buffer[]]]
      const plan = await planSelection(client, {key: deadLetterKey(topic), selection: buildSelection({topic}, Date.now())})
      const error = await replayPlan(client, plan, {topic, toTopic}).then(
        () => undefined,
        (rejection: unknown) => rejection,
      )
      expect(String(error)).toContain(`NOPERM this user has no permissions to run the '${command}' command on key '${keyOf(topic)}' (checked before replaying: nothing was changed)`)
      const after = (await redis.xrangeBuffer(dlq, '-', '+')) as Array<[Buffer, Buffer[]]>
      expect(after.map(([id]) => String(id))).toEqual([dlqId])
      expect(sameBytes(after[0]?.[1] ?? [], before)).toBe(true)
      expect(await redis.exists(topic)).toBe(0)
      expect(await redis.exists(replayKey(topic, 'billing'))).toBe(0)
    } finally {
      client.disconnect()
    }
  })
})
