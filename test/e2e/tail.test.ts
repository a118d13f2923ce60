import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Envelope} from '../../src/core/envelope/envelope.js'
import {topicMetadataKey} from '../../src/core/keys.js'
import {partitionOfKey} from '../../src/core/partitions/partition-hash.js'
import {CLI, runCli, startCli, waitFor} from '../helpers/cli.js'
import {createPartitionedTopic} from '../helpers/partitioned.js'
import {ndjson, runPipeline} from '../helpers/streams.js'
import {clientsNamedOn, followerUpOn} from '../helpers/tail.js'
import {startTestRedis, type AdminClient, type TestRedis} from '../helpers/test-redis.js'
import {shellQuote, TmuxSession} from '../helpers/tmux.js'

/**
 * `qctl tail` through the built CLI: what it prints (envelopes piped or with --json, lines for
 * people on a terminal), every flag, partitioned topics merged in time order, --follow (partitions
 * added while it runs), the reads it makes (never a group), a reader that goes away, and every
 * refusal. A Redis restart, a dropped connection and a reader that does not read are in
 * test/e2e/tail-server.test.ts (servers of its own).
 */

let server: TestRedis
let redis: AdminClient
let dir: string
let counter = 0

const topicName = (prefix = 'tail'): string => `${prefix}.t-${++counter}`
const tail = (...args: string[]): string[] => ['tail', ...args, '-u', server.url]
const envelopesOf = (stdout: string): Envelope[] => ndjson<Envelope>(stdout)

beforeAll(async () => {
  server = await startTestRedis()
  redis = await server.client()
  dir = await mkdtemp(join(tmpdir(), 'qctl-tail-'))
})

afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
  await rm(dir, {recursive: true, force: true})
})

/** A plain topic whose entries have the given IDs (data `n<index>`, key `k<index>`). */
async function topicWithIds(ids: readonly string[]): Promise<string> {
  const topic = topicName()
  for (const [index, id] of ids.entries()) await redis.xadd(topic, id, 'data', `n${index}`, 'key', `k${index}`)
  return topic
}

/** The clients named `name` on the server that holds `key` (CLIENT LIST), as field maps. */
const clientsNamed = async (key: string, name: string): Promise<Array<Record<string, string>>> => clientsNamedOn(await server.nodeFor(key), name)

/** Resolves once `qctl tail --follow` has its blocking connection to the node of `stream` (after its snapshot of where each partition ends). */
const followerUp = async (stream: string): Promise<void> => followerUpOn(clientsNamed, stream)

describe('what it prints', () => {
  it('piped, one envelope per line (the same as with --json): the entry\'s key, headers, payload and time', async () => {
    const topic = topicName()
    const published = await runCli(['publish', topic, '--data', '{"n":1}', '--key', 'k1', '-H', 'a=b', '-u', server.url])
    expect(published.code, published.stderr).toBe(0)
    await redis.xadd(topic, '*', 'data', Buffer.from([0xff, 0x00]), 'enc', 'raw')
    const piped = await runCli(tail(topic))
    const json = await runCli(tail(topic, '--json'))
    expect(piped.code, piped.stderr).toBe(0)
    expect(piped.stderr).toBe('')
    expect(json.stdout).toBe(piped.stdout)
    const [first, second] = envelopesOf(piped.stdout)
    const ids = (await redis.xrange(topic, '-', '+')).map(([id]) => id)
    expect(first).toEqual({topic, partition: null, id: ids[0], key: 'k1', headers: {a: 'b'}, data: '{"n":1}', publishedAt: new Date(Number(ids[0]?.split('-')[0])).toISOString()})
    expect(second).toMatchObject({key: null, headers: {}, dataBase64: '/wA=', enc: 'raw'})
    // The members in the documented order.
    expect(piped.stdout.split('\n')[0]).toMatch(/^\{"topic":.*,"partition":null,"id":.*,"key":"k1","headers":\{"a":"b"\},"data":.*,"publishedAt":"[^"]+"\}$/)
  })

  it('on a terminal: one line per entry, control characters escaped, cut to the width', async () => {
    const topic = topicName()
    await redis.xadd(topic, '*', 'data', '{"n":1}', 'key', 'customer-7', 'headers', '{"source":"checkout"}')
    await redis.xadd(topic, '*', 'data', 'red \u001b[31mtext\r\nnext', 'enc', 'raw')
    await redis.xadd(topic, '*', 'payload', 'p', 'user', 'u')
    await redis.xadd(topic, '*', 'data', `long ${'x'.repeat(300)}`)
    const ids = (await redis.xrange(topic, '-', '+')).map(([id]) => id)
    const tailCommand = `node ${shellQuote(CLI)} tail ${shellQuote(topic)} -u ${shellQuote(server.url)}`
    const command = `${tailCommand}; echo "exit $?"; ${tailCommand} --limit 1 --json; echo "json exit $?"; sleep 30`
    const session = await TmuxSession.start('tail', command, {cols: 100, rows: 20})
    try {
      const screen = await session.waitForScreen((text) => text.includes('json exit '), 15_000, 'tail to finish')
      const lines = screen.split('\n').filter((line) => line !== '')
      const time = (id: string): string => new Date(Number(id.split('-')[0])).toISOString()
      expect(lines.slice(0, 5)).toEqual([
        `${ids[0]} ${time(ids[0] as string)} customer-7 {"n":1}  headers source=checkout`,
        `${ids[1]} ${time(ids[1] as string)} - red \\u001b[31mtext\\r\\nnext  enc=raw`,
        `${ids[2]} ${time(ids[2] as string)} - <no data field>  fields payload=p user=u`,
        `${ids[3]} ${time(ids[3] as string)} - long ${'x'.repeat(100 - 1 - `${ids[3]} ${time(ids[3] as string)} - long `.length)}…`,
        'exit 0',
      ])
      // --json on a terminal: envelopes all the same (joined where the terminal wrapped the line).
      const joined = (await session.capture({joinWrapped: true})).split('\n').filter((text) => text.startsWith('{'))
      expect(joined.map((text) => (JSON.parse(text) as Envelope).id)).toEqual([ids[0]])
      expect(lines.at(-1)).toBe('json exit 0')
    } finally {
      await session.kill()
    }
  })
})

describe('--from, --limit, --match', () => {
  const ids = ['1000-0', '1000-1', '2000-0', '3000-5']

  it.each([
    [[], ['1000-0', '1000-1', '2000-0', '3000-5']],
    [['--from', 'start'], ['1000-0', '1000-1', '2000-0', '3000-5']],
    [['--from', '1000-1'], ['1000-1', '2000-0', '3000-5']],
    [['--from', '2000'], ['2000-0', '3000-5']],
    [['--from', '1970-01-01T00:00:02.001Z'], ['3000-5']],
    [['--from', 'end'], []],
    [['--limit', '2'], ['1000-0', '1000-1']],
    [['-n', '3', '--from', '1000-1'], ['1000-1', '2000-0', '3000-5']],
    [['--match', 'k[13]'], ['1000-1', '3000-5']],
    [['--match', 'k*', '--limit', '1', '--from', '2000-0'], ['2000-0']],
    [['--match', 'nomatch*'], []],
  ])('tail %j', async (args, expected) => {
    const topic = await topicWithIds(ids)
    const result = await runCli(tail(topic, ...args))
    expect(result.code, result.stderr).toBe(0)
    expect(envelopesOf(result.stdout).map((envelope) => envelope.id)).toEqual(expected)
  })

  it('--from a duration ago: only entries added since', async () => {
    const topic = await topicWithIds(['1000-0'])
    await redis.xadd(topic, '*', 'data', 'now')
    const result = await runCli(tail(topic, '--from', '1h'))
    expect(envelopesOf(result.stdout).map((envelope) => envelope.data)).toEqual(['now'])
  })

  it('--match: entries without a key never match, \\ escapes a glob character', async () => {
    const topic = topicName()
    await redis.xadd(topic, '*', 'data', '1', 'key', 'a*b')
    await redis.xadd(topic, '*', 'data', '2', 'key', 'axb')
    await redis.xadd(topic, '*', 'data', '3')
    await redis.xadd(topic, '*', 'other', '4', 'key', 'a*b')
    const escaped = await runCli(tail(topic, '--match', 'a\\*b'))
    expect(envelopesOf(escaped.stdout).map((envelope) => envelope.data)).toEqual(['1', null])
    const any = await runCli(tail(topic, '--match', '*'))
    expect(envelopesOf(any.stdout).map((envelope) => envelope.key)).toEqual(['a*b', 'axb', 'a*b'])
  })
})

describe('a partitioned topic', () => {
  it('every partition, merged in time order (ID milliseconds, then partition), each entry with its partition', async () => {
    const {topic, partitions} = await createPartitionedTopic(server.url, 'tail.parts', 3)
    const [p0, p1, p2] = partitions.map((partition) => partition.stream) as [string, string, string]
    for (const [stream, id] of [[p0, '1000-0'], [p0, '3000-0'], [p1, '1000-0'], [p1, '2000-0'], [p2, '2000-1'], [p2, '2000-2']] as const) await redis.xadd(stream, id, 'data', `${stream}/${id}`)
    const order = (stdout: string): string[] => envelopesOf(stdout).map((envelope) => `p${envelope.partition} ${envelope.id}`)
    const all = await runCli(tail(topic, '--json'))
    expect(all.code, all.stderr).toBe(0)
    expect(order(all.stdout)).toEqual(['p0 1000-0', 'p1 1000-0', 'p1 2000-0', 'p2 2000-1', 'p2 2000-2', 'p0 3000-0'])
    expect(envelopesOf(all.stdout).every((envelope) => envelope.topic === topic)).toBe(true)
    // --from per partition, --limit in all.
    expect(order((await runCli(tail(topic, '--from', '2000'))).stdout)).toEqual(['p1 2000-0', 'p2 2000-1', 'p2 2000-2', 'p0 3000-0'])
    expect(order((await runCli(tail(topic, '--from', '2000-1', '--limit', '2'))).stdout)).toEqual(['p2 2000-1', 'p2 2000-2'])
    // A small read batch makes the merge refill partitions one at a time: the same order.
    expect(order((await runCli(tail(topic, '--limit', '4'))).stdout)).toEqual(['p0 1000-0', 'p1 1000-0', 'p1 2000-0', 'p2 2000-1'])
  })

  it('an empty partitioned topic prints nothing and exits 0', async () => {
    const {topic} = await createPartitionedTopic(server.url, 'tail.empty', 2)
    const result = await runCli(tail(topic))
    expect([result.code, result.stdout, result.stderr]).toEqual([0, '', ''])
  })
})

describe('--follow', () => {
  it('a plain topic: prints new entries as they come; Ctrl-C ends it with exit 0', async () => {
    const topic = await topicWithIds(['1000-0'])
    const running = startCli(tail(topic, '-f'), {timeoutMs: 60_000})
    await followerUp(topic)
    for (const n of [1, 2, 3]) expect((await runCli(['publish', topic, '--data', `{"n":${n}}`, '-u', server.url])).code).toBe(0)
    await waitFor(() => running.output().stdout.split('\n').filter(Boolean).length === 3, 15_000, 'three entries')
    running.child.kill('SIGINT')
    const result = await running.done
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toBe('')
    // --from end by default: not the entry there was before.
    expect(envelopesOf(result.stdout).map((envelope) => envelope.data)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}'])
  })

  it('a partitioned topic: the entries there are (--from start), then new ones of every partition; --limit ends it', async () => {
    const {topic, partitions} = await createPartitionedTopic(server.url, 'tail.follow', 3)
    await redis.xadd(partitions[0]?.stream as string, '*', 'data', 'before')
    const running = startCli(tail(topic, '--follow', '--from', 'start', '--limit', '7'), {timeoutMs: 60_000})
    await followerUp(partitions[2]?.stream as string)
    const lines = Array.from({length: 6}, (_, n) => JSON.stringify({n, k: `key-${n}`}))
    expect((await runCli(['publish', topic, '--ndjson', '--key-field', 'k', '-u', server.url], {input: `${lines.join('\n')}\n`})).code).toBe(0)
    const result = await running.done
    expect(result.code, result.stderr).toBe(0)
    const envelopes = envelopesOf(result.stdout)
    expect(envelopes.map((envelope) => envelope.data)[0]).toBe('before')
    expect(envelopes.slice(1).map((envelope) => envelope.key).sort()).toEqual(['key-0', 'key-1', 'key-2', 'key-3', 'key-4', 'key-5'])
    // Each with its partition: where the stream of that partition holds it.
    for (const envelope of envelopes) {
      const stream = partitions[envelope.partition as number]?.stream as string
      expect((await redis.xrange(stream, envelope.id, envelope.id))[0]?.[1]).toContain(envelope.data)
    }
  })

  it('reads with XRANGE, XREVRANGE and XREAD only: no group, no consumer, nothing written (MONITOR on every node)', async () => {
    const {topic, partitions} = await createPartitionedTopic(server.url, 'tail.reads', 2)
    const streams = partitions.map((partition) => partition.stream)
    for (const stream of streams) await redis.xadd(stream, '*', 'data', 'x', 'key', 'k')
    // The test's own write comes from a connection of its own, left out of what MONITOR shows.
    const writer = await server.nodeFor(streams[1] as string)
    await writer.ping()
    const writerAddress = `127.0.0.1:${writer.stream.localPort}`
    const monitors: Redis[] = [writer]
    const commands: string[] = []
    for (const stream of streams) {
      const node = await server.nodeFor(stream)
      const monitor = await node.monitor()
      node.disconnect()
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        const command = String(args[0]).toLowerCase()
        // CLUSTER KEYSLOT: the test harness finding a key's node (nodeFor).
        if (command === 'cluster' && String(args[1]).toLowerCase() === 'keyslot') return
        if (source !== writerAddress && args.some((arg) => streams.includes(arg) || arg.includes(`{${topic}}`))) commands.push(command)
      })
      monitors.push(monitor)
    }
    try {
      expect((await runCli(tail(topic, '--limit', '1'))).code).toBe(0)
      const running = startCli(tail(topic, '--follow', '--from', 'start', '--limit', '3'), {timeoutMs: 60_000})
      await followerUp(streams[1] as string)
      await writer.xadd(streams[1] as string, '*', 'data', 'y', 'key', 'k')
      expect((await running.done).code).toBe(0)
      await waitFor(() => commands.includes('xread'), 5000, 'MONITOR to relay the XREAD')
    } finally {
      for (const monitor of monitors) monitor.disconnect()
    }
    // On a cluster the metadata hash may live on a node not watched here: HGETALL need not show.
    const seen = [...new Set(commands)].sort()
    expect(seen.filter((command) => command !== 'hgetall')).toEqual(['xrange', 'xread', 'xrevrange'])
    for (const stream of streams) expect(await redis.xinfo('GROUPS', stream)).toEqual([])
  })

  it('a partitioned topic that `qctl topic alter` grows: the new partitions are followed from their start, said on stderr', async () => {
    const {topic, partitions} = await createPartitionedTopic(server.url, 'tail.grow', 2)
    const running = startCli(tail(topic, '--follow', '--json'), {timeoutMs: 90_000})
    await followerUp(partitions[1]?.stream as string)
    const altered = await runCli(['topic', 'alter', topic, '--partitions', '4', '--yes', '-u', server.url])
    expect(altered.code, altered.stderr).toBe(0)
    // Published at once, before tail can have looked again (every 5 s): read from the new partitions' start, none is skipped.
    const keys = Array.from({length: 40}, (_, n) => `key-${n}`)
    expect(keys.filter((key) => partitionOfKey(key, 4) >= 2).length).toBeGreaterThan(5)
    const lines = keys.map((k, n) => JSON.stringify({n, k}))
    expect((await runCli(['publish', topic, '--ndjson', '--key-field', 'k', '-u', server.url], {input: `${lines.join('\n')}\n`})).code).toBe(0)
    await waitFor(() => envelopesOf(running.output().stdout).length >= keys.length, 30_000, 'every entry, those of the new partitions included').catch((error: unknown) => {
      throw new Error(`${String(error)}\nstdout:\n${running.output().stdout}\nstderr:\n${running.output().stderr}`)
    })
    running.child.kill('SIGINT')
    const result = await running.done
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toBe(`${topic} grew from 2 to 4 partitions: following partitions 2-3 too, from their start\n`)
    const envelopes = envelopesOf(result.stdout)
    // Each once, each with the partition its key goes to now (the new ones included), where that partition's stream holds it.
    expect(envelopes.map((envelope) => envelope.key).sort()).toEqual([...keys].sort())
    for (const envelope of envelopes) expect(envelope.partition).toBe(partitionOfKey(envelope.key as string, 4))
    expect(new Set(envelopes.map((envelope) => envelope.partition))).toEqual(new Set([0, 1, 2, 3]))
    const {partitions: now} = JSON.parse((await runCli(['topic', 'describe', topic, '--json', '-u', server.url])).stdout) as {partitions: Array<{stream: string}>}
    for (const envelope of envelopes) expect((await redis.xrange(now[envelope.partition as number]?.stream as string, envelope.id, envelope.id))[0]?.[1]).toContain(envelope.data)
  })
})

describe('output that does not keep up', () => {
  it('| head -n 1: tail stops quietly when the reader goes away (exit 0, nothing on stderr)', async () => {
    const topic = topicName()
    const lines = Array.from({length: 20_000}, (_, n) => JSON.stringify({n}))
    expect((await runCli(['publish', topic, '--ndjson', '-u', server.url], {input: `${lines.join('\n')}\n`})).code).toBe(0)
    const result = await runPipeline(`qctl tail ${shellQuote(topic)} -u ${shellQuote(server.url)} | head -n 1; echo "tail exited \${PIPESTATUS[0]}" >&2`)
    expect(envelopesOf(result.stdout).map((envelope) => envelope.data)).toEqual(['{"n":0}'])
    expect(result.stderr).toBe('tail exited 0\n')
  })
})

describe('refusals', () => {
  it('a topic that does not exist: exit 6', async () => {
    const result = await runCli(tail('tail.none'))
    expect([result.code, result.stderr]).toEqual([6, 'Error: topic "tail.none" does not exist (no stream at that key)\n'])
    const json = await runCli(tail('tail.none', '--json'))
    expect(JSON.parse(json.stdout)).toMatchObject({error: {code: 'NOT_FOUND', exitCode: 6}})
  })

  it('a key that is not a stream: exit 2 naming it', async () => {
    const key = topicName()
    await redis.set(key, 'x')
    const result = await runCli(tail(key))
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(new RegExp(`^Error: .*${key.replace('.', '\\.')}.* (a string|string)`))
  })

  it.each([
    [['--from', 'yesterday'], 'Error: invalid --from "yesterday": use start, end, a duration ago (30m, 1h, 7d, 1w), an ISO time (2026-11-28T10:00:00Z, 2026-11-28) or a stream ID (1700000000000-0)'],
    [['--limit', '0'], 'Error: Parsing --limit: Expected an integer greater than or equal to 1 but received: 0'],
    [['--match'], 'Error: Flag --match expects a value'],
  ])('tail T %j: exit 2', async (args, message) => {
    const topic = await topicWithIds(['1000-0'])
    const result = await runCli(tail(topic, ...args))
    expect(result.code).toBe(2)
    expect(result.stderr.split('\n')[0]).toBe(message)
  })

  it('--follow with Redis unreachable at the start: exit 3 at once (only a lost connection is ridden out)', async () => {
    const result = await runCli(['tail', topicName(), '--follow', '-u', 'redis://127.0.0.1:1'], {timeoutMs: 20_000})
    expect([result.code, result.stdout, result.stderr]).toEqual([3, '', 'Error: cannot connect to 127.0.0.1:1: connection refused\n'])
  })

  it('a follower ends on metadata qctl did not write, read again while it follows: exit 5 (another attempt would be refused again)', async () => {
    const {topic, partitions} = await createPartitionedTopic(server.url, 'tail.badmeta', 2)
    await redis.xadd(partitions[0]?.stream as string, '*', 'data', 'before')
    const running = startCli(tail(topic, '--follow', '--from', 'start'), {timeoutMs: 60_000})
    await followerUp(partitions[1]?.stream as string)
    await redis.hset(topicMetadataKey(topic), 'partitions', 'many')
    const result = await running.done
    expect(result.code, result.stderr).toBe(5)
    expect(envelopesOf(result.stdout).map((envelope) => envelope.data)).toEqual(['before'])
    expect(result.stderr.split('\n')[0]).toBe(`Error: the metadata of topic "${topic}" (${topicMetadataKey(topic)}) has an invalid partition count ("many")`)
  })

  it('without TOPIC: exit 2', async () => {
    const result = await runCli(['tail', '-u', server.url])
    expect([result.code, result.stderr.split('\n')[0]]).toEqual([2, 'Error: missing required argument: TOPIC'])
  })
})
