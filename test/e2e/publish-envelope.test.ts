import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {PublishResult} from '../../src/core/publish/publish.js'
import {partitionOfKey} from '../../src/core/partitions/partition-hash.js'
import {jsonOf, runCli} from '../helpers/cli.js'
import {createPartitionedTopic} from '../helpers/partitioned.js'
import {runPipeline} from '../helpers/streams.js'
import {startTestRedis, type AdminClient, type TestRedis} from '../helpers/test-redis.js'
import {shellQuote} from '../helpers/tmux.js'

/**
 * `qctl publish --envelope` through the built CLI: the input mode's flags and every refusal (a bad
 * file publishes nothing; stdin stops after what it sent, with the line to resume from), --skip-invalid,
 * --skip-lines, --max-payload, --partition, and --keep-ids with each way an ID cannot be kept.
 */

let server: TestRedis
let redis: AdminClient
let dir: string
let counter = 0

const topicName = (): string => `envelope.t-${++counter}`
const publish = (topic: string, ...args: string[]): string[] => ['publish', topic, '--envelope', ...args, '-u', server.url]
const line = (envelope: Record<string, unknown>): string => JSON.stringify(envelope)

async function file(lines: readonly string[]): Promise<string> {
  const path = join(dir, `input-${++counter}.ndjson`)
  await writeFile(path, `${lines.join('\n')}\n`)
  return path
}

const datas = async (stream: string): Promise<string[]> => (await redis.xrange(stream, '-', '+')).map(([, fields]) => fields[1] as string)

beforeAll(async () => {
  server = await startTestRedis()
  redis = await server.client()
  dir = await mkdtemp(join(tmpdir(), 'qctl-envelope-'))
})

afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
  await rm(dir, {recursive: true, force: true})
})

describe('flags', () => {
  it.each([
    [['--data', '{}'], '--data'],
    [['--raw'], '--raw'],
    [['--key', 'k'], '--key'],
    [['--key-field', 'k'], '--key-field'],
    [['-H', 'a=b'], '--header'],
    [['--ndjson'], '--ndjson'],
    [['--idempotency-key', 'k'], '--idempotency-key'],
    [['--idempotency-key-field', 'k'], '--idempotency-key-field'],
    [['--delay', '1s'], '--delay'],
    [['--at', '1'], '--at'],
  ])('--envelope with %j: exit 2', async (args, flag) => {
    const topic = topicName()
    const result = await runCli(publish(topic, '-', ...args), {input: '{"data":"x"}\n'})
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(new RegExp(`^Error: .*(--envelope.*${flag}|${flag}.*--envelope)`))
    expect(await redis.exists(topic, `{${topic}}:scheduled`, `{${topic}}:dedupe`)).toBe(0)
  })

  it('--keep-ids needs --envelope, and goes without --partition: exit 2, nothing published', async () => {
    const topic = topicName()
    const alone = await runCli(['publish', topic, '-', '--keep-ids', '-u', server.url], {input: '{"data":"x"}\n'})
    expect(alone.code).toBe(2)
    expect(alone.stderr).toMatch(/^Error: .*--envelope/)
    const withPartition = await runCli(publish(topic, '-', '--keep-ids', '--partition', '0'), {input: '{"data":"x","id":"1-1"}\n'})
    expect(withPartition.code).toBe(2)
    expect(withPartition.stderr).toMatch(/^Error: .*--partition.*--keep-ids|--keep-ids.*--partition/)
    expect(await redis.exists(topic)).toBe(0)
  })

  it('an empty input publishes nothing and exits 0', async () => {
    const result = await runCli(publish(topicName(), '-', '--json'), {input: ''})
    expect(result.code).toBe(0)
    expect(jsonOf<PublishResult>(result)).toMatchObject({published: 0, firstId: null, lastId: null})
  })

  it('payloads are not checked as JSON: an envelope stores the entry as it is', async () => {
    const topic = topicName()
    const result = await runCli(publish(topic, '-'), {input: `${line({data: 'not json {'})}\n${line({data: 'x', enc: 'raw', key: 'k', headers: {}})}\n`})
    expect(result.code, result.stderr).toBe(0)
    expect((await redis.xrange(topic, '-', '+')).map(([, fields]) => fields)).toEqual([['data', 'not json {'], ['data', 'x', 'key', 'k', 'enc', 'raw']])
  })
})

describe('bad input', () => {
  it('a file with a bad envelope publishes nothing: exit 5 naming file:line, and how many lines are bad', async () => {
    const topic = topicName()
    const path = await file([line({data: 'a'}), line({data: 'b'}), line({data: 'c', extra: 1}), '{"data": "d",', line({data: 'e'})])
    const result = await runCli(publish(topic, path))
    expect(result.code).toBe(5)
    expect(result.stderr).toBe(
      `Error: ${path}:3: envelope: unknown member "extra" (an envelope has topic, partition, id, key, headers, data, dataBase64, enc, publishedAt, fields, fieldsBase64); nothing was published (2 invalid lines in all; use --skip-invalid to publish the valid ones)\n`,
    )
    expect(await redis.exists(topic)).toBe(0)
    const json = await runCli(publish(topic, path, '--skip-lines', '3', '--json'))
    expect(JSON.parse(json.stdout)).toMatchObject({error: {code: 'INVALID_INPUT', exitCode: 5, message: `${path}:4:14: invalid JSON: Expected double-quoted property name; nothing was published`}})
  })

  it('stdin: lines before the bad one are published, and the error says where to resume', async () => {
    const topic = topicName()
    const result = await runCli(publish(topic, '-', '--json'), {input: `${line({data: 'a'})}\n${line({data: 'b'})}\n${line({key: 'k'})}\n${line({data: 'd'})}\n`})
    expect(result.code).toBe(5)
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: {
        code: 'INVALID_INPUT',
        message: '<stdin>:3: envelope: has no payload: "data" (text) or "dataBase64" (bytes) is needed, or "fields" for an entry in another layout; published 2 messages before it (through input line 2)',
        details: {published: 2, lastLine: 2, resume: '--skip-lines 2'},
      },
    })
    expect(await datas(topic)).toEqual(['a', 'b'])
  })

  it('--skip-invalid publishes the valid lines and reports the others; --skip-lines resumes after a line', async () => {
    const topic = topicName()
    const path = await file([line({data: 'a'}), 'nope', line({data: 'c', dataBase64: 'eA=='}), line({data: 'd'})])
    const skipped = await runCli(publish(topic, path, '--skip-invalid', '--json'))
    expect(skipped.code, skipped.stderr).toBe(0)
    expect(jsonOf<PublishResult>(skipped)).toMatchObject({published: 2, skipped: 2, skippedLines: [2, 3]})
    const resumed = await runCli(publish(topic, path, '--skip-lines', '3', '--json'))
    expect(jsonOf<PublishResult>(resumed)).toMatchObject({published: 1})
    expect(await datas(topic)).toEqual(['a', 'd', 'd'])
  })

  it('--max-payload: a larger payload, or a line longer than such a payload can make, is refused', async () => {
    const topic = topicName()
    const big = await runCli(publish(topic, '-', '--max-payload', '4'), {input: `${line({data: '12345'})}\n`})
    expect([big.code, big.stderr]).toEqual([5, 'Error: <stdin>:1: payload of 5 B is over the --max-payload limit of 4 B; nothing was published\n'])
    const long = await runCli(publish(topic, '-', '--max-payload', '1'), {input: `${line({data: 'x', topic: 'y'.repeat(2 * 1024 * 1024)})}\n`})
    expect(long.code).toBe(5)
    expect(long.stderr).toMatch(/^Error: <stdin>:1: an envelope line of \d+ bytes is longer than one holding a payload within --max-payload \(1 bytes\) can be; raise --max-payload; nothing was published\n$/)
    expect(await redis.exists(topic)).toBe(0)
  })

  it('the error line of a failed qctl tail is named as such (exit 5), after tail\'s own exit 6', async () => {
    const topic = topicName()
    const result = await runPipeline(`qctl tail envelope.none --json -u ${shellQuote(server.url)} | qctl publish ${shellQuote(topic)} --envelope - -u ${shellQuote(server.url)}; echo "exits \${PIPESTATUS[*]}" >&2`)
    expect(result.stderr).toBe('Error: <stdin>:1: envelope: this line is a qctl error, not an entry (the command that wrote the input failed): topic "envelope.none" does not exist (no stream at that key); nothing was published\nexits 6 5\n')
  })
})

describe('--partition', () => {
  it('sends every entry to that partition; one out of range is refused (exit 2)', async () => {
    const {topic, partitions} = await createPartitionedTopic(server.url, 'envelope.parts', 3)
    const input = `${line({data: 'a', key: 'k1'})}\n${line({data: 'b'})}\n`
    const result = await runCli(publish(topic, '-', '--partition', '2'), {input})
    expect(result.code, result.stderr).toBe(0)
    expect(await datas(partitions[2]?.stream as string)).toEqual(['a', 'b'])
    const out = await runCli(publish(topic, '-', '--partition', '3'), {input})
    expect([out.code, out.stderr]).toEqual([2, `Error: --partition 3: topic "${topic}" has 3 partitions (0 … 2)\n`])
  })
})

describe('--keep-ids', () => {
  it('stores each entry under its ID', async () => {
    const topic = topicName()
    const result = await runCli(publish(topic, '-', '--keep-ids', '--json'), {input: `${line({id: '5-0', data: 'a'})}\n${line({id: '5-3', data: 'b'})}\n${line({id: '9-0', data: 'c'})}\n`})
    expect(result.code, result.stderr).toBe(0)
    expect(jsonOf<PublishResult>(result)).toMatchObject({published: 3, firstId: '5-0', lastId: '9-0'})
    expect((await redis.xrange(topic, '-', '+')).map(([id]) => id)).toEqual(['5-0', '5-3', '9-0'])
  })

  it.each([
    [[{id: '5-0', data: 'a'}, {id: '5-0', data: 'b'}], ':2: --keep-ids: ID 5-0 is not above 5-0, the ID of an earlier line for "TOPIC": a stream\'s IDs increase (publish without --keep-ids to give the entries new IDs)'],
    [[{id: '5-0', data: 'a'}, {data: 'b'}], ':2: --keep-ids: the envelope has no "id"'],
    [[{id: '5', data: 'a'}], ':1: --keep-ids: "id" "5" is not an entry ID (<ms>-<seq>, as Redis writes it)'],
    [[{id: '0-0', data: 'a'}], ':1: --keep-ids: the ID 0-0 cannot be stored (Redis stores IDs above 0-0)'],
  ])('a file whose IDs cannot be kept publishes nothing: %j', async (envelopes, message) => {
    const topic = topicName()
    const path = await file(envelopes.map(line))
    const result = await runCli(publish(topic, path, '--keep-ids'))
    expect(result.code).toBe(5)
    expect(result.stderr).toBe(`Error: ${path}${message.replace('TOPIC', topic)}; nothing was published\n`)
    expect(await redis.exists(topic)).toBe(0)
  })

  it('an ID Redis refuses (not above the stream\'s last) stops the run at that line: what is before it stored, nothing after it sent', async () => {
    const {topic, partitions} = await createPartitionedTopic(server.url, 'envelope.kept', 2)
    const [p0, p1] = partitions.map((partition) => partition.stream) as [string, string]
    await redis.xadd(p1, '100-0', 'data', 'there')
    const path = await file([line({id: '10-0', partition: 0, data: 'a'}), line({id: '11-0', partition: 0, data: 'b'}), line({id: '5-0', partition: 1, data: 'c'}), line({id: '12-0', partition: 0, data: 'd'})])
    const result = await runCli(publish(topic, path, '--keep-ids', '--json'))
    expect(result.code).toBe(5)
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: {
        code: 'INVALID_INPUT',
        message: `${path}:3: --keep-ids: Redis refused the entry's ID: it is not above the last ID of the stream ${p1} (a stream's IDs increase; restore into a new or empty topic, or publish without --keep-ids to give the entries new IDs); published 2 messages before it (through input line 2)`,
        details: {published: 2, lastLine: 2, resume: '--skip-lines 2', stream: p1},
      },
    })
    expect(await datas(p0)).toEqual(['a', 'b'])
    expect(await datas(p1)).toEqual(['there'])
  })

  it('into a partitioned topic, envelopes of a plain topic are refused; a key must be in its partition', async () => {
    const {topic} = await createPartitionedTopic(server.url, 'envelope.plain-source', 2)
    const plain = await runCli(publish(topic, '-', '--keep-ids'), {input: `${line({id: '1-0', partition: null, data: 'a'})}\n`})
    expect([plain.code, plain.stderr]).toEqual([
      5,
      `Error: <stdin>:1: --keep-ids: "${topic}" is partitioned and the envelope names no partition (it comes from a plain topic): an entry keeps its ID only in its own partition; publish without --keep-ids to route by key; nothing was published\n`,
    ])
    const wrong = 1 - partitionOfKey('k', 2)
    const misplaced = await runCli(publish(topic, '-', '--keep-ids'), {input: `${line({id: '1-0', partition: wrong, key: 'k', data: 'a'})}\n`})
    expect(misplaced.code).toBe(5)
    expect(misplaced.stderr).toContain(`the key "k" belongs to partition ${1 - wrong} of "${topic}" (2 partitions), not to partition ${wrong} the envelope comes from`)
    const beyond = await runCli(publish(topic, '-', '--keep-ids'), {input: `${line({id: '1-0', partition: 5, data: 'a'})}\n`})
    expect([beyond.code, beyond.stderr]).toEqual([
      5,
      `Error: <stdin>:1: --keep-ids: partition 5 does not exist in "${topic}" (2 partitions): the envelopes must come from a topic with as many partitions; nothing was published\n`,
    ])
  })
})
