import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {formatStreamId, idAfter, parseStreamId} from '../../src/core/dlq/stream-id.js'
import type {Envelope} from '../../src/core/envelope/envelope.js'
import {partitionOfKey} from '../../src/core/partitions/partition-hash.js'
import {CLI, cleanEnv, PROJECT_ROOT, runCli, startCli, waitFor, type RunningCli} from '../helpers/cli.js'
import {createPartitionedTopic} from '../helpers/partitioned.js'
import {RedisServer} from '../helpers/redis-server.js'
import {ndjson, runPipeline} from '../helpers/streams.js'
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js'
import {startTestRedis, TEST_TARGET, type AdminClient, type TestRedis} from '../helpers/test-redis.js'
import {shellQuote, TmuxSession} from '../helpers/tmux.js'

/**
 * `qctl tail` through the built CLI: what it prints (envelopes piped or with --json, lines for
 * people on a terminal), every flag, partitioned topics merged in time order, --follow (partitions
 * added while it runs, a Redis restart and a dropped connection ridden out), the reads it makes
 * (never a group), backpressure from a reader that does not read, and every refusal.
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

/** The clients named `name` on the server that holds `key` (CLIENT LIST), as field maps; `nodeFor` gives that server. */
async function clientsNamed(key: string, name: string, nodeFor = async (of: string) => server.nodeFor(of)): Promise<Array<Record<string, string>>> {
  const node = await nodeFor(key)
  try {
    const list = String(await node.client('LIST'))
    return list
      .split('\n')
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => Object.fromEntries(line.trim().split(' ').map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)])))
  } finally {
    node.disconnect()
  }
}

/** Resolves once `qctl tail --follow` has its blocking connection to the node of `stream` (after its snapshot of where each partition ends). */
const followerUp = async (stream: string): Promise<void> => waitFor(async () => (await clientsNamed(stream, 'qctl:tail:follow')).length > 0, 15_000, 'the follow connection')

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

describe.skipIf(TEST_TARGET === 'cluster')('a lost connection (a private server of its own, with AOF, and a TCP proxy in front of it)', () => {
  let own: RedisServer
  let admin: Redis
  let proxy: TcpProxy | undefined
  const started: RunningCli[] = []

  beforeAll(async () => {
    // Every write on disk at once, so a SIGKILLed server comes back with all it acknowledged.
    own = await RedisServer.start({args: ['--appendonly', 'yes', '--appendfsync', 'always']})
    admin = await own.client({maxRetriesPerRequest: 20})
  })

  afterAll(async () => {
    for (const cli of started) cli.child.kill('SIGKILL')
    await proxy?.close()
    admin?.disconnect()
    await own?.stop()
  })

  const ownClients = async (key: string, name: string): Promise<Array<Record<string, string>>> => clientsNamed(key, name, async () => own.client())
  const follower = (url: string, ...args: string[]): RunningCli => {
    const cli = startCli(['tail', ...args, '--json', '-u', url, '--connect-timeout', '1s'], {timeoutMs: 120_000})
    started.push(cli)
    return cli
  }
  const printed = (cli: RunningCli): Envelope[] => envelopesOf(cli.output().stdout)
  const saying = async (cli: RunningCli, pattern: RegExp, what: string): Promise<void> =>
    waitFor(() => pattern.test(cli.output().stderr), 60_000, what).catch((error: unknown) => {
      throw new Error(`${String(error)}\nstderr:\n${cli.output().stderr}`)
    })
  const publish = async (topic: string, from: number, count: number): Promise<void> => {
    const lines = Array.from({length: count}, (_, i) => JSON.stringify({n: from + i, k: `key-${(from + i) % 7}`}))
    const result = await runCli(['publish', topic, '--ndjson', '--key-field', 'k', '-u', own.url], {input: `${lines.join('\n')}\n`})
    expect(result.code, result.stderr).toBe(0)
  }
  /** What each partition's stream holds, in order, as `p<partition> <id>`: what tail must have printed, each once. */
  const held = async (streams: readonly string[]): Promise<string[][]> => Promise.all(streams.map(async (stream) => (await admin.xrange(stream, '-', '+')).map(([id]) => id)))
  const byPartition = (envelopes: readonly Envelope[], partitions: number): string[][] =>
    Array.from({length: partitions}, (_, partition) => envelopes.filter((envelope) => (envelope.partition ?? 0) === partition).map((envelope) => envelope.id))
  const lostLine = (address: string): RegExp => new RegExp(`^warning: lost the connection to ${address.replaceAll('.', '\\.')}: .*; reconnecting until it works \\(Ctrl-C stops\\), to go on after the last entry printed$`)
  const backLine = (address: string): RegExp => new RegExp(`^warning: reconnected to ${address.replaceAll('.', '\\.')} after [\\d.]+m?s \\([\\d,]+ attempts?\\); going on after the last entry printed$`)

  it('--follow rides through a Redis restart: entries of before, and of after it, each printed once, in order per partition', async () => {
    const {topic, partitions} = await createPartitionedTopic(own.url, 'tail.restart', 2)
    const streams = partitions.map((partition) => partition.stream)
    await publish(topic, 0, 20)
    const cli = follower(own.url, topic, '--follow', '--from', 'start')
    await waitFor(() => printed(cli).length === 20, 20_000, 'the 20 entries there were')
    await publish(topic, 20, 20)
    await waitFor(() => printed(cli).length === 40, 20_000, '20 more, as they came')

    await own.kill('SIGKILL')
    await saying(cli, /lost the connection/, 'tail to say it lost the connection')
    await own.restart()
    // At once, before tail may have reconnected (it tries again every 200 ms more, up to 5 s): read from where it was, not from the end.
    await publish(topic, 40, 20)
    await saying(cli, /reconnected to/, 'tail to say it is back')
    await publish(topic, 60, 20)
    await waitFor(() => printed(cli).length >= 80, 30_000, 'all 80 entries').catch((error: unknown) => {
      throw new Error(`${String(error)}: ${printed(cli).length} printed\nstderr:\n${cli.output().stderr}`)
    })
    cli.child.kill('SIGINT')
    const result = await cli.done
    expect(result.code, result.stderr).toBe(0)
    expect(byPartition(envelopesOf(result.stdout), 2)).toEqual(await held(streams))
    const stderr = result.stderr.split('\n').filter((line) => line !== '')
    expect(stderr).toHaveLength(2)
    expect(stderr[0]).toMatch(lostLine(`127.0.0.1:${own.port}`))
    expect(stderr[1]).toMatch(backLine(`127.0.0.1:${own.port}`))
  })

  it('--follow rides through a dropped connection, and prints what came while it could not reconnect', async () => {
    proxy = await startTcpProxy({port: own.port})
    const address = `127.0.0.1:${proxy.port}`
    const topic = `tail.dropped.${++counter}`
    await admin.xadd(topic, '*', 'data', 'first')
    const cli = follower(proxy.url, topic, '--follow')
    await waitFor(async () => (await ownClients(topic, 'qctl:tail:follow')).length > 0, 15_000, 'the follow connection')
    for (const n of [1, 2, 3]) await admin.xadd(topic, '*', 'data', `before ${n}`)
    await waitFor(() => printed(cli).length === 3, 15_000, 'three entries')

    // Every connection cut, and those tail opens now held: it cannot reconnect until the proxy forwards again.
    proxy.pause()
    proxy.cut()
    await saying(cli, /lost the connection/, 'tail to say it lost the connection')
    for (const n of [1, 2, 3]) await admin.xadd(topic, '*', 'data', `while away ${n}`)
    // It kept trying meanwhile: a connection is open (held) at the proxy.
    await waitFor(() => (proxy as TcpProxy).connections > 0, 15_000, 'an attempt to reconnect')
    proxy.resume()
    await saying(cli, /reconnected to/, 'tail to say it is back')
    for (const n of [1, 2, 3]) await admin.xadd(topic, '*', 'data', `after ${n}`)
    await waitFor(() => printed(cli).length >= 9, 20_000, 'nine entries')
    cli.child.kill('SIGINT')
    const result = await cli.done
    expect(result.code, result.stderr).toBe(0)
    const all = (await admin.xrange(topic, '-', '+')).slice(1)
    expect(envelopesOf(result.stdout).map((envelope) => [envelope.id, envelope.data])).toEqual(all.map(([id, fields]) => [id, fields[1]]))
    const stderr = result.stderr.split('\n').filter((line) => line !== '')
    expect(stderr).toHaveLength(2)
    expect(stderr[0]).toMatch(lostLine(address))
    expect(stderr[1]).toMatch(backLine(address))
    await proxy.close()
    proxy = undefined
  })

  it('--follow while Redis stays away: it keeps trying until Ctrl-C, which exits 0 after what it printed', async () => {
    proxy = await startTcpProxy({port: own.port})
    const topic = `tail.away.${++counter}`
    await admin.xadd(topic, '*', 'data', 'first')
    const cli = follower(proxy.url, topic, '--follow', '--from', 'start')
    await waitFor(() => printed(cli).length === 1, 15_000, 'the first entry')
    proxy.pause()
    proxy.cut()
    await saying(cli, /lost the connection/, 'tail to say it lost the connection')
    // Each attempt is held at the proxy until --connect-timeout (1s) and stays there half-closed: three of them, one after another.
    await waitFor(() => (proxy as TcpProxy).connections >= 3, 30_000, 'three attempts to reconnect')
    expect(cli.child.exitCode).toBeNull()
    cli.child.kill('SIGINT')
    const result = await cli.done
    expect(result.code, result.stderr).toBe(0)
    expect(envelopesOf(result.stdout).map((envelope) => envelope.data)).toEqual(['first'])
    expect(result.stderr.split('\n').filter((line) => line !== '')).toHaveLength(1)
    await proxy.close()
    proxy = undefined
  })

  it('without --follow, a lost connection ends the read: exit 3, saying how far it got, and how to go on', async () => {
    proxy = await startTcpProxy({port: own.port})
    const address = `127.0.0.1:${proxy.port}`
    const topic = `tail.cut.${++counter}`
    const pad = 'x'.repeat(1500)
    expect((await runCli(['publish', topic, '--ndjson', '-u', own.url], {input: `${Array.from({length: 2000}, (_, n) => JSON.stringify({n, pad})).join('\n')}\n`})).code).toBe(0)
    // A reader that does not read yet: tail holds its next read back, its connection idle.
    const child = spawn(process.execPath, [CLI, 'tail', topic, '-u', proxy.url], {cwd: PROJECT_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']})
    child.stdout.pause()
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const done = new Promise<number | null>((resolve) => child.once('close', resolve))
    await waitFor(async () => (await ownClients(topic, 'qctl:tail')).some((client) => Number(client.idle) >= 2), 30_000, 'tail to be held back')
    proxy.cut()
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stdout.resume()
    const code = await done
    expect(code, stderr).toBe(3)
    const envelopes = envelopesOf(stdout)
    const ids = (await admin.xrange(topic, '-', '+')).map(([id]) => id)
    expect(envelopes.length).toBeGreaterThan(0)
    expect(envelopes.length).toBeLessThan(ids.length)
    // What it printed is the start of the topic, and the error says exactly how much.
    expect(envelopes.map((envelope) => envelope.id)).toEqual(ids.slice(0, envelopes.length))
    const last = envelopes.at(-1)?.id as string
    const next = formatStreamId(idAfter(parseStreamId(last) as NonNullable<ReturnType<typeof parseStreamId>>))
    expect(stderr).toBe(
      `Error: lost connection to ${address}: connection closed by the server; printed ${envelopes.length.toLocaleString('en-US')} entries before it (the last ${last})\n` +
        `Hint: tail again with --from ${next} to go on after it\n`,
    )
    await proxy.close()
    proxy = undefined
  }, 90_000)
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

  /** RSS of a process in MB (Linux). */
  const rssMb = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024

  /** 120,000 entries of ~1.5 KB (~180 MB as envelopes): far more than a process that buffered them could hide. */
  async function bigTopic(): Promise<{topic: string; file: string}> {
    const topic = topicName('tail.big')
    const file = join(dir, `${topic}.ndjson`)
    const pad = 'x'.repeat(1500)
    await writeFile(file, `${Array.from({length: 120_000}, (_, n) => JSON.stringify({n, pad})).join('\n')}\n`)
    return {topic, file}
  }

  /** `qctl tail` with a stdout nobody reads (a pipe whose reader is paused). */
  function pausedTail(args: string[]): {child: ReturnType<typeof spawn>; done: Promise<{code: number | null; stderr: string}>} {
    const child = spawn(process.execPath, [CLI, ...args], {cwd: PROJECT_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']})
    child.stdout.pause()
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const done = new Promise<{code: number | null; stderr: string}>((resolve) => child.once('exit', (code) => resolve({code, stderr})))
    return {child, done}
  }

  /** Until the connection named `name` has sent nothing for 2 s while not blocked in a read: the output holds it back. */
  const heldBack = async (key: string, name: string): Promise<void> =>
    waitFor(async () => (await clientsNamed(key, name)).some((client) => Number(client.idle) >= 2 && !(client.flags ?? '').includes('b')), 30_000, `${name} to stop reading`)

  it.skipIf(TEST_TARGET === 'cluster')('a reader that does not read holds a bounded read back (flat memory); Ctrl-C then exits 130', async () => {
    const {topic, file} = await bigTopic()
    expect((await runCli(['publish', topic, file, '-u', server.url], {timeoutMs: 120_000})).code).toBe(0)
    const {child, done} = pausedTail(tail(topic))
    await heldBack(topic, 'qctl:tail')
    expect(rssMb(child.pid as number)).toBeLessThan(150)
    child.kill('SIGINT')
    const result = await done
    expect(result.code).toBe(130)
    expect(result.stderr).toMatch(/^Error: interrupted after [\d,]+ entries\n$/)
  }, 180_000)

  it.skipIf(TEST_TARGET === 'cluster')('a reader that does not read holds --follow back (flat memory); Ctrl-C then exits 0', async () => {
    const {topic, file} = await bigTopic()
    await redis.xadd(topic, '*', 'data', 'first')
    const {child, done} = pausedTail(tail(topic, '--follow'))
    await followerUp(topic)
    expect((await runCli(['publish', topic, file, '-u', server.url], {timeoutMs: 120_000})).code).toBe(0)
    await heldBack(topic, 'qctl:tail:follow')
    expect(rssMb(child.pid as number)).toBeLessThan(150)
    child.kill('SIGINT')
    const result = await done
    expect([result.code, result.stderr]).toEqual([0, ''])
  }, 180_000)
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

  it('without TOPIC: exit 2', async () => {
    const result = await runCli(['tail', '-u', server.url])
    expect([result.code, result.stderr.split('\n')[0]]).toEqual([2, 'Error: missing required argument: TOPIC'])
  })
})
