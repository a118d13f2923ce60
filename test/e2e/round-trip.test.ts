import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Envelope} from '../../src/core/envelope/envelope.js'
import {partitionOfKey} from '../../src/core/partitions/partition-hash.js'
import type {PublishResult} from '../../src/core/publish/publish.js'
import {jsonOf, runCli} from '../helpers/cli.js'
import {createPartitionedTopic} from '../helpers/partitioned.js'
import {fieldsHex, ndjson, rawEntries, runPipeline} from '../helpers/streams.js'
import {startTestRedis, type AdminClient, type TestRedis} from '../helpers/test-redis.js'
import {shellQuote} from '../helpers/tmux.js'
import {wideFields} from '../helpers/wide-entries.js'

/**
 * `qctl tail A --json | qctl publish B --envelope -` copies a topic, and a saved NDJSON file restores
 * one, byte for byte: every field name and value of every entry, in order, compared with XRANGE on
 * both sides. The source holds what qctl publishes and what other programs write (binary payloads and
 * names, empty values, unicode keys and headers, thousands of fields, duplicates, other layouts).
 */

let server: TestRedis
let redis: AdminClient
let dir: string
let counter = 0

const name = (prefix: string): string => `rt.${prefix}-${++counter}`
const url = (): string => shellQuote(server.url)

beforeAll(async () => {
  server = await startTestRedis()
  redis = await server.client()
  dir = await mkdtemp(join(tmpdir(), 'qctl-round-trip-'))
})

afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
  await rm(dir, {recursive: true, force: true})
})

const bytes = (...values: Array<string | number[]>): Buffer[] => values.map((value) => (typeof value === 'string' ? Buffer.from(value) : Buffer.from(value)))

/** Entries other programs write (and qctl's own edge cases), as field/value bytes; each one XADDed as is. */
const FOREIGN: Buffer[][] = [
  bytes('data', ''),
  bytes('data', '', 'key', ''),
  bytes('data', 'a\r\nb\u0000c\u001b[31m\u009b\u202e', 'key', 'line\nbreak'),
  bytes('data', '\ufeffstarts with a BOM'),
  bytes('data', '\ufffd is a real U+FFFD'),
  bytes('payload', 'hello', 'user', '42'),
  bytes('data', '1', 'data', '2'),
  bytes('key', 'k', 'data', 'key first'),
  bytes('data', '{}', 'headers', '{"a": "b"}'),
  bytes('data', 'x', 'headers', '{}'),
  bytes('data', 'x', 'headers', '{"n":1}'),
  bytes('data', 'x', 'headers', '{"b":"1","1":"2"}'),
  bytes('data', 'x', 'headers', 'not json'),
  bytes('data', 'x', 'enc', 'gzip'),
  bytes('data', 'x', 'enc', 'raw', 'key', 'k'),
  bytes('data', 'x', 'key', [0xff, 0xfe]),
  bytes([0xff, 0x00], 'binary name', 'data', [0xc3, 0x28]),
  bytes('data', 'x', 'key', 'k', 'headers', '{"__proto__":"p","constructor":"c"}'),
  wideFields(4000),
  [Buffer.from('data'), Buffer.from('{"n":1}'), ...Array.from({length: 3000}, (_, i) => Buffer.from(i % 2 === 0 ? `field-${i}` : `valeur ${i} \u00e9`))],
]

/** A plain topic with qctl's messages of every kind, then FOREIGN, then enough messages for several batches. */
async function fillPlainTopic(topic: string): Promise<number> {
  const published = async (args: string[], input?: string): Promise<void> => {
    const result = await runCli(['publish', topic, ...args, '-u', server.url], input === undefined ? {} : {input})
    expect(result.code, result.stderr).toBe(0)
  }
  await published(['--data', '{"orderId":1,"note":"caf\u00e9 \ud83d\ude80"}', '--key', 'cl\u00e9-\ud83d\udd11', '-H', 'source=ch\u00e9ckout', '-H', '__proto__=x', '-H', 'emoji=\ud83d\ude80'])
  const binary = join(dir, `binary-${++counter}.dat`)
  await writeFile(binary, Buffer.from([...Array.from({length: 256}, (_, i) => i), 0xc3, 0x28, 0xed, 0xa0, 0x80]))
  await published([binary, '--raw', '--key', 'bin'])
  await published(['--data', '"a JSON string"'])
  const big = JSON.stringify({blob: 'x'.repeat(300 * 1024)})
  await published(['-', '--key', 'big'], big)
  for (const fields of FOREIGN) await redis.xadd(topic, '*', ...fields)
  const lines = Array.from({length: 2500}, (_, n) => JSON.stringify({n, k: `key-${n % 7}`}))
  await published(['--ndjson', '--key-field', 'k', '-H', 'batch=yes'], `${lines.join('\n')}\n`)
  return 4 + FOREIGN.length + lines.length
}

describe('a plain topic', () => {
  let source = ''
  let total = 0

  beforeAll(async () => {
    source = name('source')
    total = await fillPlainTopic(source)
  }, 120_000)

  it('tail prints one envelope per entry: data or dataBase64 by the bytes, fields for other layouts', async () => {
    const result = await runCli(['tail', source, '--json', '-u', server.url])
    expect(result.code, result.stderr).toBe(0)
    const envelopes = ndjson<Envelope>(result.stdout)
    expect(envelopes).toHaveLength(total)
    const [qctl, raw] = envelopes
    expect(qctl).toMatchObject({topic: source, partition: null, key: 'cl\u00e9-\ud83d\udd11', data: '{"orderId":1,"note":"caf\u00e9 \ud83d\ude80"}'})
    expect(qctl?.headers).toEqual(JSON.parse('{"source":"ch\u00e9ckout","__proto__":"x","emoji":"\ud83d\ude80"}'))
    expect(raw).toMatchObject({key: 'bin', enc: 'raw'})
    expect(raw?.data).toBeUndefined()
    expect(Buffer.from(raw?.dataBase64 ?? '', 'base64')).toHaveLength(261)
    // Every entry in qctl's wire format has no `fields`; every other one has them, exact.
    const foreign = envelopes.slice(4, 4 + FOREIGN.length)
    expect(foreign.map((envelope) => envelope.fields !== undefined || envelope.fieldsBase64 !== undefined)).toEqual([
      false, false, false, false, false, true, true, true, true, true, true, true, true, true, true, true, true, false, true, true,
    ])
    expect(foreign[0]).toMatchObject({data: '', key: null})
    expect(foreign[1]).toMatchObject({data: '', key: ''})
    expect(foreign[5]).toMatchObject({data: null, fields: [['payload', 'hello'], ['user', '42']]})
    expect(foreign[16]?.fieldsBase64?.[0]).toEqual([Buffer.from([0xff, 0x00]).toString('base64'), Buffer.from('binary name').toString('base64')])
    expect(foreign[16]?.dataBase64).toBe(Buffer.from([0xc3, 0x28]).toString('base64'))
  })

  it('tail | publish --envelope - copies it: every entry\'s fields byte for byte, in order, under new IDs', async () => {
    const copy = name('copy')
    const result = await runPipeline(`qctl tail ${shellQuote(source)} --json -u ${url()} | qctl publish ${shellQuote(copy)} --envelope - --json -u ${url()}`)
    expect(result.code, result.stderr).toBe(0)
    expect(jsonOf<PublishResult>(result).published).toBe(total)
    const [from, to] = [await rawEntries(redis, source), await rawEntries(redis, copy)]
    expect(to).toHaveLength(total)
    expect(fieldsHex(to)).toEqual(fieldsHex(from))
    expect(to[0]?.[0]).not.toBe(from[0]?.[0])
  })

  it('a saved NDJSON file restores it with --keep-ids: the same IDs and the same bytes; a second restore is refused and adds nothing', async () => {
    const file = join(dir, `${source}.ndjson`)
    // Off a terminal, envelopes without --json too.
    const saved = await runPipeline(`qctl tail ${shellQuote(source)} -u ${url()} > ${shellQuote(file)}`)
    expect(saved.code, saved.stderr).toBe(0)
    expect((await readFile(file, 'utf8')).split('\n').filter(Boolean)).toHaveLength(total)
    const restored = name('restored')
    const first = await runCli(['publish', restored, '--envelope', file, '--keep-ids', '--json', '-u', server.url])
    expect(first.code, first.stderr).toBe(0)
    const [from, to] = [await rawEntries(redis, source), await rawEntries(redis, restored)]
    expect(to.map(([id]) => id)).toEqual(from.map(([id]) => id))
    expect(fieldsHex(to)).toEqual(fieldsHex(from))

    const again = await runCli(['publish', restored, '--envelope', file, '--keep-ids', '-u', server.url])
    expect(again.code).toBe(5)
    expect(again.stderr).toBe(
      `Error: ${file}:1: --keep-ids: Redis refused the entry's ID: it is not above the last ID of the stream ${restored} (a stream's IDs increase; restore into a new or empty topic, or publish without --keep-ids to give the entries new IDs); nothing was published\n`,
    )
    expect(await redis.xlen(restored)).toBe(total)
  })
})

describe('a partitioned topic', () => {
  let source = ''
  let streams: string[] = []
  let total = 0

  beforeAll(async () => {
    const created = await createPartitionedTopic(server.url, 'rt.parts', 3)
    source = created.topic
    streams = created.partitions.map((partition) => partition.stream)
    const lines = Array.from({length: 600}, (_, n) => JSON.stringify({n, k: `cl\u00e9-${n % 23}`}))
    const keyed = await runCli(['publish', source, '--ndjson', '--key-field', 'k', '-H', 'h=\u00e9', '-u', server.url], {input: `${lines.join('\n')}\n`})
    expect(keyed.code, keyed.stderr).toBe(0)
    const keyless = await runCli(['publish', source, '--ndjson', '-u', server.url], {input: '{"no":"key"}\n{"no":"key either"}\n'})
    expect(keyless.code, keyless.stderr).toBe(0)
    // Other programs' entries in each partition, binary ones too.
    for (const [index, stream] of streams.entries()) {
      await redis.xadd(stream, '*', 'data', Buffer.from([0xff, index]), 'enc', 'raw')
      await redis.xadd(stream, '*', 'payload', `p${index}`, 'extra', '')
    }
    total = lines.length + 2 + streams.length * 2
  }, 120_000)

  const partitionEntries = async (topicStreams: readonly string[]): Promise<Array<Array<[string, Buffer[]]>>> => Promise.all(topicStreams.map(async (stream) => rawEntries(redis, stream)))

  it('into a topic with as many partitions, --keep-ids: every partition the same, IDs and bytes', async () => {
    const target = await createPartitionedTopic(server.url, 'rt.parts-copy', 3)
    const result = await runPipeline(`qctl tail ${shellQuote(source)} --json -u ${url()} | qctl publish ${shellQuote(target.topic)} --envelope --keep-ids - --json -u ${url()}`)
    expect(result.code, result.stderr).toBe(0)
    expect(jsonOf<PublishResult>(result).published).toBe(total)
    const [from, to] = [await partitionEntries(streams), await partitionEntries(target.partitions.map((partition) => partition.stream))]
    expect(to.map((entries) => entries.map(([id]) => id))).toEqual(from.map((entries) => entries.map(([id]) => id)))
    expect(to.map(fieldsHex)).toEqual(from.map(fieldsHex))
  })

  it('without --keep-ids, routed by key as publish does: each key in its partition, in its order', async () => {
    const target = await createPartitionedTopic(server.url, 'rt.parts-routed', 3)
    const result = await runPipeline(`qctl tail ${shellQuote(source)} -u ${url()} | qctl publish ${shellQuote(target.topic)} --envelope - -u ${url()}`)
    expect(result.code, result.stderr).toBe(0)
    const to = await partitionEntries(target.partitions.map((partition) => partition.stream))
    const from = await partitionEntries(streams)
    expect(to.flat()).toHaveLength(total)
    // Keyed entries: the same partition (the same count), the same sequence per key.
    const byKey = (partitions: Array<Array<[string, Buffer[]]>>): Map<string, string[]> => {
      const keys = new Map<string, string[]>()
      partitions.forEach((entries, partition) => {
        for (const [, fields] of entries) {
          const at = fields.findIndex((value, i) => i % 2 === 0 && value.toString() === 'key')
          if (at === -1) continue
          const key = fields[at + 1]?.toString() as string
          expect(partition).toBe(partitionOfKey(key, 3))
          keys.set(key, [...(keys.get(key) ?? []), fieldsHex([['', fields]])[0]?.join(',') as string])
        }
      })
      return keys
    }
    expect(byKey(to)).toEqual(byKey(from))
    // Every entry, keyless ones too, is there once.
    const all = (partitions: Array<Array<[string, Buffer[]]>>): string[] => partitions.flatMap((entries) => fieldsHex(entries).map((values) => values.join(','))).sort()
    expect(all(to)).toEqual(all(from))
  })

  it('into a plain topic: the entries in tail\'s time order (ID milliseconds, then partition)', async () => {
    const target = name('merged')
    const tailed = ndjson<Envelope>((await runCli(['tail', source, '--json', '-u', server.url])).stdout)
    const result = await runPipeline(`qctl tail ${shellQuote(source)} --json -u ${url()} | qctl publish ${shellQuote(target)} --envelope - -u ${url()}`)
    expect(result.code, result.stderr).toBe(0)
    const to = await rawEntries(redis, target)
    const from = new Map((await partitionEntries(streams)).flatMap((entries, partition) => entries.map(([id, fields]) => [`${partition}/${id}`, fields] as const)))
    expect(fieldsHex(to)).toEqual(fieldsHex(tailed.map((envelope) => ['', from.get(`${envelope.partition ?? 0}/${envelope.id}`) as Buffer[]])))
  })

  it('--keep-ids into a topic with another partition count is refused: nothing published', async () => {
    const target = await createPartitionedTopic(server.url, 'rt.parts-two', 2)
    const file = join(dir, `${source}.ndjson`)
    expect((await runPipeline(`qctl tail ${shellQuote(source)} --json -u ${url()} > ${shellQuote(file)}`)).code).toBe(0)
    const result = await runCli(['publish', target.topic, '--envelope', file, '--keep-ids', '-u', server.url])
    expect(result.code).toBe(5)
    expect(result.stderr).toMatch(new RegExp(`^Error: ${file}:\\d+: --keep-ids: (the key ".+" belongs to partition \\d of "${target.topic}" \\(2 partitions\\), not to partition \\d the envelope comes from|partition 2 does not exist in "${target.topic}" \\(2 partitions\\)): the envelopes must come from a topic with as many partitions; nothing was published`))
    expect((await partitionEntries(target.partitions.map((partition) => partition.stream))).flat()).toEqual([])
  })
})
