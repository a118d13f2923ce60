import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {JsonError} from '../../src/base-command.js'
import type {GroupCreateResult} from '../../src/core/groups/create.js'
import type {GroupDeleteResult} from '../../src/core/groups/delete.js'
import type {GroupListRow} from '../../src/core/groups/list.js'
import type {SeekResult} from '../../src/core/groups/seek.js'
import {groupStateKeys, membersKey, replayKey, retryDueKey, retryKey, takeoverKey} from '../../src/core/keys.js'
import {timeReplyMs} from '../../src/core/redis/redis-time.js'
import {inTerminal, jsonOf, runCli, type CliResult} from '../helpers/cli.js'
import {createPartitionedTopic, publishKeyed} from '../helpers/partitioned.js'
import {readLog, RECORDER} from '../helpers/recorder.js'
import {TEST_TARGET, useTestRedis} from '../helpers/test-redis.js'

/**
 * `qctl group list|create|seek|delete` through the built CLI, on plain and partitioned topics (and,
 * listed in vitest.config.ts ON_A_CLUSTER_TOO, on a 3-primary Redis Cluster): every flag, every
 * refusal, and the exactness of the lag Redis reports after a create or a seek.
 */

const context = useTestRedis()
let dir: string
let counter = 0
const unique = (name: string): string => `group.${name}-${++counter}`

const qctl = async (...args: string[]): Promise<CliResult> => runCli([...args, '-u', context.server.url])
const json = async <T>(...args: string[]): Promise<T> => {
  const result = await qctl(...args, '--json')
  expect(result.code, `exit ${result.code}: ${result.stdout}\n${result.stderr}`).toBe(0)
  return jsonOf<T>(result)
}
const errorOf = (result: CliResult): JsonError['error'] => jsonOf<JsonError>(result).error

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-group-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

/** Add `count` entries to a stream (`ids`: explicit IDs), returning their IDs. */
async function add(stream: string, count: number, ids?: string[]): Promise<string[]> {
  const added: string[] = []
  for (let i = 0; i < count; i++) added.push((await context.redis.xadd(stream, ids?.[i] ?? '*', 'data', JSON.stringify({i}))) as string)
  return added
}

type Info = Record<string, unknown>
const infoObject = (row: unknown[]): Info => Object.fromEntries(Array.from({length: row.length / 2}, (_, i) => [String(row[2 * i]), row[2 * i + 1]]))

/** A group as XINFO GROUPS reports it (undefined when the stream or the group does not exist). */
async function groupInfo(stream: string, group: string): Promise<Info | undefined> {
  const rows = (await context.redis.call('XINFO', 'GROUPS', stream).catch(() => [])) as unknown[][]
  return rows.map(infoObject).find((row) => row.name === group)
}

/** Entries of the stream after `id`, counted the plain way. */
const entriesAfter = async (stream: string, id: string): Promise<number> => (await context.redis.xrange(stream, `(${id}`, '+')).length

/** A time on Redis's clock later than every entry added so far (entries added from now on are at or after it). */
async function redisNow(): Promise<number> {
  const start = timeReplyMs(await context.redis.time())
  for (;;) {
    const now = timeReplyMs(await context.redis.time())
    if (now > start) return now
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

/** Read `count` entries as a consumer of another program (not a qctl worker): they become its pending entries. */
const readAs = async (stream: string, group: string, consumer: string, count: number): Promise<void> => {
  await context.redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')
}

describe('qctl group list', () => {
  it('lists each group of a topic: lag, pending, consumers live/total, last-delivered ID (--json and the table)', async () => {
    const topic = unique('list')
    const ids = await add(topic, 10)
    await context.redis.xgroup('CREATE', topic, 'billing', '0')
    await context.redis.xgroup('CREATE', topic, 'audit', '$')
    await readAs(topic, 'billing', 'other-app', 4)
    await context.redis.xack(topic, 'billing', ids[0] as string)
    await context.redis.xgroup('CREATECONSUMER', topic, 'billing', 'idle-one')
    const none = unique('nogroup')
    await add(none, 2)
    const rows = await json<GroupListRow[]>('group', 'list', topic, none)
    expect(rows).toEqual([
      {topic, partition: null, partitions: 1, group: 'audit', groupExists: true, length: 10, lag: 0, lagSource: 'redis', pending: 0, consumers: 0, liveConsumers: 0, lastDeliveredId: ids[9], entriesRead: null, replayed: 0, node: rows[0]?.node ?? null},
      {topic, partition: null, partitions: 1, group: 'billing', groupExists: true, length: 10, lag: 6, lagSource: 'redis', pending: 3, consumers: 2, liveConsumers: 2, lastDeliveredId: ids[3], entriesRead: 4, replayed: 0, node: rows[1]?.node ?? null},
    ])
    // On a Redis Cluster each row names the primary that owns the topic.
    expect(rows.map((row) => row.node !== null)).toEqual([TEST_TARGET === 'cluster', TEST_TARGET === 'cluster'])
    const table = await qctl('group', 'list', topic)
    expect(table.code).toBe(0)
    expect(table.stdout.split('\n')[0]).toMatch(/^TOPIC\s+GROUP\s+LAG\s+PENDING\s+CONSUMERS\s+LAST DELIVERED/)
    expect(table.stdout).toMatch(new RegExp(`${topic.replace('.', '\\.')}\\s+billing\\s+6\\s+3\\s+2/2\\s+${ids[3]}`))
  })

  it('a partitioned topic: one row over its partitions, or with --partitions one per partition with its own position', async () => {
    const created = await createPartitionedTopic(context.server.url, 'group.plist', 3)
    const topic = created.topic
    await publishKeyed(context.server.url, dir, topic, 30, 9)
    const streams = created.partitions.map((partition) => partition.stream)
    for (const stream of streams) await context.redis.xgroup('CREATE', stream, 'billing', '0')
    await context.redis.xgroup('CREATE', streams[0] as string, 'only-p0', '$')
    await readAs(streams[1] as string, 'billing', 'c1', 2)
    const [all] = await json<GroupListRow[]>('group', 'list', topic)
    const lengths = await Promise.all(streams.map(async (stream) => context.redis.xlen(stream)))
    expect(all).toMatchObject({topic, partition: null, partitions: 3, group: 'billing', lag: 28, pending: 2, consumers: 1, liveConsumers: 1})
    const perPartition = await json<GroupListRow[]>('group', 'list', topic, '--partitions')
    const billing = perPartition.filter((row) => row.group === 'billing')
    expect(billing.map((row) => [row.partition, row.length, row.lag])).toEqual([[0, lengths[0], lengths[0]], [1, lengths[1], (lengths[1] as number) - 2], [2, lengths[2], lengths[2]]])
    const [, second] = (await context.redis.xrange(streams[1] as string, '-', '+', 'COUNT', 2)) as Array<[string, string[]]>
    expect(billing[1]?.lastDeliveredId).toBe(second?.[0])
    // A group on one partition only: its other partitions say so.
    const onlyP0 = perPartition.filter((row) => row.group === 'only-p0')
    expect(onlyP0.map((row) => [row.partition, row.groupExists, row.lag])).toEqual([[0, true, 0], [1, false, null], [2, false, null]])
    const table = await qctl('group', 'list', topic, '--partitions')
    expect(table.stdout).toContain('only-p0 (missing)')
  })

  it('without TOPIC lists every topic\'s groups (--match filters); a missing TOPIC exits 6, a key that is not a stream 2', async () => {
    const prefix = unique('match')
    await add(`${prefix}.a`, 1)
    await add(`${prefix}.b`, 1)
    await context.redis.xgroup('CREATE', `${prefix}.a`, 'g', '0')
    await context.redis.xgroup('CREATE', `${prefix}.b`, 'g', '0')
    const rows = await json<GroupListRow[]>('group', 'list', '--match', `${prefix}.*`)
    expect(rows.map((row) => row.topic)).toEqual([`${prefix}.a`, `${prefix}.b`])
    const everything = await json<GroupListRow[]>('group', 'list')
    expect(everything.filter((row) => row.topic.startsWith(prefix))).toHaveLength(2)
    const missing = await qctl('group', 'list', unique('nothing'))
    expect(missing.code).toBe(6)
    expect(missing.stderr).toContain('does not exist')
    const notStream = unique('string')
    await context.redis.set(notStream, 'x')
    const wrong = await qctl('group', 'list', notStream)
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain(`topic "${notStream}" is a string, not a stream`)
  })
})

describe('qctl group create', () => {
  it('--from start: the group at 0-0 with an exact lag, and its replay stream group as qctl work makes it; exit 9 when it exists', async () => {
    const topic = unique('create')
    await add(topic, 7)
    const result = await json<GroupCreateResult>('group', 'create', topic, 'billing', '--from', 'start')
    expect(result).toMatchObject({topic, group: 'billing', partitioned: false, from: 'start', created: true, replayGroupsCreated: 1, dryRun: false})
    expect(result.partitions).toEqual([{partition: null, stream: topic, existed: false, created: true, position: '0-0', entriesRead: 0, lag: 7}])
    expect(await groupInfo(topic, 'billing')).toMatchObject({'last-delivered-id': '0-0', 'entries-read': 0, lag: 7})
    expect(await groupInfo(replayKey(topic, 'billing'), 'billing')).toMatchObject({'last-delivered-id': '0-0', lag: 0})

    const again = await qctl('group', 'create', topic, 'billing', '--from', 'latest')
    expect(again.code).toBe(9)
    expect(again.stderr).toContain(`Error: group "billing" already exists on topic "${topic}"`)
    const json9 = await qctl('group', 'create', topic, 'billing', '--from', 'latest', '--json')
    expect(errorOf(json9)).toMatchObject({code: 'ALREADY_EXISTS', exitCode: 9})
    const asked = await json<GroupCreateResult>('group', 'create', topic, 'billing', '--from', 'latest', '--if-not-exists')
    expect(asked).toMatchObject({created: false, partitions: [{existed: true, created: false, position: '0-0'}]})
    expect(await groupInfo(topic, 'billing')).toMatchObject({'last-delivered-id': '0-0'})
  })

  it('--from latest, an ID and a time: Redis reports the lag as the true count of entries after the position', async () => {
    const topic = unique('create-at')
    const first = await add(topic, 5)
    const at = await redisNow()
    const second = await add(topic, 4)
    await json('group', 'create', topic, 'latest', '--from', 'latest')
    await json('group', 'create', topic, 'by-id', '--from', first[2] as string)
    await json('group', 'create', topic, 'by-time', '--from', new Date(at).toISOString())
    await json('group', 'create', topic, 'by-ms', '--from', String(at))
    expect(await groupInfo(topic, 'latest')).toMatchObject({'last-delivered-id': second[3], lag: 0})
    expect(await groupInfo(topic, 'by-id')).toMatchObject({'last-delivered-id': first[2], lag: 6})
    // A time: after the last entry added before it, so each entry added at or after it is delivered.
    expect(await groupInfo(topic, 'by-time')).toMatchObject({'last-delivered-id': first[4], lag: 4})
    expect(await groupInfo(topic, 'by-ms')).toMatchObject({'last-delivered-id': first[4], lag: 4})
    await add(topic, 2)
    expect(await groupInfo(topic, 'latest')).toMatchObject({lag: 2})
    expect(await groupInfo(topic, 'by-id')).toMatchObject({lag: 8})
  })

  it('refuses a topic that does not exist (6), a key that is not a stream (2), an ID past the end, a time in the future, a bad --from (2)', async () => {
    const missing = await qctl('group', 'create', unique('missing'), 'g', '--from', 'start')
    expect(missing.code).toBe(6)
    const notStream = unique('hash')
    await context.redis.hset(notStream, 'a', '1')
    const wrong = await qctl('group', 'create', notStream, 'g', '--from', 'start')
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain(`topic "${notStream}" is a hash, not a stream`)
    const topic = unique('refusals')
    const [id] = await add(topic, 1)
    const past = await qctl('group', 'create', topic, 'g', '--from', '99999999999999-0')
    expect(past.code).toBe(2)
    expect(past.stderr).toContain(`is past the last entry of "${topic}" (its last ID is ${id})`)
    const future = await qctl('group', 'create', topic, 'g', '--from', new Date(Date.now() + 86_400_000).toISOString())
    expect(future.code).toBe(2)
    expect(future.stderr).toContain('is in the future')
    const bare = await qctl('group', 'create', topic, 'g', '--from', '15m')
    expect(bare.code).toBe(2)
    expect(bare.stderr).toContain('did you mean 15m-ago?')
    const noFrom = await qctl('group', 'create', topic, 'g')
    expect(noFrom.code).toBe(2)
    expect(await groupInfo(topic, 'g')).toBeUndefined()
  })

  it('--dry-run says where the group would be made and makes nothing', async () => {
    const topic = unique('create-dry')
    await add(topic, 3)
    const plan = await json<GroupCreateResult>('group', 'create', topic, 'g', '--from', 'start', '--dry-run')
    expect(plan).toMatchObject({dryRun: true, created: true, partitions: [{position: '0-0', lag: 3}]})
    expect(await groupInfo(topic, 'g')).toBeUndefined()
    expect(await context.redis.exists(replayKey(topic, 'g'))).toBe(0)
    const human = await qctl('group', 'create', topic, 'g', '--from', 'start', '--dry-run')
    expect(human.stdout).toContain(`dry run: would make group g of ${topic} from start: 3 entries to deliver`)
  })

  it('a partitioned topic: the group on every partition (streams made where missing), at a time per partition; an ID is refused', async () => {
    const created = await createPartitionedTopic(context.server.url, 'group.pcreate', 4)
    const topic = created.topic
    const streams = created.partitions.map((partition) => partition.stream)
    // Nothing published yet: every partition's stream is made with the group.
    const empty = await json<GroupCreateResult>('group', 'create', topic, 'early', '--from', 'latest')
    expect(empty.partitions.map((partition) => [partition.partition, partition.created, partition.position])).toEqual([0, 1, 2, 3].map((partition) => [partition, true, '0-0']))
    for (const stream of streams) expect(await groupInfo(stream, 'early')).toMatchObject({'last-delivered-id': '0-0', lag: 0})
    expect(empty.replayGroupsCreated).toBe(4)

    await publishKeyed(context.server.url, dir, topic, 40, 20)
    const at = await redisNow()
    await publishKeyed(context.server.url, dir, topic, 40, 20, 40)
    const result = await json<GroupCreateResult>('group', 'create', topic, 'audit', '--from', new Date(at).toISOString())
    expect(result.partitioned).toBe(true)
    for (const [index, stream] of streams.entries()) {
      const newer = (await context.redis.xrange(stream, `${at}-0`, '+')).length
      expect(await groupInfo(stream, 'audit'), stream).toMatchObject({lag: newer})
      expect(result.partitions[index]?.lag).toBe(newer)
    }
    expect(result.partitions.reduce((sum, partition) => sum + (partition.lag ?? 0), 0)).toBe(40)
    const agoResult = await json<GroupCreateResult>('group', 'create', topic, 'recent', '--from', '1h-ago')
    expect(agoResult.partitions.reduce((sum, partition) => sum + (partition.lag ?? 0), 0)).toBe(80)

    const byId = await qctl('group', 'create', topic, 'by-id', '--from', '1-0')
    expect(byId.code).toBe(2)
    expect(byId.stderr).toContain('each partition of a partitioned topic has IDs of its own')
  })

  it('on some partitions only: exit 9 naming them; --if-not-exists makes it on the others and leaves those', async () => {
    const created = await createPartitionedTopic(context.server.url, 'group.partial', 3)
    const topic = created.topic
    await publishKeyed(context.server.url, dir, topic, 12, 6)
    const streams = created.partitions.map((partition) => partition.stream)
    await context.redis.xgroup('CREATE', streams[1] as string, 'billing', '$')
    const refused = await qctl('group', 'create', topic, 'billing', '--from', 'start')
    expect(refused.code).toBe(9)
    expect(refused.stderr).toContain(`group "billing" already exists on topic "${topic}" on partitions 1 of 3`)
    expect(errorOf(await qctl('group', 'create', topic, 'billing', '--from', 'start', '--json')).details).toEqual({partitions: [1]})
    const made = await json<GroupCreateResult>('group', 'create', topic, 'billing', '--from', 'start', '--if-not-exists')
    expect(made.partitions.map((partition) => [partition.created, partition.existed])).toEqual([[true, false], [false, true], [true, false]])
    expect(await groupInfo(streams[1] as string, 'billing')).toMatchObject({lag: 0})
    expect(await groupInfo(streams[0] as string, 'billing')).toMatchObject({lag: await context.redis.xlen(streams[0] as string)})
  })

  it('a worker started later finds the group (and its replay group) as its own: it reads from where the group was made', async () => {
    const topic = unique('create-work')
    await add(topic, 3)
    await json('group', 'create', topic, 'billing', '--from', 'latest')
    await add(topic, 2)
    const log = join(dir, `${topic}.log`)
    const worked = await runCli(['work', RECORDER, '-t', topic, '-g', 'billing', '--until-empty', '--from', 'start', '-u', context.server.url], {env: {QCTL_TEST_LOG: log}})
    expect(worked.code, worked.stderr).toBe(0)
    expect(readLog(log).filter((line) => line.phase === 'done')).toHaveLength(2)
    expect(worked.stderr).not.toContain('replay stream')
  })
})

describe('qctl group seek', () => {
  /** A topic of `count` entries with group g at 0-0. */
  async function topicWithGroup(name: string, count: number, ids?: string[]): Promise<{topic: string; ids: string[]}> {
    const topic = unique(name)
    const added = await add(topic, count, ids)
    await context.redis.xgroup('CREATE', topic, 'g', '0')
    return {topic, ids: added}
  }

  it('--to an ID, start, end, a time and a duration ago: XINFO GROUPS lag after each equals the entries after the new position', async () => {
    const {topic, ids} = await topicWithGroup('seek', 12)
    const at = await redisNow()
    const later = await add(topic, 3)
    for (const [to, expected] of [
      [ids[4], ids[4]],
      ['start', '0-0'],
      ['end', later[2]],
      [new Date(at).toISOString(), ids[11]],
      ['1h-ago', '0-0'],
      [ids[0], ids[0]],
    ] as const) {
      const result = await json<SeekResult>('group', 'seek', topic, 'g', '--to', to as string, '--yes')
      expect(result.partitions[0]?.to, to).toBe(expected)
      const info = await groupInfo(topic, 'g')
      expect(info, to).toMatchObject({'last-delivered-id': expected, lag: await entriesAfter(topic, expected as string)})
      expect(result.partitions[0]?.lagAfter).toBe(info?.lag)
      expect(result.partitions[0]?.entriesRead).toBe(info?.['entries-read'])
    }
  })

  it('an ID before the first entry delivers every entry; one past the end, a time in the future and a bare duration are refused (2)', async () => {
    const {topic} = await topicWithGroup('seek-edges', 4, ['5-1', '6-0', '7-0', '8-0'])
    await context.redis.xtrim(topic, 'MINID', '6-0')
    const before = await json<SeekResult>('group', 'seek', topic, 'g', '--to', '1-0')
    expect(await groupInfo(topic, 'g')).toMatchObject({'last-delivered-id': '1-0', 'entries-read': 1, lag: 3})
    expect(before.partitions[0]?.lagAfter).toBe(3)
    const past = await qctl('group', 'seek', topic, 'g', '--to', '8-1', '--yes')
    expect(past.code).toBe(2)
    expect(past.stderr).toContain(`8-1 is past the last entry of "${topic}" (its last ID is 8-0)`)
    const tomorrow = await qctl('group', 'seek', topic, 'g', '--to', String(Date.now() + 86_400_000), '--yes')
    expect(tomorrow.code).toBe(2)
    expect(tomorrow.stderr).toContain('is in the future')
    const bare = await qctl('group', 'seek', topic, 'g', '--to', '15m', '--yes')
    expect(bare.code).toBe(2)
    expect(bare.stderr).toContain('invalid --to "15m" (a duration says no direction: did you mean 15m-ago?)')
    expect(await groupInfo(topic, 'g')).toMatchObject({'last-delivered-id': '1-0'})
  })

  it('a stream with deleted entries: lag exact where Redis can know it, null (qctl counts it) while a deleted entry lies ahead, exact again when the next read is past it', async () => {
    const ids = Array.from({length: 10}, (_, i) => `${i + 1}-0`)
    const {topic} = await topicWithGroup('seek-deleted', 10, ids)
    await context.redis.xdel(topic, '3-0', '4-0')
    // After the deleted entries: Redis reports the lag, exactly.
    await json('group', 'seek', topic, 'g', '--to', '5-0', '--yes')
    expect(await groupInfo(topic, 'g')).toMatchObject({'entries-read': 5, lag: 5})
    // Before them: Redis cannot know how many of the entries added after were deleted (lag null);
    // the counter is set as if they had never been added, and qctl counts the lag itself.
    const back = await json<SeekResult>('group', 'seek', topic, 'g', '--to', '2-0')
    expect(back.partitions[0]).toMatchObject({lagAfter: 6, redelivered: 1})
    expect(await groupInfo(topic, 'g')).toMatchObject({'entries-read': 4, lag: null})
    const [row] = await json<GroupListRow[]>('group', 'list', topic)
    expect(row).toMatchObject({lag: 6, lagSource: 'counted'})
    // The next read is past the deleted entries: the counter counts on from there, and Redis's lag is exact again.
    await readAs(topic, 'g', 'c', 1)
    expect(await groupInfo(topic, 'g')).toMatchObject({'last-delivered-id': '5-0', lag: 5})
  })

  it('--dry-run prints per partition the old and new position and what is delivered again or skipped, and changes nothing', async () => {
    const {topic, ids} = await topicWithGroup('seek-dry', 10)
    await json('group', 'seek', topic, 'g', '--to', ids[5] as string, '--yes')
    const before = await groupInfo(topic, 'g')
    const forward = await json<SeekResult>('group', 'seek', topic, 'g', '--to', 'end', '--dry-run')
    expect(forward).toMatchObject({dryRun: true, changed: false, skipped: 4, redelivered: 0, partitions: [{from: ids[5], to: ids[9], skipped: 4, redelivered: 0, lagBefore: 4, lagAfter: 0}]})
    const back = await qctl('group', 'seek', topic, 'g', '--to', ids[1] as string, '--dry-run')
    expect(back.code).toBe(0)
    expect(back.stdout).toContain(`dry run: group g of ${topic} would move to ${ids[1]}: 4 entries delivered again, 0 skipped; nothing was pending`)
    expect(back.stdout).toMatch(new RegExp(`${ids[5]}\\s+${ids[1]}\\s+4\\s+0\\s+8\\s+0`))
    expect(await groupInfo(topic, 'g')).toEqual(before)
  })

  it('refuses while a consumer of another program is live (9); --force moves it, keeping its pending entries', async () => {
    const {topic} = await topicWithGroup('seek-live', 6)
    await readAs(topic, 'g', 'other-app', 3)
    const refused = await qctl('group', 'seek', topic, 'g', '--to', 'start')
    expect(refused.code).toBe(9)
    expect(refused.stderr).toContain(`refusing to move group "g" of "${topic}": a consumer was seen within the last minute (other-app)`)
    expect(errorOf(await qctl('group', 'seek', topic, 'g', '--to', 'start', '--json'))).toMatchObject({code: 'CONFLICT', details: {liveConsumers: [{name: 'other-app', pending: 3}]}})
    const forced = await qctl('group', 'seek', topic, 'g', '--to', 'start', '--force')
    expect(forced.code, forced.stderr).toBe(0)
    expect(forced.stdout).toContain('3 pending entries kept: they stay pending and will still be acknowledged or retried')
    expect(await groupInfo(topic, 'g')).toMatchObject({'last-delivered-id': '0-0', pending: 3, lag: 6})
  })

  it('--drop-pending acknowledges the pending entries and removes their retry state, saying how many', async () => {
    const {topic, ids} = await topicWithGroup('seek-drop', 6)
    await readAs(topic, 'g', 'crashed', 4)
    // Retry state as a worker leaves it: attempt records, a parked retry, a takeover mark; one for an entry not pending.
    await context.redis.hset(retryKey(topic, 'g'), ids[0] as string, '1:1', `${ids[0]}+`, 'x', ids[5] as string, '1:1')
    await context.redis.zadd(retryDueKey(topic, 'g'), Date.now() + 60_000, ids[1] as string)
    await context.redis.hset(takeoverKey(topic, 'g'), ids[2] as string, 'crashed')
    const skipping = await qctl('group', 'seek', topic, 'g', '--to', 'end', '--drop-pending', '--force')
    expect(skipping.code).toBe(2)
    expect(skipping.stderr).toContain('refusing to move the group without confirmation: no terminal to ask on; pass --yes')
    const result = await json<SeekResult>('group', 'seek', topic, 'g', '--to', ids[3] as string, '--drop-pending', '--force', '--yes')
    expect(result).toMatchObject({pending: 4, pendingDropped: 4, partitions: [{pendingDropped: 4}]})
    expect(await context.redis.xpending(topic, 'g')).toEqual([0, null, null, null])
    expect(await context.redis.hgetall(retryKey(topic, 'g'))).toEqual({[ids[5] as string]: '1:1'})
    expect(await context.redis.zcard(retryDueKey(topic, 'g'))).toBe(0)
    expect(await context.redis.exists(takeoverKey(topic, 'g'))).toBe(0)
    await readAs(topic, 'g', 'crashed', 1)
    const human = await qctl('group', 'seek', topic, 'g', '--to', 'start', '--drop-pending', '--force', '--yes')
    expect(human.stdout).toContain('1 pending entry dropped (acknowledged, their retry state removed)')
  })

  it('skipping entries needs --yes off a terminal (2), delivering again does not; on a terminal it asks', async () => {
    const {topic, ids} = await topicWithGroup('seek-consent', 5)
    const refused = await qctl('group', 'seek', topic, 'g', '--to', 'end')
    expect(refused.code).toBe(2)
    expect(await groupInfo(topic, 'g')).toMatchObject({'last-delivered-id': '0-0'})
    const no = await inTerminal(['group', 'seek', topic, 'g', '--to', ids[2] as string, '-u', context.server.url], 'n\n')
    expect(no.output).toContain(`Move group g of ${topic}: skip 3 entries not delivered yet?`)
    expect(no.output).toContain('cancelled: nothing changed')
    expect(no.code).toBe(0)
    expect(await groupInfo(topic, 'g')).toMatchObject({'last-delivered-id': '0-0'})
    const yes = await inTerminal(['group', 'seek', topic, 'g', '--to', ids[2] as string, '-u', context.server.url], 'y\n')
    expect(yes.code).toBe(0)
    expect(await groupInfo(topic, 'g')).toMatchObject({'last-delivered-id': ids[2], lag: 2})
    // Back to the start: entries are delivered again, nothing is lost: no question.
    const back = await qctl('group', 'seek', topic, 'g', '--to', 'start')
    expect(back.code).toBe(0)
    expect(await groupInfo(topic, 'g')).toMatchObject({'last-delivered-id': '0-0', lag: 5})    // -y is --yes.
    expect((await qctl('group', 'seek', topic, 'g', '--to', 'end', '-y')).code).toBe(0)
    expect(await groupInfo(topic, 'g')).toMatchObject({'last-delivered-id': ids[4], lag: 0})
  })

  it('--to-group copies another group\'s position; refused for a missing OTHER (6), itself, both or neither of --to and --to-group, an OTHER past the end (2)', async () => {
    const {topic, ids} = await topicWithGroup('seek-to-group', 8)
    await context.redis.xgroup('CREATE', topic, 'other', ids[5] as string)
    const copied = await json<SeekResult>('group', 'seek', topic, 'g', '--to-group', 'other', '--yes')
    expect(copied).toMatchObject({toGroup: 'other', to: null, skipped: 6})
    expect(await groupInfo(topic, 'g')).toMatchObject({'last-delivered-id': ids[5], lag: 2})
    const missing = await qctl('group', 'seek', topic, 'g', '--to-group', 'nobody')
    expect(missing.code).toBe(6)
    expect(missing.stderr).toContain(`group "nobody" does not exist on topic "${topic}": there is no position to copy`)
    expect((await qctl('group', 'seek', topic, 'g', '--to-group', 'g')).code).toBe(2)
    expect((await qctl('group', 'seek', topic, 'g', '--to', 'start', '--to-group', 'other')).code).toBe(2)
    expect((await qctl('group', 'seek', topic, 'g')).code).toBe(2)
    // OTHER placed past the stream's last entry (XGROUP CREATE takes any ID): copying it would skip what comes until then.
    await context.redis.xgroup('CREATE', topic, 'ahead', '99999999999999-0')
    const past = await qctl('group', 'seek', topic, 'g', '--to-group', 'ahead', '--yes')
    expect(past.code).toBe(2)
    expect(past.stderr).toBe(
      `Error: --to-group: 99999999999999-0 is past the last entry of "${topic}" (its last ID is ${ids[7]}): the group would skip every entry added until Redis's clock passes it\n` +
        'Hint: use --to end to skip everything added so far\n',
    )
    expect(await groupInfo(topic, 'g')).toMatchObject({'last-delivered-id': ids[5]})
  })

  it('a group or topic that does not exist exits 6, a key that is not a stream 2', async () => {
    const {topic} = await topicWithGroup('seek-missing', 1)
    const group = await qctl('group', 'seek', topic, 'nobody', '--to', 'start')
    expect(group.code).toBe(6)
    expect(group.stderr).toContain(`group "nobody" does not exist on topic "${topic}"`)
    expect((await qctl('group', 'seek', unique('none'), 'g', '--to', 'start')).code).toBe(6)
    const list = unique('list-key')
    await context.redis.rpush(list, 'x')
    const wrong = await qctl('group', 'seek', list, 'g', '--to', 'start')
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain('is a list, not a stream')
  })

  it('a partitioned topic: per partition, to a time or a duration ago; --to-group per partition, refused where OTHER is missing; an ID refused', async () => {
    const created = await createPartitionedTopic(context.server.url, 'group.pseek', 3)
    const topic = created.topic
    const streams = created.partitions.map((partition) => partition.stream)
    await publishKeyed(context.server.url, dir, topic, 30, 15)
    const at = await redisNow()
    await publishKeyed(context.server.url, dir, topic, 30, 15, 30)
    await json('group', 'create', topic, 'g', '--from', 'start')
    const result = await json<SeekResult>('group', 'seek', topic, 'g', '--to', new Date(at).toISOString(), '--yes')
    expect(result).toMatchObject({partitioned: true, skipped: 30})
    for (const [index, stream] of streams.entries()) {
      const newer = (await context.redis.xrange(stream, `${at}-0`, '+')).length
      expect(await groupInfo(stream, 'g'), stream).toMatchObject({lag: newer})
      expect(result.partitions[index]).toMatchObject({partition: index, stream, lagAfter: newer})
    }
    const ago = await json<SeekResult>('group', 'seek', topic, 'g', '--to', '1d-ago')
    expect(ago.redelivered).toBe(30)
    const byId = await qctl('group', 'seek', topic, 'g', '--to', '1-0', '--yes')
    expect(byId.code).toBe(2)
    // --to-group: each partition gets OTHER's position there.
    await json('group', 'create', topic, 'other', '--from', 'latest')
    await json('group', 'seek', topic, 'g', '--to-group', 'other', '--yes')
    for (const stream of streams) expect((await groupInfo(stream, 'g'))?.['last-delivered-id']).toBe((await groupInfo(stream, 'other'))?.['last-delivered-id'])
    // A group missing on a partition: the others are moved, that one is named and left alone.
    await context.redis.xgroup('DESTROY', streams[1] as string, 'g')
    const partial = await qctl('group', 'seek', topic, 'g', '--to', 'start', '--json')
    expect(partial.code).toBe(0)
    expect(partial.stderr).toContain(`warning: group "g" does not exist on partitions 1 of "${topic}": they are left as they are`)
    expect(jsonOf<SeekResult>(partial).partitions.map((partition) => [partition.groupExists, partition.to])).toEqual([[true, '0-0'], [false, null], [true, '0-0']])
    expect(await groupInfo(streams[1] as string, 'g')).toBeUndefined()
    await context.redis.xgroup('DESTROY', streams[2] as string, 'other')
    const missing = await qctl('group', 'seek', topic, 'g', '--to-group', 'other')
    expect(missing.code).toBe(6)
    expect(missing.stderr).toContain(`group "other" does not exist on topic "${topic}" on partitions 2 of 3`)
  })

  it('after a seek back, a qctl worker handles the entries again', async () => {
    const {topic} = await topicWithGroup('seek-work', 4)
    const run = async (log: string): Promise<number> => {
      const worked = await runCli(['work', RECORDER, '-t', topic, '-g', 'g', '--until-empty', '-u', context.server.url], {env: {QCTL_TEST_LOG: log}})
      expect(worked.code, worked.stderr).toBe(0)
      return readLog(log).filter((line) => line.phase === 'done').length
    }
    expect(await run(join(dir, `${topic}-1.log`))).toBe(4)
    expect(await groupInfo(topic, 'g')).toMatchObject({lag: 0, pending: 0})
    // The worker's consumer left on exit (or is idle): nothing live refuses the seek.
    await json('group', 'seek', topic, 'g', '--to', 'start')
    expect(await run(join(dir, `${topic}-2.log`))).toBe(4)
  })
})

describe('qctl group delete', () => {
  /** Every key qctl keeps for a group beside `stream`, written as workers leave them. */
  async function seedState(stream: string, group: string): Promise<string[]> {
    const keys = groupStateKeys(stream, group)
    for (const key of keys) {
      if (key === replayKey(stream, group)) await context.redis.xadd(key, '*', 'data', '{}')
      else if (key.includes(':due:') || key.includes(':replay-due:')) await context.redis.zadd(key, 1, '1-0')
      else if (key.includes(':lease:')) await context.redis.set(key, '1:w')
      else if (key.includes(':lease-token:')) await context.redis.set(key, '3')
      else await context.redis.hset(key, 'f', 'v')
    }
    return keys
  }

  it('deletes the group and every key of it (--force for the replayed entry it holds), leaving the topic and other groups', async () => {
    const topic = unique('delete')
    await add(topic, 3)
    await context.redis.xgroup('CREATE', topic, 'billing', '0')
    await context.redis.xgroup('CREATE', topic, 'shipping', '0')
    const keys = await seedState(topic, 'billing')
    await context.redis.zadd(membersKey(topic, 'billing'), Date.now() + 10_000, 'w')
    const other = await seedState(topic, 'shipping')
    const plan = await json<GroupDeleteResult>('group', 'delete', topic, 'billing', '--dry-run')
    expect(plan).toMatchObject({dryRun: true, replayEntries: 1, parked: 2, heldKeys: 1, pending: 0})
    expect([...plan.keys].sort()).toEqual([...keys, membersKey(topic, 'billing')].sort())
    expect(await groupInfo(topic, 'billing')).toBeDefined()
    const refused = await qctl('group', 'delete', topic, 'billing', '--yes')
    expect(refused.code).toBe(9)
    expect(refused.stderr).toContain('--force would lose 2 parked retries in the due set; 1 entry of its replay stream (dead letters replayed to it and not handled yet: they are no longer in the dead-letter stream); 1 held key (a new group of that name would not hold them)')
    const result = await json<GroupDeleteResult>('group', 'delete', topic, 'billing', '--force', '--yes')
    expect(result).toMatchObject({groupsDestroyed: 1, keysDeleted: keys.length + 1, force: true})
    expect(await groupInfo(topic, 'billing')).toBeUndefined()
    for (const key of [...keys, membersKey(topic, 'billing')]) expect(await context.redis.exists(key), key).toBe(0)
    for (const key of other) expect(await context.redis.exists(key), key).toBe(1)
    expect(await groupInfo(topic, 'shipping')).toBeDefined()
    expect(await context.redis.xlen(topic)).toBe(3)
  })

  it('refuses while the group has pending entries held by another program\'s consumer (9), saying what --force loses', async () => {
    const topic = unique('delete-pending')
    const ids = await add(topic, 5)
    await context.redis.xgroup('CREATE', topic, 'g', '0')
    await readAs(topic, 'g', 'other-app', 3)
    await context.redis.zadd(retryDueKey(topic, 'g'), 1, ids[0] as string)
    const refused = await qctl('group', 'delete', topic, 'g', '--yes', '--json')
    expect(refused.code).toBe(9)
    expect(errorOf(refused)).toMatchObject({code: 'CONFLICT', details: {pending: 3, parked: 1, replayEntries: 0}})
    expect(errorOf(refused).message).toContain('--force would lose 3 pending entries (delivered, not acknowledged: no worker of the group would retry them, 1 of them parked in the due set (retries waiting out their backoff)); 1 live consumer')
    expect(await groupInfo(topic, 'g')).toMatchObject({pending: 3})
    const dry = await qctl('group', 'delete', topic, 'g', '--dry-run')
    expect(dry.stdout).toContain('refused without --force, which would lose: 3 pending entries')
    const forced = await qctl('group', 'delete', topic, 'g', '--force', '--yes')
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain(`deleted group g of ${topic} and 1 key of its state; lost 3 pending entries`)
    expect(await groupInfo(topic, 'g')).toBeUndefined()
  })

  it('a partitioned topic: the group and its keys on every partition, and the topic\'s members set', async () => {
    const created = await createPartitionedTopic(context.server.url, 'group.pdelete', 3)
    const topic = created.topic
    const streams = created.partitions.map((partition) => partition.stream)
    await publishKeyed(context.server.url, dir, topic, 9, 9)
    await json('group', 'create', topic, 'billing', '--from', 'start')
    await json('group', 'create', topic, 'keep', '--from', 'start')
    const keys = (await Promise.all(streams.map(async (stream) => seedState(stream, 'billing')))).flat()
    await context.redis.zadd(membersKey(topic, 'billing'), 1, 'w')
    const result = await json<GroupDeleteResult>('group', 'delete', topic, 'billing', '--force', '--yes')
    expect(result).toMatchObject({partitioned: true, groupsDestroyed: 3})
    for (const stream of streams) {
      expect(await groupInfo(stream, 'billing')).toBeUndefined()
      expect(await groupInfo(stream, 'keep')).toBeDefined()
    }
    for (const key of [...keys, membersKey(topic, 'billing')]) expect(await context.redis.exists(key), key).toBe(0)
    const again = await qctl('group', 'delete', topic, 'billing', '--yes')
    expect(again.code).toBe(6)
  })

  it('a group destroyed by hand (XGROUP DESTROY) leaves its keys behind: delete removes them', async () => {
    const topic = unique('delete-leftovers')
    await add(topic, 2)
    await json('group', 'create', topic, 'g', '--from', 'start')
    await context.redis.hset(retryKey(topic, 'g'), '1-0', 'x')
    await context.redis.xgroup('DESTROY', topic, 'g')
    const result = await json<GroupDeleteResult>('group', 'delete', topic, 'g', '--yes')
    expect(result).toMatchObject({groupsDestroyed: 0, keysDeleted: 2, partitions: [{groupExists: false}]})
    expect(await context.redis.exists(retryKey(topic, 'g'), replayKey(topic, 'g'))).toBe(0)
  })

  it('needs --yes off a terminal (2, before connecting); on a terminal it asks; missing group or topic 6, not a stream 2', async () => {
    const topic = unique('delete-consent')
    await add(topic, 1)
    await context.redis.xgroup('CREATE', topic, 'g', '$')
    const noYes = await runCli(['group', 'delete', topic, 'g', '-u', 'redis://127.0.0.1:1'])
    expect(noYes.code).toBe(2)
    expect(noYes.stderr).toContain('refusing to delete the group without confirmation')
    const no = await inTerminal(['group', 'delete', topic, 'g', '-u', context.server.url], 'n\n')
    expect(no.output).toContain(`Delete group g of ${topic}?`)
    expect(no.output).toContain('cancelled: nothing deleted')
    expect(await groupInfo(topic, 'g')).toBeDefined()
    const yes = await inTerminal(['group', 'delete', topic, 'g', '-u', context.server.url], 'y\n')
    expect(yes.code).toBe(0)
    expect(await groupInfo(topic, 'g')).toBeUndefined()
    // -y is --yes.
    await context.redis.xgroup('CREATE', topic, 'g', '$')
    expect((await qctl('group', 'delete', topic, 'g', '-y')).code).toBe(0)
    expect(await groupInfo(topic, 'g')).toBeUndefined()
    expect((await qctl('group', 'delete', topic, 'g', '--yes')).code).toBe(6)
    expect((await qctl('group', 'delete', unique('none'), 'g', '--yes')).code).toBe(6)
    const set = unique('set-key')
    await context.redis.sadd(set, 'x')
    expect((await qctl('group', 'delete', set, 'g', '--yes')).code).toBe(2)
  })
})

describe('a group name with odd characters', () => {
  it('is created, listed (shown escaped), moved and deleted with its keys', async () => {
    const topic = unique('odd')
    const group = 'ops team {x} ✓ \u001b[31mred'
    await add(topic, 4)
    await json('group', 'create', topic, group, '--from', 'start')
    expect(await groupInfo(topic, group)).toMatchObject({lag: 4})
    const listed = await qctl('group', 'list', topic)
    expect(listed.stdout).not.toContain('\u001b')
    expect(listed.stdout).toContain('ops team {x} ✓ \\u001b[31mred')
    expect((await json<GroupListRow[]>('group', 'list', topic))[0]?.group).toBe(group)
    // A consumer of another program, named with an escape sequence: the refusal names it, escaped.
    await readAs(topic, group, 'w\u001b]0;pwned\u0007', 1)
    const refused = await qctl('group', 'seek', topic, group, '--to', 'end', '--yes')
    expect(refused.code).toBe(9)
    expect(refused.stderr).toContain('(w\\u001b]0;pwned\\u0007)')
    expect(refused.stderr).not.toMatch(/[\u001b\u0007]/)
    await json('group', 'seek', topic, group, '--to', 'end', '--yes', '--force', '--drop-pending')
    expect(await groupInfo(topic, group)).toMatchObject({lag: 0})
    // Nothing pending now, but its consumer is live: a delete is refused for that alone.
    const live = await qctl('group', 'delete', topic, group, '--yes')
    expect(live.code).toBe(9)
    expect(live.stderr).toContain('--force would lose 1 live consumer (seen within the last minute')
    await json('group', 'delete', topic, group, '--yes', '--force')
    expect(await groupInfo(topic, group)).toBeUndefined()
    expect(await context.redis.exists(replayKey(topic, group))).toBe(0)
  })
})
