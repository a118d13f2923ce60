import {describe, expect, it} from 'vitest'

import type {JsonError} from '../../src/base-command.js'
import type {DlqListJson, DlqShowJson} from '../../src/core/dlq/list.js'
import type {DlqPurgeResult} from '../../src/core/dlq/scope-purge.js'
import type {DlqReplayResult} from '../../src/core/dlq/scope-replay.js'
import {deadLetterKey, replayKey} from '../../src/core/keys.js'
import type {TopicDescription} from '../../src/core/topics/describe.js'
import {jsonOf, runCli} from '../helpers/cli.js'
import {writeDeadLetters, type DeadLetterSpec} from '../helpers/dead-letters.js'
import {useTestRedis} from '../helpers/test-redis.js'

/**
 * `qctl dlq list|show|replay|purge` over a partitioned topic: every partition has its own dead-letter
 * stream (`{T:p<i>:<salt>}:dlq`), written here directly in the worker's format, with `dlq.topic` the
 * partition's stream. On the cluster project the partitions sit on three primaries.
 */

const context = useTestRedis()
let counter = 0
const unique = (name: string): string => `dlq-parts.${name}-${++counter}`

const qctl = async (...args: string[]) => runCli(['dlq', ...args, '--redis-url', context.server.url])

/** A base time in the past, so `--since`/ages are ordinary; entries get `T0 + n` ms, so their order is known. */
const T0 = Date.now() - 3_600_000

/** Create a partitioned topic; its partitions' streams, in partition order. */
async function partitioned(topic: string, partitions: number): Promise<string[]> {
  const result = await runCli(['topic', 'create', topic, '--partitions', String(partitions), '--json', '--redis-url', context.server.url])
  expect(result.code).toBe(0)
  return jsonOf<TopicDescription>(result).partitions.map((partition) => partition.stream)
}

/** Dead-letter entries in one partition's dead-letter stream, as its workers write them; returns their IDs. */
const deadLetter = async (stream: string, specs: DeadLetterSpec[]): Promise<string[]> => writeDeadLetters(context.redis, stream, specs, deadLetterKey(stream))

/** Payload numbers (`{"n": …}`) of a stream's entries, oldest first. */
async function payloads(key: string): Promise<number[]> {
  const rows = (await context.redis.xrange(key, '-', '+')) as Array<[string, string[]]>
  return rows.map(([, pairs]) => (JSON.parse(pairs[pairs.indexOf('data') + 1] ?? '{}') as {n: number}).n)
}

const at = (offset: number, n: number, extra: DeadLetterSpec = {}): DeadLetterSpec => ({at: T0 + offset, data: JSON.stringify({n}), ...extra})

/**
 * Six entries over three partitions, dead-lettered in this order: n=1 (p0), 2 (p1), 3 (p2), 4 (p0),
 * 5 (p1), 6 (p2); each partition's dead-letter ID is `${T0 + n}-0`.
 */
async function sixOverThree(topic: string): Promise<string[]> {
  const streams = await partitioned(topic, 3)
  for (const [partition, stream] of streams.entries()) await deadLetter(stream, [at(partition + 1, partition + 1), at(partition + 4, partition + 4)])
  return streams
}

const idOf = (n: number): string => `${T0 + n}-0`

describe('qctl dlq list over a partitioned topic', () => {
  it('merges the partitions in ID order, --limit over the merged list, each entry with its partition; total sums them', async () => {
    const topic = unique('list')
    const streams = await sixOverThree(topic)
    const newest = jsonOf<DlqListJson>(await qctl('list', topic, '--limit', '4', '--json'))
    expect(newest).toMatchObject({topic, partitioned: true, dlq: null, total: 6, order: 'newest', filtered: false, more: true})
    expect(newest.partitions).toEqual(streams.map((stream, partition) => ({partition, dlq: deadLetterKey(stream), total: 2})))
    expect(newest.entries.map((entry) => [entry.dlqId, entry.partition, entry.originTopic])).toEqual([
      [idOf(6), 2, streams[2]],
      [idOf(5), 1, streams[1]],
      [idOf(4), 0, streams[0]],
      [idOf(3), 2, streams[2]],
    ])

    const oldest = jsonOf<DlqListJson>(await qctl('list', topic, '--oldest', '--limit', '10', '--json'))
    expect(oldest.entries.map((entry) => entry.dlqId)).toEqual([1, 2, 3, 4, 5, 6].map(idOf))
    expect(oldest.more).toBe(false)

    const human = await qctl('list', topic, '--limit', '3')
    expect(human.code).toBe(0)
    const lines = human.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^P\s+DLQ ID\s+ORIGIN ID\s+GROUP\s+ATTEMPTS\s+ERROR/)
    expect(lines.slice(1, 4).map((line) => line.split(/\s+/).slice(0, 2))).toEqual([
      ['2', idOf(6)],
      ['1', idOf(5)],
      ['0', idOf(4)],
    ])
    expect(lines.at(-1)).toBe(`Showing the 3 newest of 6 entries in the dead-letter streams of the 3 partitions of ${topic} (--limit to see more).`)
  })

  it('filters each partition as before, then merges; --partition lists one partition', async () => {
    const topic = unique('list-filter')
    const streams = await partitioned(topic, 3)
    await deadLetter(streams[0] as string, [at(1, 1, {group: 'shipping'}), at(4, 4)])
    await deadLetter(streams[1] as string, [at(2, 2), at(5, 5, {group: 'shipping'})])
    await deadLetter(streams[2] as string, [at(3, 3, {group: 'shipping'})])
    const shipping = jsonOf<DlqListJson>(await qctl('list', topic, '--group', 'shipping', '--limit', '2', '--json'))
    expect(shipping).toMatchObject({total: 5, filtered: true, more: true})
    expect(shipping.entries.map((entry) => [entry.dlqId, entry.partition])).toEqual([
      [idOf(5), 1],
      [idOf(3), 2],
    ])

    const one = jsonOf<DlqListJson>(await qctl('list', topic, '--partition', '1', '--json'))
    expect(one).toMatchObject({partitioned: true, dlq: deadLetterKey(streams[1] as string), total: 2, partitions: [{partition: 1, dlq: deadLetterKey(streams[1] as string), total: 2}]})
    expect(one.entries.map((entry) => [entry.dlqId, entry.partition])).toEqual([
      [idOf(5), 1],
      [idOf(2), 1],
    ])
  })

  it('an empty partitioned topic lists nothing and says where it looked', async () => {
    const topic = unique('list-empty')
    await partitioned(topic, 2)
    const human = await qctl('list', topic)
    expect(human.code).toBe(0)
    expect(human.stdout).toBe(`No dead-lettered entries in the dead-letter streams of the 2 partitions of ${topic}.\n`)
  })
})

describe('qctl dlq show over a partitioned topic', () => {
  it('finds a dead-letter ID or an origin ID in whichever partition holds it', async () => {
    const topic = unique('show')
    const streams = await sixOverThree(topic)
    const origin = `${T0 - 100}-7`
    await deadLetter(streams[1] as string, [at(10, 10, {originId: origin})])

    const byDlqId = jsonOf<DlqShowJson>(await qctl('show', topic, idOf(5), '--json'))
    expect(byDlqId).toMatchObject({dlqId: idOf(5), partition: 1, originTopic: streams[1], matchedBy: 'dlqId', dlq: deadLetterKey(streams[1] as string), data: {n: 5}})
    const human = await qctl('show', topic, idOf(5))
    expect(human.stdout).toContain(`DLQ entry      ${idOf(5)} (partition 1), dead-lettered `)

    const byOrigin = jsonOf<DlqShowJson>(await qctl('show', topic, origin, '--json'))
    expect(byOrigin).toMatchObject({dlqId: idOf(10), partition: 1, matchedBy: 'originId', otherMatches: []})

    const missing = await qctl('show', topic, '1-1')
    expect(missing.code).toBe(6)
    expect(missing.stderr.split('\n')[0]).toBe(`Error: no entry 1-1 in the dead-letter streams of the 3 partitions of ${topic} (as a dead-letter ID or an origin ID)`)
  })

  it('refuses an ID held by several partitions (exit 2, naming them and --partition); --partition picks one', async () => {
    const topic = unique('show-ambiguous')
    const streams = await partitioned(topic, 3)
    // Dead-lettered in the same millisecond by two partitions: the same entry ID in both streams.
    const [first] = await deadLetter(streams[0] as string, [at(50, 1, {originId: `${T0}-3`})])
    const [second] = await deadLetter(streams[2] as string, [at(50, 2, {originId: `${T0}-3`})])
    expect(first).toBe(second)

    const ambiguous = await qctl('show', topic, first as string)
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr.split('\n')[0]).toBe(`Error: dead-letter ID ${first} is in the dead-letter streams of partitions 0 and 2 of topic "${topic}": add --partition to say which`)
    const json = jsonOf<JsonError>(await qctl('show', topic, first as string, '--json'))
    expect(json.error).toMatchObject({code: 'USAGE', exitCode: 2, details: {id: first, partitions: [0, 2]}})

    const picked = jsonOf<DlqShowJson>(await qctl('show', topic, first as string, '--partition', '2', '--json'))
    expect(picked).toMatchObject({dlqId: first, partition: 2, data: {n: 2}})

    const byOrigin = await qctl('show', topic, `${T0}-3`)
    expect(byOrigin.code).toBe(2)
    expect(byOrigin.stderr.split('\n')[0]).toBe(`Error: origin ID ${T0}-3 is in the dead-letter streams of partitions 0 and 2 of topic "${topic}": add --partition to say which`)
    expect(jsonOf<DlqShowJson>(await qctl('show', topic, `${T0}-3`, '--partition', '0', '--json'))).toMatchObject({partition: 0, matchedBy: 'originId', data: {n: 1}})
  })
})

describe('qctl dlq replay over a partitioned topic', () => {
  it('sends each entry to its own partition: the replay stream of its group there', async () => {
    const topic = unique('replay')
    const streams = await sixOverThree(topic)
    await deadLetter(streams[1] as string, [at(20, 20, {group: 'shipping'})])
    const result = await qctl('replay', topic, '--yes', '--json')
    expect(result.code).toBe(0)
    const json = jsonOf<DlqReplayResult>(result)
    expect(json).toMatchObject({dlq: null, topic, partitioned: true, selected: 7, replayed: 7, skipped: 0, remaining: 0, notFound: []})
    expect(json.partitions).toEqual([
      {partition: 0, dlq: deadLetterKey(streams[0] as string), selected: 2, replayed: 2, skipped: 0, remaining: 0},
      {partition: 1, dlq: deadLetterKey(streams[1] as string), selected: 3, replayed: 3, skipped: 0, remaining: 0},
      {partition: 2, dlq: deadLetterKey(streams[2] as string), selected: 2, replayed: 2, skipped: 0, remaining: 0},
    ])
    expect(json.targets).toEqual([
      {group: 'billing', key: replayKey(streams[0] as string, 'billing'), entries: 2, partition: 0},
      {group: 'billing', key: replayKey(streams[1] as string, 'billing'), entries: 2, partition: 1},
      {group: 'shipping', key: replayKey(streams[1] as string, 'shipping'), entries: 1, partition: 1},
      {group: 'billing', key: replayKey(streams[2] as string, 'billing'), entries: 2, partition: 2},
    ])
    expect(await payloads(replayKey(streams[0] as string, 'billing'))).toEqual([1, 4])
    expect(await payloads(replayKey(streams[1] as string, 'billing'))).toEqual([2, 5])
    expect(await payloads(replayKey(streams[1] as string, 'shipping'))).toEqual([20])
    expect(await payloads(replayKey(streams[2] as string, 'billing'))).toEqual([3, 6])
    // The group is created on each replay stream (a worker started later still gets the entries).
    const groups = (await context.redis.xinfo('GROUPS', replayKey(streams[2] as string, 'billing'))) as unknown[][]
    expect(groups.map((group) => group[1])).toEqual(['billing'])
    for (const stream of streams) {
      expect(await context.redis.xlen(deadLetterKey(stream))).toBe(0)
      expect(await context.redis.exists(stream)).toBe(0)
    }
    // The ids are listed partition by partition: each partition's `replayed` says which are its.
    expect(json.ids).toHaveLength(7)
    const human = await qctl('replay', topic, '--yes')
    expect(human.stdout.trimEnd()).toBe(`No dead-lettered entries in the dead-letter streams of the 3 partitions of ${topic}; nothing to replay.`)
  })

  it('--to-topic appends each entry to the stream of the partition it came from, never re-routed by key', async () => {
    const topic = unique('replay-to-topic')
    const streams = await partitioned(topic, 3)
    // Keys are kept as they were: a key that hashes elsewhere still goes back to its own partition.
    await deadLetter(streams[0] as string, [at(1, 1, {key: 'same-key'})])
    await deadLetter(streams[2] as string, [at(2, 2, {key: 'same-key'}), at(3, 3, {group: 'other'})])
    const json = jsonOf<DlqReplayResult>(await qctl('replay', topic, '--to-topic', '--yes', '--json'))
    expect(json).toMatchObject({toTopic: true, replayed: 3, remaining: 0})
    expect(json.targets).toEqual([
      {group: null, key: streams[0], entries: 1, partition: 0},
      {group: null, key: streams[2], entries: 2, partition: 2},
    ])
    expect(await payloads(streams[0] as string)).toEqual([1])
    expect(await context.redis.exists(streams[1] as string)).toBe(0)
    expect(await payloads(streams[2] as string)).toEqual([2, 3])
  })

  it('--dry-run covers every partition and changes nothing; --limit takes the oldest over all partitions', async () => {
    const topic = unique('replay-dry')
    const streams = await sixOverThree(topic)
    const human = await qctl('replay', topic, '--dry-run')
    expect(human.code).toBe(0)
    const lines = human.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^P\s+DLQ ID\s/)
    expect(lines.slice(1, 7).map((line) => line.split(/\s+/).slice(0, 2))).toEqual([1, 2, 3, 4, 5, 6].map((n) => [String((n - 1) % 3), idOf(n)]))
    expect(lines.at(-2)).toBe('6 entries would go to group billing only, through its replay streams of partitions 0, 1 and 2')
    expect(lines.at(-1)).toBe(`Dry run: would replay 6 entries from the dead-letter streams of the 3 partitions of ${topic} to the groups of ${topic} that failed them; nothing changed.`)

    const dry = jsonOf<DlqReplayResult>(await qctl('replay', topic, '--dry-run', '--limit', '4', '--json'))
    expect(dry).toMatchObject({dryRun: true, selected: 4, replayed: 0, remaining: 6})
    expect(dry.partitions?.map((partition) => partition.selected)).toEqual([2, 1, 1])
    expect(dry.ids).toEqual([idOf(1), idOf(4), idOf(2), idOf(3)])
    for (const stream of streams) {
      expect(await context.redis.xlen(deadLetterKey(stream))).toBe(2)
      expect(await context.redis.exists(replayKey(stream, 'billing'))).toBe(0)
    }

    const limited = jsonOf<DlqReplayResult>(await qctl('replay', topic, '--limit', '4', '--rate', '1000', '--yes', '--json'))
    expect(limited).toMatchObject({selected: 4, replayed: 4, remaining: 2})
    expect(await payloads(replayKey(streams[0] as string, 'billing'))).toEqual([1, 4])
    expect(await payloads(replayKey(streams[1] as string, 'billing'))).toEqual([2])
    expect(await payloads(replayKey(streams[2] as string, 'billing'))).toEqual([3])
    expect(jsonOf<DlqListJson>(await qctl('list', topic, '--json')).entries.map((entry) => [entry.dlqId, entry.partition])).toEqual([
      [idOf(6), 2],
      [idOf(5), 1],
    ])
  })

  it('--id is looked up in every partition: refused when several hold it, taken with --partition; IDs in none are warned about', async () => {
    const topic = unique('replay-id')
    const streams = await partitioned(topic, 3)
    const [shared] = await deadLetter(streams[0] as string, [at(7, 1)])
    await deadLetter(streams[1] as string, [at(7, 2)])
    const [own] = await deadLetter(streams[2] as string, [at(9, 3)])

    const ambiguous = await qctl('replay', topic, '--id', shared as string, '--yes')
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr.split('\n')[0]).toBe(`Error: dead-letter ID ${shared} is in the dead-letter streams of partitions 0 and 1 of topic "${topic}": add --partition to say which`)
    expect(await context.redis.xlen(deadLetterKey(streams[0] as string))).toBe(1)

    const picked = jsonOf<DlqReplayResult>(await qctl('replay', topic, '--id', shared as string, '--partition', '1', '--yes', '--json'))
    expect(picked).toMatchObject({dlq: deadLetterKey(streams[1] as string), selected: 1, replayed: 1, partitions: [{partition: 1, replayed: 1, remaining: 0}]})
    expect(await payloads(replayKey(streams[1] as string, 'billing'))).toEqual([2])

    const result = await qctl('replay', topic, '--id', own as string, '--id', '1-1', '--yes', '--json')
    expect(jsonOf<DlqReplayResult>(result)).toMatchObject({selected: 1, replayed: 1, notFound: ['1-1']})
    expect(result.stderr).toContain(`warning: not in the dead-letter streams of the 3 partitions of ${topic} (already replayed or purged?): 1-1`)
    expect(await payloads(replayKey(streams[2] as string, 'billing'))).toEqual([3])

    const none = await qctl('replay', topic, '--id', '1-1', '--yes')
    expect(none.code).toBe(6)
    expect(none.stderr.split('\n')[0]).toBe(`Error: no entry 1-1 in the dead-letter streams of the 3 partitions of ${topic}`)
  })
})

describe('qctl dlq purge over a partitioned topic', () => {
  it('purges across partitions: --dry-run changes nothing, --limit takes the oldest over all, counts per partition', async () => {
    const topic = unique('purge')
    const streams = await sixOverThree(topic)
    const dry = jsonOf<DlqPurgeResult>(await qctl('purge', topic, '--dry-run', '--json'))
    expect(dry).toMatchObject({topic, dlq: null, partitioned: true, dryRun: true, selected: 6, purged: 0, remaining: 6})
    for (const stream of streams) expect(await context.redis.xlen(deadLetterKey(stream))).toBe(2)

    const limited = jsonOf<DlqPurgeResult>(await qctl('purge', topic, '--limit', '2', '--yes', '--json'))
    expect(limited).toMatchObject({selected: 2, purged: 2, remaining: 4})
    expect(limited.partitions).toEqual([
      {partition: 0, dlq: deadLetterKey(streams[0] as string), selected: 1, purged: 1, remaining: 1},
      {partition: 1, dlq: deadLetterKey(streams[1] as string), selected: 1, purged: 1, remaining: 1},
      {partition: 2, dlq: deadLetterKey(streams[2] as string), selected: 0, purged: 0, remaining: 2},
    ])

    const filtered = await qctl('purge', topic, '--until', idOf(5), '--yes')
    expect(filtered.code).toBe(0)
    expect(filtered.stdout.trimEnd()).toBe(`Purged 3 entries from the dead-letter streams of the 3 partitions of ${topic}; 1 left.`)
    expect(jsonOf<DlqListJson>(await qctl('list', topic, '--json')).entries.map((entry) => [entry.dlqId, entry.partition])).toEqual([[idOf(6), 2]])
  })
})

describe('refusals', () => {
  it('--dlq with a partitioned topic exits 2 for every dlq command', async () => {
    const topic = unique('refuse-dlq')
    await partitioned(topic, 2)
    for (const args of [['list'], ['show', '1-0'], ['replay', '--yes'], ['purge', '--yes']]) {
      const [command, ...rest] = args as [string, ...string[]]
      const result = await qctl(command, topic, ...rest, '--dlq', 'custom:dead')
      expect(result.code).toBe(2)
      expect(result.stderr.split('\n')[0]).toBe(`Error: --dlq cannot be used with topic "${topic}": it is partitioned, and each of its 2 partitions has its own dead-letter stream`)
    }
  })

  it('--partition out of range exits 2; a plain topic takes --partition 0 only', async () => {
    const topic = unique('refuse-partition')
    await partitioned(topic, 2)
    for (const args of [['list'], ['replay', '--yes'], ['purge', '--yes']]) {
      const [command, ...rest] = args as [string, ...string[]]
      const result = await qctl(command, topic, ...rest, '--partition', '2')
      expect(result.code).toBe(2)
      expect(result.stderr.split('\n')[0]).toBe(`Error: --partition 2: topic "${topic}" has 2 partitions (0 … 1)`)
    }
    expect((await qctl('show', topic, '1-0', '--partition', '5')).code).toBe(2)
    expect((await qctl('list', topic, '--partition', '-1')).code).toBe(2)

    const plain = unique('plain')
    await writeDeadLetters(context.redis, plain, [at(1, 1)])
    const wrong = await qctl('list', plain, '--partition', '1')
    expect(wrong.code).toBe(2)
    expect(wrong.stderr.split('\n')[0]).toBe(`Error: --partition 1: topic "${plain}" is a plain stream, not a partitioned topic (its only partition is 0)`)
    const zero = jsonOf<DlqListJson>(await qctl('list', plain, '--partition', '0', '--json'))
    expect(zero).toMatchObject({partitioned: false, dlq: `{${plain}}:dlq`, partitions: null, total: 1})
    expect(zero.entries[0]?.partition).toBeNull()
  })
})
