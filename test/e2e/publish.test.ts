import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {PublishResult} from '../../src/core/publish/publish.js'
import {jsonOf, runCli} from '../helpers/cli.js'
import {startTestRedis, type AdminClient, type TestRedis} from '../helpers/test-redis.js'

let server: TestRedis
let redis: AdminClient
let dir: string
let topicCounter = 0

const nextTopic = (): string => `orders.test-${++topicCounter}`

/** Every entry of a stream as [id, {field: value}] (values as exact bytes). */
async function entries(topic: string): Promise<Array<[string, Record<string, Buffer>]>> {
  const raw = await redis.xrangeBuffer(topic, '-', '+')
  return raw.map(([id, fields]) => {
    const record: Record<string, Buffer> = {}
    for (let i = 0; i < fields.length; i += 2) record[fields[i]!.toString()] = fields[i + 1]!
    return [id.toString(), record]
  })
}

const publishArgs = (topic: string, ...rest: string[]): string[] => ['publish', topic, ...rest, '--redis-url', server.url]

beforeAll(async () => {
  server = await startTestRedis()
  redis = await server.client()
  dir = await mkdtemp(join(tmpdir(), 'qctl-publish-'))
})

afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
  await rm(dir, {recursive: true, force: true})
})

describe('qctl publish: single documents', () => {
  it('publishes a JSON file as one message, payload byte-identical, and prints a summary', async () => {
    const topic = nextTopic()
    const document = '{\n  "orderId": 42,\n  "total": 9.5,\n  "note": "caf\u00e9 \ud83d\ude80"\n}'
    const file = join(dir, 'order.json')
    await writeFile(file, `${document}\n`)

    const result = await runCli(publishArgs(topic, file))

    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const stored = await entries(topic)
    expect(stored).toHaveLength(1)
    expect(stored[0]![1].data!.equals(Buffer.from(document))).toBe(true)
    expect(result.stdout).toBe(`Published 1 message to ${topic}: ${stored[0]![0]}\n`)
  })

  it('reads one document from stdin', async () => {
    const topic = nextTopic()
    const result = await runCli(publishArgs(topic, '-', '--json'), {input: '{"from":"stdin"}\n'})
    expect(result.code).toBe(0)
    const json = jsonOf<PublishResult>(result)
    const stored = await entries(topic)
    expect(stored.map(([, fields]) => fields.data!.toString())).toEqual(['{"from":"stdin"}'])
    expect(json.id).toBe(stored[0]![0])
  })

  it('publishes --data with a key and headers, laid out in the documented wire format', async () => {
    const topic = nextTopic()
    const result = await runCli(
      publishArgs(topic, '--data', '{"orderId":7}', '--key', 'customer-9', '-H', 'source=checkout', '--header', 'trace=a=b', '--json'),
    )
    expect(result.code).toBe(0)
    const json = jsonOf<PublishResult>(result)
    expect(json).toEqual({
      topic,
      published: 1,
      firstId: json.id,
      lastId: json.id,
      id: json.id,
      skipped: 0,
      skippedLines: [],
      deduplicated: 0,
      durationMs: expect.any(Number) as number,
    })
    const raw = await redis.xrange(topic, '-', '+')
    expect(raw).toEqual([[json.id, ['data', '{"orderId":7}', 'key', 'customer-9', 'headers', '{"source":"checkout","trace":"a=b"}']]])
  })

  it('publishes --raw bytes unchanged, including invalid UTF-8, and marks them enc=raw', async () => {
    const topic = nextTopic()
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x41, 0x0a, 0xc3, 0x28, 0x0d, 0x0a])
    const file = join(dir, 'blob.bin')
    await writeFile(file, bytes)
    const result = await runCli(publishArgs(topic, file, '--raw'))
    expect(result.code).toBe(0)
    const [[, fields]] = (await entries(topic)) as [[string, Record<string, Buffer>]]
    expect(fields.data!.equals(bytes)).toBe(true)
    expect(fields.enc!.toString()).toBe('raw')
  })

  it('treats a JSON array file as one message (a document is one message)', async () => {
    const topic = nextTopic()
    const file = join(dir, 'array.json')
    await writeFile(file, '[{"a":1},{"a":2}]')
    const result = await runCli(publishArgs(topic, file))
    expect(result.code).toBe(0)
    expect((await entries(topic)).map(([, f]) => f.data!.toString())).toEqual(['[{"a":1},{"a":2}]'])
  })

  it('rejects invalid JSON with file:line:column, exit 5, and publishes nothing', async () => {
    const topic = nextTopic()
    const file = join(dir, 'bad.json')
    await writeFile(file, '{\n  "orderId": 42,\n  "total": oops\n}\n')
    const result = await runCli(publishArgs(topic, file))
    expect(result.code).toBe(5)
    expect(result.stderr.split('\n')[0]).toBe(`Error: ${file}:3:12: invalid JSON: Unexpected token 'o'; nothing was published`)
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(await redis.exists(topic)).toBe(0)
  })

  it('rejects a payload over --max-payload before sending (exit 5)', async () => {
    const topic = nextTopic()
    const file = join(dir, 'big.json')
    await writeFile(file, JSON.stringify({blob: 'x'.repeat(3000)}))
    const result = await runCli(publishArgs(topic, file, '--max-payload', '2KiB', '--json'))
    expect(result.code).toBe(5)
    const json = jsonOf<{error: {code: string; exitCode: number; message: string}}>(result)
    expect(json.error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(json.error.exitCode).toBe(5)
    expect(json.error.message).toMatch(/over the --max-payload limit of 2\.0 KiB/)
    expect(await redis.exists(topic)).toBe(0)
  })

  it('rejects a 100 MB file by its size, without reading it', async () => {
    const topic = nextTopic()
    const file = join(dir, 'huge.json')
    const handle = await import('node:fs/promises').then(async (fs) => fs.open(file, 'w'))
    await handle.truncate(100 * 1024 * 1024)
    await handle.close()
    const result = await runCli(publishArgs(topic, file))
    expect(result.code).toBe(5)
    expect(result.stderr).toMatch(/payload of 100\.0 MiB is over the --max-payload limit of 1\.0 MiB/)
    await rm(file)
  })

  it('publishes nothing and exits 0 for an empty file', async () => {
    const topic = nextTopic()
    for (const name of ['empty.json', 'empty.ndjson']) {
      const file = join(dir, name)
      await writeFile(file, '')
      const result = await runCli(publishArgs(topic, file, '--json'))
      expect(result.code).toBe(0)
      expect(jsonOf<PublishResult>(result)).toMatchObject({published: 0, firstId: null, lastId: null, skipped: 0})
    }
    expect(await redis.exists(topic)).toBe(0)
  })

  it('exits 6 for a missing file, naming it', async () => {
    const result = await runCli(publishArgs(nextTopic(), join(dir, 'nope.json')))
    expect(result.code).toBe(6)
    expect(result.stderr).toBe(`Error: file not found: ${join(dir, 'nope.json')}\n`)
  })
})

describe('qctl publish: NDJSON', () => {
  it('publishes 10,000 lines in order with byte-identical payloads', async () => {
    const topic = nextTopic()
    const lines = Array.from({length: 10_000}, (_, i) =>
      JSON.stringify({seq: i, customer: {id: `c-${i % 97}`}, note: i % 3 === 0 ? 'caf\u00e9 \ud83d\ude00' : 'x'.repeat(i % 50)}),
    )
    const file = join(dir, 'orders.ndjson')
    await writeFile(file, `${lines.join('\n')}\n`)

    const result = await runCli(publishArgs(topic, file, '--key-field', 'customer.id', '--json'))

    expect(result.code).toBe(0)
    const json = jsonOf<PublishResult>(result)
    const stored = await entries(topic)
    expect(json.published).toBe(10_000)
    expect(stored).toHaveLength(10_000)
    expect(json.firstId).toBe(stored[0]![0])
    expect(json.lastId).toBe(stored.at(-1)![0])
    for (const [index, [, fields]] of stored.entries()) {
      expect(fields.data!.equals(Buffer.from(lines[index]!))).toBe(true)
      expect(fields.key!.toString()).toBe(`c-${index % 97}`)
    }
  })

  it('validates a large file in parallel ranges and still names the right line (and publishes every line otherwise)', async () => {
    const topic = nextTopic()
    const file = join(dir, 'large.ndjson')
    // ~6 MiB: above the size where validation is split across worker threads.
    const lines = Array.from({length: 30_000}, (_, i) => JSON.stringify({seq: i, pad: 'p'.repeat(180 + (i % 7))}))
    const bad = [...lines]
    bad[27_777] = '{"seq": 27777, "pad": }'
    bad[29_000] = 'nope'
    await writeFile(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${bad.join('\r\n')}\r\n`)]))
    const rejected = await runCli(publishArgs(topic, file))
    expect(rejected.code).toBe(5)
    expect(rejected.stderr).toBe(
      `Error: ${file}:27778:23: invalid JSON: Unexpected token '}'; nothing was published (2 invalid lines in all; use --skip-invalid to publish the valid ones)\n`,
    )
    expect(await redis.exists(topic)).toBe(0)

    await writeFile(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${lines.join('\r\n')}\r\n`)]))
    const accepted = await runCli(publishArgs(topic, file, '--json'))
    expect(accepted.code).toBe(0)
    const stored = await entries(topic)
    expect(stored.map(([, fields]) => fields.data!.toString())).toEqual(lines)
  })

  it('accepts a UTF-8 BOM and CRLF line endings, and skips blank lines', async () => {
    const topic = nextTopic()
    const file = join(dir, 'windows.jsonl')
    await writeFile(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"n":1}\r\n\r\n{"n":2}\r\n   \r\n{"n":3}')]))
    const result = await runCli(publishArgs(topic, file))
    expect(result.code).toBe(0)
    expect((await entries(topic)).map(([, f]) => f.data!.toString())).toEqual(['{"n":1}', '{"n":2}', '{"n":3}'])
  })

  it('validates the whole file first: one bad line publishes nothing (exit 5, file:line:column)', async () => {
    const topic = nextTopic()
    const file = join(dir, 'one-bad.ndjson')
    const lines = Array.from({length: 5000}, (_, i) => JSON.stringify({seq: i}))
    lines[4321] = '{"seq": 4321,, "oops": true}'
    await writeFile(file, lines.join('\n'))
    const result = await runCli(publishArgs(topic, file))
    expect(result.code).toBe(5)
    expect(result.stderr).toBe(`Error: ${file}:4322:14: invalid JSON: Expected double-quoted property name; nothing was published\n`)
    expect(await redis.exists(topic)).toBe(0)
  })

  it('from stdin, publishes lines as they stream and stops at a bad line with the count so far', async () => {
    const topic = nextTopic()
    const input = ['{"n":1}', '{"n":2}', '{"n":3}', 'not json', '{"n":5}'].join('\n')
    const result = await runCli(publishArgs(topic, '--ndjson', '--json'), {input})
    expect(result.code).toBe(5)
    const json = jsonOf<{error: {code: string; message: string; details: {published: number; lastLine: number}}}>(result)
    expect(json.error.message).toBe("<stdin>:4:2: invalid JSON: Unexpected token 'o'; published 3 messages before it (through input line 3)")
    expect(json.error.details).toMatchObject({published: 3, lastLine: 3})
    expect((await entries(topic)).map(([, f]) => f.data!.toString())).toEqual(['{"n":1}', '{"n":2}', '{"n":3}'])
  })

  it('--skip-invalid skips bad lines and reports how many and which', async () => {
    const topic = nextTopic()
    const file = join(dir, 'some-bad.ndjson')
    const lines = Array.from({length: 30}, (_, i) => (i % 2 === 1 ? `{bad ${i}` : JSON.stringify({i})))
    await writeFile(file, lines.join('\n'))
    const human = await runCli(publishArgs(topic, file, '--skip-invalid'))
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^Published 15 messages to orders\.test-\d+ in /)
    expect(human.stdout).toContain('Skipped 15 invalid lines: 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, …')

    const json = jsonOf<PublishResult>(await runCli(publishArgs(nextTopic(), file, '--skip-invalid', '--json')))
    expect(json).toMatchObject({published: 15, skipped: 15, skippedLines: [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]})
  })

  it('rejects an oversize line in NDJSON with its line number', async () => {
    const topic = nextTopic()
    const file = join(dir, 'long-line.ndjson')
    await writeFile(file, `{"a":1}\n${JSON.stringify({blob: 'y'.repeat(5000)})}\n{"a":3}\n`)
    const result = await runCli(publishArgs(topic, file, '--max-payload', '4KiB'))
    expect(result.code).toBe(5)
    expect(result.stderr).toMatch(new RegExp(`^Error: ${file}:2: payload of 4\\.9 KiB is over the --max-payload limit of 4\\.0 KiB; nothing was published`))
    expect(await redis.exists(topic)).toBe(0)
  })

  it('--skip-lines resumes after the given line', async () => {
    const topic = nextTopic()
    const file = join(dir, 'resume.ndjson')
    await writeFile(file, ['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}'].join('\n'))
    const result = await runCli(publishArgs(topic, file, '--skip-lines', '2', '--json'))
    expect(result.code).toBe(0)
    expect((await entries(topic)).map(([, f]) => f.data!.toString())).toEqual(['{"n":3}', '{"n":4}'])
  })

  it('--key-field fails the file when a record lacks the field', async () => {
    const topic = nextTopic()
    const file = join(dir, 'no-key.ndjson')
    await writeFile(file, '{"customer":{"id":"a"}}\n{"customer":{}}\n')
    const result = await runCli(publishArgs(topic, file, '--key-field', 'customer.id'))
    expect(result.code).toBe(5)
    expect(result.stderr).toBe(`Error: ${file}:2: key field "customer.id" is missing (it must be a string, number or boolean); nothing was published\n`)
  })
})

describe('qctl publish: usage', () => {
  it('exits 2 with one line for an unknown flag', async () => {
    const result = await runCli(['publish', 'x', '--bogus'])
    expect(result.code).toBe(2)
    expect(result.stderr.split('\n')[0]).toBe('Error: Nonexistent flag: --bogus')
  })

  it('exits 2 when the topic key exists but is not a stream, for a document and for lines', async () => {
    await redis.set('not-a-stream', 'x')
    const single = await runCli(publishArgs('not-a-stream', '--data', '{}'))
    expect(single.code).toBe(2)
    expect(single.stderr).toBe('Error: topic "not-a-stream" is a string, not a stream; nothing was published\n')
    const lines = await runCli(publishArgs('not-a-stream', 'examples/orders.ndjson'))
    expect(lines.code).toBe(2)
    expect(lines.stderr).toBe('Error: topic "not-a-stream" is a string, not a stream; nothing was published\n')
    expect(await redis.get('not-a-stream')).toBe('x')
  })

  it('piped NDJSON without --ndjson fails on line 2 with the hint to add --ndjson, and publishes nothing', async () => {
    const result = await runCli(publishArgs('ndjson.hint'), {input: '{"a":1}\n{"a":2}\n'})
    expect(result.code).toBe(5)
    expect(result.stderr).toBe(
      'Error: <stdin>:2:1: invalid JSON: Unexpected non-whitespace character after JSON; nothing was published\nHint: it looks like NDJSON (one JSON document per line): add --ndjson\n',
    )
    expect(await redis.exists('ndjson.hint')).toBe(0)
    // A document broken on its second line is not NDJSON: no such hint.
    const broken = await runCli(publishArgs('ndjson.hint'), {input: '{"a":1,\n"b":}\n'})
    expect(broken.code).toBe(5)
    expect(broken.stderr).not.toContain('--ndjson')
  })

  it('exits 2 naming a missing argument', async () => {
    const result = await runCli(['publish'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('Error: missing required argument: TOPIC\nHint: see qctl publish --help\n')
  })

  it('exits 2 when FILE and --data are both given, and for a bad header', async () => {
    expect((await runCli(publishArgs('x', 'file.json', '--data', '{}'))).code).toBe(2)
    const bad = await runCli(publishArgs('x', '--data', '{}', '-H', 'novalue'))
    expect(bad.code).toBe(2)
    expect(bad.stderr.split('\n')[0]).toBe('Error: invalid --header "novalue": expected name=value')
  })

  it('exits 2 for a duration without a unit, naming the flag value', async () => {
    const result = await runCli(publishArgs('x', '--data', '{}', '--connect-timeout', '5'))
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/invalid duration "5": use a number with a unit/)
  })

  it('documents itself in --help', async () => {
    const result = await runCli(['publish', '--help'])
    expect(result.code).toBe(0)
    for (const flag of ['--ndjson', '--raw', '--key-field', '--header', '--max-payload', '--skip-invalid', '--redis-url', '--json']) {
      expect(result.stdout).toContain(flag)
    }
  })
})
