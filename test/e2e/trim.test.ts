import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {JsonError} from '../../src/base-command.js'
import {retryDueKey} from '../../src/core/keys.js'
import {timeReplyMs} from '../../src/core/redis/redis-time.js'
import type {TrimResult} from '../../src/core/trim/plan.js'
import {PARKED_CONSUMER} from '../../src/core/worker/group-ops.js'
import {inTerminal, jsonOf, runCli, startCli, waitFor, type CliResult} from '../helpers/cli.js'
import {jsonEvents, type WorkEvent} from '../helpers/json-lines.js'
import {createPartitionedTopic, publishKeyed} from '../helpers/partitioned.js'
import {RECORDER} from '../helpers/recorder.js'
import {useTestRedis} from '../helpers/test-redis.js'

/**
 * `qctl trim` and `qctl work --trim-acked` through the built CLI, on a server and (vitest project
 * `cluster`) a 3-primary cluster: every flag and refusal, and the adversaries of a safe trim (a group
 * that never reads, another program's pending entries, parked retries, a group made between the dry
 * run and the trim, XDEL, unknown lag, no groups, a group missing on one partition).
 */

const ctx = useTestRedis()
let dir = ''
let counter = 0
const DAY = 86_400_000

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-trim-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

const qctl = async (...args: string[]): Promise<CliResult> => runCli([...args, '-u', ctx.server.url])
const trimJson = async (...args: string[]): Promise<TrimResult> => {
  const result = await qctl('trim', ...args, '--json')
  expect(result.code, result.stderr).toBe(0)
  return jsonOf<TrimResult>(result)
}
const unique = (name: string): string => `trim.${name}-${++counter}`
const now = async (): Promise<number> => timeReplyMs(await ctx.redis.time())
const ids = async (stream: string): Promise<string[]> => (await ctx.redis.xrange(stream, '-', '+')).map(([id]) => id)

/** A topic of `old` entries 10 days old and `fresh` ones from now, `data` = {"n":i}; their IDs. */
async function agedTopic(topic: string, old: number, fresh: number): Promise<string[]> {
  const start = (await now()) - 10 * DAY
  const made: string[] = []
  for (let i = 0; i < old + fresh; i++) {
    const id = i < old ? `${start + i}-0` : '*'
    made.push(String(await ctx.redis.xadd(topic, id, 'data', JSON.stringify({n: i}))))
  }
  return made
}

/** Bytes of entries as count-span-1.lua counts them: field names and values. */
const bytesOf = (count: number, from = 0): number => Array.from({length: count}, (_, i) => 'data'.length + JSON.stringify({n: from + i}).length).reduce((sum, n) => sum + n, 0)

/** The ID just after `id` (the line of a group whose last-delivered ID is `id`). */
const after = (id: string): string => id.replace(/-(\d+)$/, (_match, seq: string) => `-${BigInt(seq) + 1n}`)

const read = async (stream: string, group: string, consumer: string, count: number): Promise<string[]> => {
  const reply = (await ctx.redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')) as Array<[string, Array<[string, string[]]>]> | null
  return (reply?.[0]?.[1] ?? []).map(([id]) => id)
}

/** 10 old and 5 fresh entries; group billing: 8 delivered to "other-tool" (another program), the first 3 acknowledged. */
async function heldTopic(): Promise<{topic: string; made: string[]}> {
  const topic = unique('held')
  const made = await agedTopic(topic, 10, 5)
  await ctx.redis.xgroup('CREATE', topic, 'billing', '0')
  await read(topic, 'billing', 'other-tool', 8)
  await ctx.redis.xack(topic, 'billing', ...made.slice(0, 3))
  return {topic, made}
}

describe('qctl trim --dry-run', () => {
  it('shows per stream what the rule and the safe trim remove (entries, bytes) and which group holds the line; changes nothing', async () => {
    const {topic, made} = await heldTopic()
    const human = await qctl('trim', topic, '--before', '7d', '--dry-run')
    expect(human.code, human.stderr).toBe(0)
    expect(human.stderr).toBe('')
    expect(human.stdout).toContain(`dry run: trim ${topic} before 7d (`)
    expect(human.stdout).toMatch(/ENTRIES +RULE REMOVES +SAFE TRIM REMOVES +LINE HELD BY/)
    expect(human.stdout).toContain(`billing: ${made[3]} pending to other-tool (idle`)
    expect(human.stdout).toContain(`would remove 3 entries (${bytesOf(3)} B) (the rule alone: 10 entries (${bytesOf(10)} B))`)
    expect(human.stdout).toContain('kept 7 entries the rule names that a group still needs')

    const plan = await trimJson(topic, '--before', '7d', '--dry-run')
    expect(Object.keys(plan)).toEqual(['topic', 'partitioned', 'rule', 'force', 'dryRun', 'cancelled', 'streams', 'totals'])
    expect(plan).toMatchObject({topic, partitioned: false, rule: {before: '7d', maxlen: null}, force: false, dryRun: true, cancelled: false})
    expect(plan.rule.minId).toMatch(/^\d+-0$/)
    expect(plan.streams).toHaveLength(1)
    const [stream] = plan.streams
    expect(Object.keys(stream!)).toEqual(['partition', 'stream', 'exists', 'length', 'groups', 'rule', 'line', 'safe', 'trimAt', 'removed', 'acked'])
    expect(stream).toMatchObject({
      partition: null,
      stream: topic,
      exists: true,
      length: 15,
      groups: 1,
      rule: {minId: plan.rule.minId, entries: 10, bytes: bytesOf(10)},
      line: {minId: made[3], group: 'billing', reason: 'pending', entryId: made[3], consumer: 'other-tool'},
      safe: {minId: made[3], entries: 3, bytes: bytesOf(3)},
      trimAt: made[3],
      removed: null,
      acked: false,
    })
    expect(plan.totals).toEqual({rule: {entries: 10, bytes: bytesOf(10)}, safe: {entries: 3, bytes: bytesOf(3)}, removed: null})
    expect(await ids(topic)).toEqual(made)
  })

  it('takes --before as a duration ago (7d, 7d-ago), an ISO time, milliseconds or a stream ID', async () => {
    const topic = unique('forms')
    const made = await agedTopic(topic, 4, 0)
    const first = Number(made[0]!.split('-')[0])
    const ruleOf = async (before: string): Promise<TrimResult> => trimJson(topic, '--before', before, '--dry-run')
    for (const form of ['7d', '7d-ago', '7d ago']) expect((await ruleOf(form)).totals.rule.entries).toBe(4)
    expect((await ruleOf(new Date(first + 2).toISOString())).rule.minId).toBe(`${first + 2}-0`)
    expect((await ruleOf(String(first + 1))).totals.rule.entries).toBe(1)
    // A stream ID: that entry is kept.
    const byId = await ruleOf(made[2]!)
    expect(byId.rule.minId).toBe(made[2])
    expect(byId.totals.rule).toEqual({entries: 2, bytes: bytesOf(2)})
  })
})

describe('qctl trim', () => {
  it('--yes trims behind the groups, and again as they move on; a rerun removes nothing more', async () => {
    const {topic, made} = await heldTopic()
    const first = await trimJson(topic, '--before', '7d', '--yes')
    expect(first).toMatchObject({dryRun: false, cancelled: false, totals: {removed: 3}})
    expect(first.streams[0]).toMatchObject({removed: 3, trimAt: made[3], line: {group: 'billing', reason: 'pending'}})
    expect(await ids(topic)).toEqual(made.slice(3))
    // The other program acknowledges its entries; billing has not been delivered the 9th (index 8) yet.
    await ctx.redis.xack(topic, 'billing', ...made.slice(3, 8))
    const second = await trimJson(topic, '--before', '7d', '--yes')
    // The line: just after the last entry delivered to billing (the 8th).
    const next = after(made[7]!)
    expect(second.streams[0]).toMatchObject({removed: 5, trimAt: next, line: {minId: next, reason: 'undelivered'}})
    const human = await qctl('trim', topic, '--before', '7d', '--yes')
    expect(human.code).toBe(0)
    expect(human.stdout).toContain(`trimmed ${topic} before 7d (`)
    expect(human.stdout).toContain('removed 0 entries')
    expect(await ids(topic)).toEqual(made.slice(8))
  })

  it('--maxlen N keeps the newest N, or more where a group still needs them', async () => {
    const topic = unique('maxlen')
    const made = await agedTopic(topic, 0, 12)
    await ctx.redis.xgroup('CREATE', topic, 'g', '0')
    await ctx.redis.xack(topic, 'g', ...(await read(topic, 'g', 'c', 5)))
    const plan = await trimJson(topic, '--maxlen', '4', '--dry-run')
    expect(plan.rule).toEqual({before: null, minId: null, maxlen: 4})
    expect(plan.streams[0]).toMatchObject({rule: {minId: made[8], entries: 8, bytes: bytesOf(8)}, safe: {minId: after(made[4]!), entries: 5}})
    expect((await trimJson(topic, '--maxlen', '4', '--yes')).totals.removed).toBe(5)
    await ctx.redis.xack(topic, 'g', ...(await read(topic, 'g', 'c', 12)))
    expect((await trimJson(topic, '--maxlen', '4', '--yes')).totals.removed).toBe(3)
    expect(await ids(topic)).toEqual(made.slice(8))
    // Fewer entries than N: nothing to remove.
    expect((await trimJson(topic, '--maxlen', '100', '--dry-run')).streams[0]).toMatchObject({rule: {minId: null, entries: 0}, trimAt: null})
    expect((await trimJson(topic, '--maxlen', '0', '--yes')).totals.removed).toBe(4)
  })

  it('--force trims at the rule past the line, saying loudly what the groups lose', async () => {
    const {topic, made} = await heldTopic()
    const dry = await qctl('trim', topic, '--before', '7d', '--force', '--dry-run')
    expect(dry.code).toBe(0)
    expect(dry.stderr).toContain(`warning: --force would remove 7 entries (${bytesOf(7, 3)} B) that a consumer group has not been delivered yet or still holds pending: they are lost to it`)
    expect(dry.stdout).toContain(`--force would remove 10 entries (${bytesOf(10)} B) (behind the groups: 3 entries (${bytesOf(3)} B))`)
    const done = await qctl('trim', topic, '--before', '7d', '--force', '--yes', '--json')
    expect(done.code).toBe(0)
    expect(done.stderr).toContain('warning: --force removes 7 entries')
    const result = jsonOf<TrimResult>(done)
    expect(result).toMatchObject({force: true, totals: {removed: 10}})
    expect(result.streams[0]).toMatchObject({trimAt: result.rule.minId, removed: 10, acked: false, line: {group: 'billing', reason: 'pending'}})
    expect(await ids(topic)).toEqual(made.slice(10))
  })

  it('asks on a terminal: "n" changes nothing, "y" trims', async () => {
    const {topic, made} = await heldTopic()
    const no = await inTerminal(['trim', topic, '--before', '7d', '-u', ctx.server.url], 'n\n')
    expect(no.code).toBe(0)
    expect(no.output).toContain(`Trim ${topic} before 7d (`)
    expect(no.output).toContain(`remove 3 entries (${bytesOf(3)} B), none that a group still needs? [y/N] `)
    expect(no.output).toContain('not confirmed: nothing trimmed')
    expect(await ids(topic)).toEqual(made)
    const yes = await inTerminal(['trim', topic, '--before', '7d', '-u', ctx.server.url], 'y\n')
    expect(yes.code).toBe(0)
    expect(yes.output).toContain('removed 3 entries')
    expect(await ids(topic)).toEqual(made.slice(3))
  })

  it('refuses to run without a terminal or --yes (exit 2, before connecting); --dry-run needs neither', async () => {
    const {topic, made} = await heldTopic()
    const refused = await qctl('trim', topic, '--before', '7d')
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('Error: refusing to trim the topic without confirmation: no terminal to ask on; pass --yes (or --dry-run to see what would change)')
    const json = await qctl('trim', topic, '--before', '7d', '--json')
    expect(json.code).toBe(2)
    expect(jsonOf<JsonError>(json).error.code).toBe('USAGE')
    // Refused before connecting: even with nowhere to connect to.
    const nowhere = await runCli(['trim', topic, '--before', '7d', '-u', 'redis://127.0.0.1:1'])
    expect(nowhere.code).toBe(2)
    expect(await ids(topic)).toEqual(made)
    // -y is --yes.
    const short = await qctl('trim', topic, '--before', '7d', '-y')
    expect(short.code, short.stderr).toBe(0)
    expect(await ids(topic)).toEqual(made.slice(3))
  })

  it('refuses bad usage with exit 2, and a topic that does not exist with exit 6', async () => {
    const topic = unique('usage')
    await agedTopic(topic, 2, 0)
    for (const [args, message] of [
      [[topic], 'Exactly one of the following must be provided: --before, --maxlen'],
      [[topic, '--before', '7d', '--maxlen', '3'], '--before cannot also be provided when using --maxlen'],
      [[topic, '--before', 'yesterday'], 'invalid --before "yesterday": use a duration ago (30m, 1h, 7d, 1w), an ISO time'],
      [[topic, '--maxlen', '-1'], 'Expected an integer greater than or equal to 0'],
      [['', '--maxlen', '1'], 'TOPIC must not be empty'],
      [[topic, '--before', ''], '--before must not be empty'],
    ] as const) {
      const result = await qctl('trim', ...args, '--dry-run')
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2)
      expect(result.stderr).toContain(message)
    }
    const missing = await qctl('trim', unique('missing'), '--maxlen', '1', '--yes')
    expect(missing.code).toBe(6)
    expect(missing.stderr).toContain('does not exist')
    const notStream = unique('string')
    await ctx.redis.set(notStream, 'x')
    const wrong = await qctl('trim', notStream, '--maxlen', '1', '--yes')
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain(notStream)
    expect(await ctx.redis.get(notStream)).toBe('x')
  })
})

describe('qctl trim against what holds the line', () => {
  it('a group that never reads holds it at the start: nothing is removed', async () => {
    const topic = unique('never-reads')
    const made = await agedTopic(topic, 5, 0)
    await ctx.redis.xgroup('CREATE', topic, 'active', '$')
    await ctx.redis.xgroup('CREATE', topic, 'dormant', '0')
    const result = await trimJson(topic, '--before', '1d', '--yes')
    expect(result.streams[0]).toMatchObject({removed: 0, line: {minId: '0-1', group: 'dormant', reason: 'undelivered'}})
    expect(await ids(topic)).toEqual(made)
    const human = await qctl('trim', topic, '--before', '1d', '--dry-run')
    expect(human.stdout).toContain('dormant: not delivered from 0-1')
  })

  it('a group made between the dry run and the trim holds the line: the trim finds it', async () => {
    const topic = unique('race')
    const made = await agedTopic(topic, 6, 0)
    await ctx.redis.xgroup('CREATE', topic, 'early', '$')
    const plan = await trimJson(topic, '--before', '1d', '--dry-run')
    expect(plan.totals.safe.entries).toBe(6)
    await ctx.redis.xgroup('CREATE', topic, 'late', '0')
    const result = await trimJson(topic, '--before', '1d', '--yes')
    expect(result.streams[0]).toMatchObject({removed: 0, line: {group: 'late', reason: 'undelivered', minId: '0-1'}})
    expect(await ids(topic)).toEqual(made)
  })

  it('parked retries hold the line, also when their pseudo-consumer was deleted', async () => {
    const topic = unique('parked')
    const made = await agedTopic(topic, 6, 0)
    await ctx.redis.xgroup('CREATE', topic, 'billing', '0')
    await read(topic, 'billing', 'w1', 6)
    await ctx.redis.xclaim(topic, 'billing', PARKED_CONSUMER, 0, made[2]!)
    await ctx.redis.zadd(retryDueKey(topic, 'billing'), (await now()) + 3_600_000, made[2]!)
    await ctx.redis.xack(topic, 'billing', ...made.filter((id) => id !== made[2]))
    const parked = await trimJson(topic, '--before', '1d', '--dry-run')
    expect(parked.streams[0]).toMatchObject({safe: {entries: 2}, line: {reason: 'pending', consumer: PARKED_CONSUMER, entryId: made[2]}})
    expect((await qctl('trim', topic, '--before', '1d', '--dry-run')).stdout).toContain(`billing: parked retry ${made[2]}`)
    await ctx.redis.xgroup('DELCONSUMER', topic, 'billing', PARKED_CONSUMER)
    const orphan = await trimJson(topic, '--before', '1d', '--yes')
    expect(orphan.streams[0]).toMatchObject({removed: 2, line: {reason: 'parked', entryId: made[2]}})
    expect(await ids(topic)).toEqual(made.slice(2))
  })

  it('entries deleted by XDEL are not counted; a group whose lag Redis cannot tell still holds at its position', async () => {
    const topic = unique('xdel')
    const made = await agedTopic(topic, 10, 0)
    await ctx.redis.xgroup('CREATE', topic, 'g', '0')
    await ctx.redis.xack(topic, 'g', ...(await read(topic, 'g', 'c', 6)))
    await ctx.redis.xdel(topic, made[1]!, made[8]!)
    const groups = (await ctx.redis.call('XINFO', 'GROUPS', topic)) as unknown[][]
    expect(groups[0]?.[groups[0].indexOf('lag') + 1]).toBeNull()
    const result = await trimJson(topic, '--before', '1d', '--yes')
    expect(result.streams[0]).toMatchObject({length: 8, rule: {entries: 8}, safe: {entries: 5}, removed: 5, line: {minId: after(made[5]!), reason: 'undelivered'}})
    expect(await ids(topic)).toEqual([made[6], made[7], made[9]])
  })

  it('a stream without groups: the rule applies as given, said on stderr', async () => {
    const topic = unique('no-groups')
    const made = await agedTopic(topic, 3, 2)
    const result = await qctl('trim', topic, '--before', '1d', '--yes', '--json')
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(`warning: ${topic} has no consumer group: nothing holds a line there, and the rule applies as given`)
    expect(jsonOf<TrimResult>(result).streams[0]).toMatchObject({groups: 0, line: null, removed: 3})
    expect(await ids(topic)).toEqual(made.slice(3))
  })

  it('a partitioned topic: each partition behind its own groups, a group missing on one partition holds all of it', async () => {
    const {topic, partitions} = await createPartitionedTopic(ctx.server.url, unique('parts'), 3)
    await publishKeyed(ctx.server.url, dir, topic, 60, 30)
    const streams = partitions.map((partition) => partition.stream)
    for (const stream of streams) {
      await ctx.redis.xgroup('CREATE', stream, 'all', '0')
      await ctx.redis.xack(stream, 'all', ...(await read(stream, 'all', 'c', 1000)))
    }
    // "half" is on partitions 0 and 1 only, and has read half of partition 0.
    await ctx.redis.xgroup('CREATE', streams[0]!, 'half', '0')
    await ctx.redis.xgroup('CREATE', streams[1]!, 'half', '$')
    const lengths = await Promise.all(streams.map(async (stream) => ctx.redis.xlen(stream)))
    const half = Math.floor(lengths[0]! / 2)
    await ctx.redis.xack(streams[0]!, 'half', ...(await read(streams[0]!, 'half', 'c', half)))
    const plan = await trimJson(topic, '--maxlen', '0', '--dry-run')
    expect(plan.partitioned).toBe(true)
    expect(plan.streams.map((stream) => [stream.partition, stream.stream, stream.rule.entries, stream.safe.entries, stream.line?.group, stream.line?.reason])).toEqual([
      [0, streams[0], lengths[0], half, 'half', 'undelivered'],
      [1, streams[1], lengths[1], lengths[1], 'all', 'undelivered'],
      [2, streams[2], lengths[2], 0, 'half', 'missing'],
    ])
    const human = await qctl('trim', topic, '--maxlen', '0', '--dry-run')
    expect(human.stdout).toMatch(/PARTITION +ENTRIES +RULE REMOVES/)
    expect(human.stdout).toContain('half: no such group here (its workers would read from the start)')
    const done = await trimJson(topic, '--maxlen', '0', '--yes')
    expect(done.streams.map((stream) => stream.removed)).toEqual([half, lengths[1], 0])
    expect(await Promise.all(streams.map(async (stream) => ctx.redis.xlen(stream)))).toEqual([lengths[0]! - half, 0, lengths[2]])
  })
})

describe('qctl work --trim-acked', () => {
  const work = (topic: string, group: string, ...args: string[]): string[] => ['work', RECORDER, '-t', topic, '-g', group, '--trim-acked', '--json', ...args, '-u', ctx.server.url]
  const summaryOf = (result: CliResult): WorkEvent => jsonEvents(result.stdout).at(-1) as WorkEvent

  it('trims behind the slowest group as it goes and on exit; the summary counts what it trimmed', async () => {
    const topic = unique('worker')
    const made = await agedTopic(topic, 0, 20)
    await ctx.redis.xgroup('CREATE', topic, 'slow', '0')
    await read(topic, 'slow', 'other-tool', 12)
    await ctx.redis.xack(topic, 'slow', ...made.slice(0, 7))
    const result = await runCli(work(topic, 'fast', '--until-empty'))
    expect(result.code, result.stderr).toBe(0)
    expect(summaryOf(result)).toMatchObject({event: 'summary', processed: 20, trimmed: 7})
    expect(await ids(topic)).toEqual(made.slice(7))
    // Without the flag the summary has no `trimmed`, and nothing is trimmed.
    await ctx.redis.xack(topic, 'slow', ...made.slice(7, 12))
    const plain = await runCli(['work', RECORDER, '-t', topic, '-g', 'fast', '--until-empty', '--json', '-u', ctx.server.url])
    expect(summaryOf(plain)).not.toHaveProperty('trimmed')
    expect(await ctx.redis.xlen(topic)).toBe(13)
    const human = await runCli(['work', RECORDER, '-t', topic, '-g', 'fast', '--until-empty', '--trim-acked', '-u', ctx.server.url])
    expect(human.stdout).toContain('trimmed 5;')
    expect(await ids(topic)).toEqual(made.slice(12))
  })

  it('keeps a parked retry (and everything after it) on the stream', async () => {
    const topic = unique('worker-parked')
    for (let i = 0; i < 6; i++) await ctx.redis.xadd(topic, '*', 'data', JSON.stringify(i === 2 ? {fail: 'transient', times: 9} : {n: i}))
    const made = await ids(topic)
    const result = await runCli(work(topic, 'billing', '--max-messages', '5', '--backoff-delay', '1h'))
    expect(result.code, result.stderr).toBe(0)
    expect(summaryOf(result)).toMatchObject({processed: 5, retried: 1, trimmed: 2})
    expect(await ids(topic)).toEqual(made.slice(2))
    const pending = (await ctx.redis.xpending(topic, 'billing', '-', '+', 10)) as Array<[string, string]>
    expect(pending.map(([id, consumer]) => [id, consumer])).toEqual([[made[2], PARKED_CONSUMER]])
  })

  it('trims each partition it reads', async () => {
    const {topic, partitions} = await createPartitionedTopic(ctx.server.url, unique('worker-parts'), 3)
    await publishKeyed(ctx.server.url, dir, topic, 30, 30)
    const result = await runCli(work(topic, 'billing', '--until-empty'))
    expect(result.code, result.stderr).toBe(0)
    expect(summaryOf(result)).toMatchObject({processed: 30, trimmed: 30})
    expect(await Promise.all(partitions.map(async (partition) => ctx.redis.xlen(partition.stream)))).toEqual([0, 0, 0])
  })

  it('--ordered: trims each partition it holds the lease of', async () => {
    const {topic, partitions} = await createPartitionedTopic(ctx.server.url, unique('worker-ordered'), 3)
    await publishKeyed(ctx.server.url, dir, topic, 30, 6)
    const result = await runCli(work(topic, 'billing', '--ordered', '--until-empty'))
    expect(result.code, result.stderr).toBe(0)
    expect(summaryOf(result)).toMatchObject({processed: 30, trimmed: 30})
    expect(await Promise.all(partitions.map(async (partition) => ctx.redis.xlen(partition.stream)))).toEqual([0, 0, 0])
  })

  it('trims while it runs, not only on exit', async () => {
    const topic = unique('worker-live')
    await agedTopic(topic, 0, 10)
    const running = startCli(work(topic, 'billing'))
    await waitFor(async () => (await ctx.redis.xlen(topic)) === 0, 20_000, 'the worker to trim what it handled')
    running.child.kill('SIGTERM')
    const done = await running.done
    expect(done.code).toBe(0)
    expect(summaryOf(done)).toMatchObject({processed: 10, trimmed: 10})
  })
})
