import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {PublishResult} from '../../src/core/publish/publish.js'
import {partitionOfKey} from '../../src/core/partitions/partition-hash.js'
import type {AlterResult} from '../../src/core/topics/alter.js'
import type {DeleteResult} from '../../src/core/topics/delete.js'
import type {TopicDescription} from '../../src/core/topics/describe.js'
import type {TopicListRow} from '../../src/core/topics/list.js'
import {groupStateKeys, membersKey} from '../../src/core/keys.js'
import {keySlot} from '../../src/core/redis/key-slot.js'
import {jsonOf, runCli} from '../helpers/cli.js'
import {TEST_TARGET, useTestRedis} from '../helpers/test-redis.js'

const context = useTestRedis()
let dir: string
let counter = 0
const nextTopic = (): string => `topics.test-${++counter}`

const qctl = async (...args: string[]) => runCli([...args, '--redis-url', context.server.url])

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-topic-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

async function create(topic: string, partitions: number): Promise<TopicDescription> {
  const result = await qctl('topic', 'create', topic, '--partitions', String(partitions), '--json')
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  return jsonOf<TopicDescription>(result)
}

/** Every entry of a stream: [id, fields as an object]. */
async function entries(stream: string): Promise<Array<[string, Record<string, string>]>> {
  const rows = await context.redis.xrange(stream, '-', '+')
  return rows.map(([id, fields]) => {
    const record: Record<string, string> = {}
    for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!
    return [id, record]
  })
}

describe('qctl topic create / describe / list', () => {
  it('creates a partitioned topic: one metadata hash, N hash-tagged streams on N slots', async () => {
    const topic = nextTopic()
    const created = await create(topic, 8)
    expect(created).toMatchObject({topic, partitioned: true, partitionCount: 8, metadataKey: `qctl:topic:{${topic}}`, hash: 'murmur2', version: 1, messages: 0, deadLetters: 0, warnings: []})
    expect(created.partitions).toHaveLength(8)
    created.partitions.forEach((partition, index) => {
      expect(partition.partition).toBe(index)
      expect(partition.stream).toMatch(new RegExp(`^\\{${topic.replace('.', '\\.')}:p${index}:[0-9a-z]+\\}$`))
      expect(partition.slot).toBe(keySlot(partition.stream))
      expect(partition.exists).toBe(false)
    })
    expect(new Set(created.partitions.map((partition) => partition.slot)).size).toBe(8)
    const metadata = await context.redis.hgetall(`qctl:topic:{${topic}}`)
    expect(metadata).toMatchObject({format: '1', partitions: '8', hash: 'murmur2', version: '1'})
    expect(JSON.parse(metadata.streams!)).toEqual(created.partitions.map((partition) => partition.stream))
    expect(Math.abs(Number(metadata.createdAt) - Date.now())).toBeLessThan(60_000)
    if (TEST_TARGET === 'cluster') {
      // Spread over the three primaries: 3, 3 and 2.
      const perNode = new Map<string, number>()
      for (const partition of created.partitions) perNode.set(partition.node!, (perNode.get(partition.node!) ?? 0) + 1)
      expect([...perNode.values()].sort()).toEqual([2, 3, 3])
    } else {
      expect(created.partitions.every((partition) => partition.node === null)).toBe(true)
    }
  })

  it('refuses a second create with exit 9; --if-not-exists accepts the same count only', async () => {
    const topic = nextTopic()
    await create(topic, 4)
    const again = await qctl('topic', 'create', topic, '-p', '4')
    expect(again.code).toBe(9)
    expect(again.stderr).toContain(`Error: topic "${topic}" already exists with 4 partitions`)
    const same = await qctl('topic', 'create', topic, '-p', '4', '--if-not-exists', '--json')
    expect(same.code).toBe(0)
    expect(jsonOf<{created: boolean}>(same).created).toBe(false)
    const other = await qctl('topic', 'create', topic, '-p', '5', '--if-not-exists', '--json')
    expect(other.code).toBe(9)
    expect(jsonOf<{error: {code: string}}>(other).error.code).toBe('ALREADY_EXISTS')
    expect(await context.redis.hget(`qctl:topic:{${topic}}`, 'partitions')).toBe('4')
  })

  it('refuses names with braces, counts out of range, and a name a plain stream has, writing nothing', async () => {
    for (const [args, message] of [
      [['{orders}', '-p', '2'], 'may not contain braces'],
      [['ok-name', '-p', '0'], 'Expected an integer greater than or equal to 1'],
      [['ok-name', '-p', '1025'], '--partitions must be between 1 and 1024'],
    ] as const) {
      const result = await qctl('topic', 'create', ...args)
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(message)
    }
    const topic = nextTopic()
    await context.redis.xadd(topic, '*', 'data', '1')
    const result = await qctl('topic', 'create', topic, '-p', '3')
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`a stream named "${topic}" already exists`)
    expect(await context.redis.exists(`qctl:topic:{${topic}}`)).toBe(0)
    expect(await context.redis.exists('qctl:topic:{ok-name}')).toBe(0)
  })

  it('describes a plain stream as one partition, and exits 6 for a topic that does not exist', async () => {
    const topic = nextTopic()
    await context.redis.xadd(topic, '*', 'data', '1')
    const plain = jsonOf<TopicDescription>(await qctl('topic', 'describe', topic, '--json'))
    expect(plain).toMatchObject({topic, partitioned: false, partitionCount: 1, metadataKey: null, messages: 1})
    expect(plain.partitions[0]).toMatchObject({partition: 0, stream: topic, exists: true, length: 1})
    const missing = await qctl('topic', 'describe', nextTopic())
    expect(missing.code).toBe(6)
    expect(missing.stderr).toContain('does not exist')
  })

  it('warns when a stream by the topic\'s own name exists beside its partitions (nobody reads it)', async () => {
    const topic = nextTopic()
    await create(topic, 2)
    await context.redis.xadd(topic, '*', 'data', 'written by a producer that does not know')
    const result = await qctl('topic', 'describe', topic)
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(`a stream named "${topic}" exists beside the partitioned topic`)
  })

  it('lists partitioned topics and plain streams, without partition, dead-letter or replay streams', async () => {
    const prefix = `list-${++counter}`
    await create(`${prefix}.a`, 3)
    await context.redis.xadd(`${prefix}.b`, '*', 'data', '1')
    await context.redis.xadd(`{${prefix}.b}:dlq`, '*', 'data', '1')
    const published = await qctl('publish', `${prefix}.a`, '--data', '{"n":1}', '--key', 'k')
    expect(published.code).toBe(0)
    const rows = jsonOf<TopicListRow[]>(await qctl('topic', 'list', '--match', `${prefix}.*`, '--json'))
    expect(rows).toEqual([
      {topic: `${prefix}.a`, partitioned: true, partitionCount: 3, messages: 1},
      {topic: `${prefix}.b`, partitioned: false, partitionCount: 1, messages: 1},
    ])
    const all = jsonOf<TopicListRow[]>(await qctl('topic', 'list', '--json'))
    expect(all.map((row) => row.topic)).toEqual(expect.arrayContaining([`${prefix}.a`, `${prefix}.b`]))
    expect(all.some((row) => row.topic.startsWith('{'))).toBe(false)
    const text = await qctl('topic', 'list', '--match', `${prefix}.*`)
    expect(text.stdout).toContain(`${prefix}.a`)
    expect(text.stdout).toContain('- (stream)')
  })

  it('refuses a metadata hash qctl did not write (exit 5) and a metadata key of another type (exit 2), in every command that reads it', async () => {
    const bad = nextTopic()
    await context.redis.hset(`qctl:topic:{${bad}}`, 'format', '1', 'partitions', 'many')
    for (const args of [
      ['topic', 'describe', bad],
      ['publish', bad, '--data', '{}'],
      ['tail', bad],
      ['tail', bad, '--follow'],
      ['trim', bad, '--maxlen', '0', '--yes'],
      ['schedule', 'run', bad],
      ['group', 'list', bad],
      ['group', 'create', bad, 'g', '--from', 'start'],
      ['group', 'seek', bad, 'g', '--to', 'start'],
      ['group', 'delete', bad, 'g', '--yes'],
    ]) {
      const result = await qctl(...args)
      expect(result.code, args.join(' ')).toBe(5)
      expect(result.stderr).toContain(`the metadata of topic "${bad}" (qctl:topic:{${bad}}) has an invalid partition count`)
    }
    const newer = nextTopic()
    await context.redis.hset(`qctl:topic:{${newer}}`, 'format', '2')
    const future = await qctl('publish', newer, '--data', '{}')
    expect(future.code).toBe(5)
    expect(future.stderr).toContain('was created by a newer qctl (metadata format 2')
    const wrong = nextTopic()
    await context.redis.set(`qctl:topic:{${wrong}}`, 'x')
    const typed = await qctl('publish', wrong, '--data', '{}')
    expect(typed.code).toBe(2)
    expect(typed.stderr).toContain(`the metadata key of topic "${wrong}" (qctl:topic:{${wrong}}) is a string, not a hash`)
    for (const topic of [wrong, newer, bad]) expect(await context.redis.exists(topic)).toBe(0)
  })
})

describe('qctl publish to a partitioned topic', () => {
  it('sends each keyed message to murmur2(key) mod N, each key in publish order within its partition', async () => {
    const topic = nextTopic()
    const {partitions} = await create(topic, 6)
    const lines = Array.from({length: 3000}, (_, n) => JSON.stringify({customer: {id: `c${n % 97}`}, n}))
    const file = join(dir, `${topic}.ndjson`)
    await writeFile(file, `${lines.join('\n')}\n`)
    const result = await qctl('publish', topic, file, '--key-field', 'customer.id', '--json')
    expect(result.code).toBe(0)
    const summary = jsonOf<PublishResult>(result)
    expect(summary).toMatchObject({published: 3000, firstId: null, lastId: null})
    expect(summary.partitions!.reduce((sum, partition) => sum + partition.published, 0)).toBe(3000)
    const seen = new Map<string, number>()
    let total = 0
    for (const partition of partitions) {
      const stored = await entries(partition.stream)
      total += stored.length
      const reported = summary.partitions!.find((row) => row.partition === partition.partition)
      expect(reported?.published ?? 0).toBe(stored.length)
      if (stored.length > 0) expect([reported!.firstId, reported!.lastId]).toEqual([stored[0]![0], stored.at(-1)![0]])
      for (const [, fields] of stored) {
        expect(partitionOfKey(fields.key!, 6)).toBe(partition.partition)
        const n = (JSON.parse(fields.data!) as {n: number}).n
        expect(n).toBeGreaterThan(seen.get(fields.key!) ?? -1)
        seen.set(fields.key!, n)
      }
    }
    expect(total).toBe(3000)
    expect(seen.size).toBe(97)
  })

  it('spreads keyless messages batch by batch over the partitions, one partition per batch', async () => {
    const topic = nextTopic()
    const {partitions} = await create(topic, 4)
    const file = join(dir, `${topic}.ndjson`)
    await writeFile(file, `${Array.from({length: 2500}, (_, n) => JSON.stringify({n})).join('\n')}\n`)
    const summary = jsonOf<PublishResult>(await qctl('publish', topic, file, '--json'))
    // Batches of 1,000: three batches on three consecutive partitions.
    expect(summary.partitions!.map((partition) => partition.published).sort()).toEqual([1000, 1000, 500])
    const used = summary.partitions!.map((partition) => partition.partition)
    const start = used.find((partition) => summary.partitions!.find((row) => row.partition === partition)!.published === 1000 && !used.includes((partition + 3) % 4))!
    expect(used.sort()).toEqual([start, (start + 1) % 4, (start + 2) % 4].sort())
    const last = await entries(partitions[(start + 2) % 4]!.stream)
    expect((JSON.parse(last[0]![1].data!) as {n: number}).n).toBe(2000)
  })

  it('--partition forces one partition; out of range (or on a plain stream, other than 0) is exit 2 with nothing written', async () => {
    const topic = nextTopic()
    const {partitions} = await create(topic, 3)
    const forced = jsonOf<PublishResult>(await qctl('publish', topic, '--data', '{"a":1}', '--key', 'anything', '--partition', '2', '--json'))
    expect(forced).toMatchObject({published: 1, partition: 2})
    expect(await context.redis.xlen(partitions[2]!.stream)).toBe(1)
    const out = await qctl('publish', topic, '--data', '{"a":1}', '--partition', '3')
    expect(out.code).toBe(2)
    expect(out.stderr).toContain(`--partition 3: topic "${topic}" has 3 partitions (0 … 2)`)
    const plain = nextTopic()
    const refused = await qctl('publish', plain, '--data', '{"a":1}', '--partition', '1')
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('is a plain stream')
    expect(await context.redis.exists(plain)).toBe(0)
    expect(jsonOf<PublishResult>(await qctl('publish', plain, '--data', '{"a":1}', '--partition', '0', '--json')).published).toBe(1)
    let total = 0
    for (const partition of partitions) total += await context.redis.xlen(partition.stream)
    expect(total).toBe(1)
  })

  it('prints the partition of a single message, and the partitions of a batch, in the human summary', async () => {
    const topic = nextTopic()
    await create(topic, 2)
    const key = 'customer-7'
    const one = await qctl('publish', topic, '--data', '{"a":1}', '--key', key)
    expect(one.stdout).toMatch(new RegExp(`^Published 1 message to ${topic.replace('.', '\\.')}, partition ${partitionOfKey(key, 2)}: \\d+-\\d+\\n$`))
    const many = await runCli(['publish', topic, '--ndjson', '--key-field', 'k', '--redis-url', context.server.url], {input: '{"k":"a"}\n{"k":"b"}\n{"k":"c"}\n'})
    expect(many.code).toBe(0)
    expect(many.stdout).toMatch(/^Published 3 messages to .* \(\d[\d,]* msg\/s\), over [12] partitions?: p\d \d(, p\d \d)?\n$/)
  })

  it('a partition refusing its part (a key of the wrong type) stops the run: exact count, resume line, and what other partitions stored after it', async () => {
    const topic = nextTopic()
    const {partitions} = await create(topic, 2)
    // Partition 1's stream is taken by a string: its part of every batch is refused.
    await context.redis.set(partitions[1]!.stream, 'squatter')
    const keyFor = (partition: number): string => {
      for (let n = 0; ; n++) if (partitionOfKey(`k${n}`, 2) === partition) return `k${n}`
    }
    const lines = [keyFor(0), keyFor(0), keyFor(1), keyFor(0), keyFor(0)].map((k, n) => JSON.stringify({k, n}))
    const file = join(dir, `${topic}.ndjson`)
    await writeFile(file, `${lines.join('\n')}\n`)
    const result = await qctl('publish', topic, file, '--key-field', 'k', '--json')
    expect(result.code).toBe(2)
    const error = jsonOf<{error: {message: string; details: Record<string, unknown>}}>(result).error
    expect(error.message).toContain(`topic "${partitions[1]!.stream}" is a string, not a stream`)
    expect(error.details).toMatchObject({published: 2, lastLine: 2, resume: '--skip-lines 2', storedAfterFailure: {count: 2, firstLine: 4, lastLine: 5}})
    expect(await context.redis.xlen(partitions[0]!.stream)).toBe(4)
  })
})

describe('qctl topic alter', () => {
  it('grows a topic: the old partitions keep their streams, the version goes up, and it says how many sampled keys move', async () => {
    const topic = nextTopic()
    const before = await create(topic, 4)
    const keys = Array.from({length: 200}, (_, n) => `key-${n}`)
    const file = join(dir, `${topic}.ndjson`)
    await writeFile(file, `${keys.map((k) => JSON.stringify({k})).join('\n')}\n`)
    expect((await qctl('publish', topic, file, '--key-field', 'k')).code).toBe(0)
    const moved = keys.filter((key) => partitionOfKey(key, 4) !== partitionOfKey(key, 7)).length

    const dry = jsonOf<AlterResult>(await qctl('topic', 'alter', topic, '-p', '7', '--dry-run', '--json'))
    expect(dry).toMatchObject({from: 4, to: 7, dryRun: true, changed: false, sampledKeys: 200, movedKeys: moved, version: 1})
    expect(dry.partitions).toHaveLength(7)
    expect(await context.redis.hget(`qctl:topic:{${topic}}`, 'partitions')).toBe('4')

    const text = await qctl('topic', 'alter', topic, '-p', '7', '--dry-run')
    expect(text.stdout).toContain(`4 → 7 partitions: ${moved} of 200 keys sampled`)

    const grown = jsonOf<AlterResult>(await qctl('topic', 'alter', topic, '-p', '7', '--yes', '--json'))
    expect(grown).toMatchObject({from: 4, to: 7, changed: true, partitionCount: 7, version: 2, messages: 200})
    expect(grown.partitions.slice(0, 4).map((partition) => partition.stream)).toEqual(before.partitions.map((partition) => partition.stream))
    expect(new Set(grown.partitions.map((partition) => partition.slot)).size).toBe(7)
    expect(grown.partitions.slice(4).map((partition) => partition.stream)).toEqual(dry.partitions.slice(4).map((partition) => partition.stream))

    // Published after: by the new count.
    const after = jsonOf<PublishResult>(await qctl('publish', topic, '--data', '{}', '--key', 'key-1', '--json'))
    expect(after.partition).toBe(partitionOfKey('key-1', 7))
  })

  it('refuses to shrink (exit 2), a plain stream (exit 2), a missing topic (exit 6), and needs --yes without a terminal (exit 2)', async () => {
    const topic = nextTopic()
    await create(topic, 4)
    const shrink = await qctl('topic', 'alter', topic, '-p', '3', '--yes')
    expect(shrink.code).toBe(2)
    expect(shrink.stderr).toContain('partitions can only be added, never removed')
    const noYes = await qctl('topic', 'alter', topic, '-p', '5')
    expect(noYes.code).toBe(2)
    expect(noYes.stderr).toContain('pass --yes')
    const plain = nextTopic()
    await context.redis.xadd(plain, '*', 'data', '1')
    expect((await qctl('topic', 'alter', plain, '-p', '2', '--yes')).code).toBe(2)
    expect((await qctl('topic', 'alter', nextTopic(), '-p', '2', '--yes')).code).toBe(6)
    expect(await context.redis.hget(`qctl:topic:{${topic}}`, 'version')).toBe('1')
  })
})

describe('qctl topic delete', () => {
  it('deletes every key of a partitioned topic, metadata last, and nothing of a topic whose name it prefixes', async () => {
    const topic = nextTopic()
    const {partitions} = await create(topic, 3)
    const neighbour = `${topic}:p1`
    const neighbourLayout = await create(neighbour, 2)
    for (const partition of [...partitions, ...neighbourLayout.partitions]) {
      await context.redis.xadd(partition.stream, '*', 'data', '1')
      await context.redis.xadd(`${partition.stream}:dlq`, '*', 'data', '1')
      await context.redis.hset(`${partition.stream}:retry:billing`, '1-0', 'x')
      await context.redis.zadd(`${partition.stream}:due:billing`, 1, '1-0')
    }
    const dry = jsonOf<DeleteResult>(await qctl('topic', 'delete', topic, '--dry-run', '--json'))
    expect(dry).toMatchObject({topic, partitioned: true, partitionCount: 3, messages: 3, deadLetters: 3, deleted: 0, dryRun: true})
    expect(dry.keys).toHaveLength(3 * 4 + 1)
    expect(dry.keys.at(-1)).toBe(`qctl:topic:{${topic}}`)
    expect(await context.redis.exists(`qctl:topic:{${topic}}`)).toBe(1)

    const noYes = await qctl('topic', 'delete', topic)
    expect(noYes.code).toBe(2)

    const done = jsonOf<DeleteResult>(await qctl('topic', 'delete', topic, '--yes', '--json'))
    expect(done.deleted).toBe(13)
    for (const key of dry.keys) expect(await context.redis.exists(key)).toBe(0)
    for (const partition of neighbourLayout.partitions) {
      expect(await context.redis.exists(partition.stream, `${partition.stream}:dlq`, `${partition.stream}:retry:billing`)).toBe(3)
    }
    const again = await qctl('topic', 'delete', topic, '--yes')
    expect(again.code).toBe(6)
  })

  it('deletes a plain stream with its dead letters and group state', async () => {
    const topic = nextTopic()
    await context.redis.xadd(topic, '*', 'data', '1')
    await context.redis.xadd(`{${topic}}:dlq`, '*', 'data', '1')
    await context.redis.hset(`{${topic}}:retry:g`, '1-0', 'x')
    await context.redis.xadd(`{${topic}}:replay:g`, '*', 'data', '1')
    const done = jsonOf<DeleteResult>(await qctl('topic', 'delete', topic, '--yes', '--json'))
    expect(done).toMatchObject({partitioned: false, deleted: 4, messages: 1, deadLetters: 1})
    expect(await context.redis.exists(topic, `{${topic}}:dlq`, `{${topic}}:retry:g`, `{${topic}}:replay:g`)).toBe(0)
  })

  it('deletes a topic\'s publish-once keys and scheduled messages with it (a plain and a partitioned one)', async () => {
    const plain = nextTopic()
    const {topic, partitions} = await create(nextTopic(), 2)
    for (const target of [plain, topic]) {
      expect((await qctl('publish', target, '--data', '{"a":1}', '--key', 'k', '--idempotency-key', 'once')).code).toBe(0)
      expect((await qctl('publish', target, '--data', '{"a":2}', '--key', 'k', '--delay', '1h')).code).toBe(0)
    }
    const stream = partitions[partitionOfKey('k', 2)]!.stream
    const kept = [`{${plain}}:dedupe`, `{${plain}}:scheduled`, `${stream}:dedupe`, `${stream}:scheduled`]
    for (const key of kept) expect(await context.redis.exists(key), key).toBe(1)
    expect((await qctl('topic', 'delete', plain, '--yes')).code).toBe(0)
    expect((await qctl('topic', 'delete', topic, '--yes')).code).toBe(0)
    for (const key of kept) expect(await context.redis.exists(key), key).toBe(0)
  })

  it('deletes every kind of key a group has (keys.ts groupStateKeys), the ordered workers\' ones too', async () => {
    const topic = nextTopic()
    await context.redis.xadd(topic, '*', 'data', '1')
    const keys = [...groupStateKeys(topic, 'g'), membersKey(topic, 'g')]
    for (const key of keys) await context.redis.set(key, 'x')
    const done = jsonOf<DeleteResult>(await qctl('topic', 'delete', topic, '--yes', '--json'))
    expect([...done.keys].sort()).toEqual([topic, ...keys].sort())
    for (const key of keys) expect(await context.redis.exists(key), key).toBe(0)
  })
})
