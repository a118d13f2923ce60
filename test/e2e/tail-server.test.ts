import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {formatStreamId, idAfter, parseStreamId} from '../../src/core/dlq/stream-id.js'
import type {Envelope} from '../../src/core/envelope/envelope.js'
import {CLI, cleanEnv, PROJECT_ROOT, runCli, startCli, waitFor, type RunningCli} from '../helpers/cli.js'
import {createPartitionedTopic} from '../helpers/partitioned.js'
import {RedisServer} from '../helpers/redis-server.js'
import {ndjson} from '../helpers/streams.js'
import {clientsNamedOn, followerUpOn} from '../helpers/tail.js'
import {startTcpProxy, type TcpProxy} from '../helpers/tcp-proxy.js'

/**
 * `qctl tail` against servers of its own, so they can be killed, restarted, put behind a TCP proxy
 * and filled with 180 MB: --follow riding out a Redis restart and a dropped connection (each entry
 * printed once, in order per partition), a read without --follow cut mid-way (exit 3, how far it got),
 * and a reader that does not read holding tail back with flat memory. On one server only (a cluster's
 * nodes are restarted by test/e2e/cluster.test.ts); test/e2e/tail.test.ts has the rest, on both.
 */

let server: RedisServer
let redis: Redis
let dir: string
let counter = 0

const topicName = (prefix = 'tail'): string => `${prefix}.t-${++counter}`
const tail = (...args: string[]): string[] => ['tail', ...args, '-u', server.url]
const envelopesOf = (stdout: string): Envelope[] => ndjson<Envelope>(stdout)
const clientsNamed = async (_key: string, name: string): Promise<Array<Record<string, string>>> => clientsNamedOn(await server.client(), name)
const followerUp = async (stream: string): Promise<void> => followerUpOn(clientsNamed, stream)

beforeAll(async () => {
  server = await RedisServer.start()
  redis = await server.client()
  dir = await mkdtemp(join(tmpdir(), 'qctl-tail-server-'))
})

afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
  await rm(dir, {recursive: true, force: true})
})

describe('a lost connection (a private server of its own, with AOF, and a TCP proxy in front of it)', () => {
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

  const ownClients = async (_key: string, name: string): Promise<Array<Record<string, string>>> => clientsNamedOn(await own.client(), name)
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

describe('refusals that end a follower (asking again would be refused again)', () => {
  const user = (name: string, password: string): string => `redis://${name}:${password}@127.0.0.1:${server.port}`

  beforeAll(async () => {
    // What tail runs, and nothing else (as the monitor role grants it).
    for (const name of ['tail-acl', 'tail-pass']) {
      await redis.call('ACL', 'SETUSER', name, 'on', '>first-Pw', 'resetkeys', '-@all', '+ping', '+client|setname', '+exists', '+hgetall', '+xrange', '+xrevrange', '+xread', '~tail.*', '~qctl:topic:*')
    }
  })

  it('an ACL that no longer allows the reads: exit 4 naming the refused command, after what it printed', async () => {
    const topic = topicName()
    await redis.xadd(topic, '*', 'data', 'before')
    const running = startCli(['tail', topic, '--follow', '--from', 'start', '-u', user('tail-acl', 'first-Pw')], {timeoutMs: 60_000})
    await followerUp(topic)
    await redis.call('ACL', 'SETUSER', 'tail-acl', '-xread')
    // The read under way ends within its block time (5 s); the next one is refused.
    const result = await running.done
    expect(result.code, result.stderr).toBe(4)
    expect(envelopesOf(result.stdout).map((envelope) => envelope.data)).toEqual(['before'])
    expect(result.stderr).toMatch(new RegExp(`^Error: permission denied for XREAD to user 'tail-acl' on 127\\.0\\.0\\.1:${server.port}: `))
  })

  it('a password changed while the connection was lost: the reconnect is refused, exit 4', async () => {
    const topic = topicName()
    await redis.xadd(topic, '*', 'data', 'before')
    const running = startCli(['tail', topic, '--follow', '--from', 'start', '-u', user('tail-pass', 'first-Pw')], {timeoutMs: 60_000})
    await followerUp(topic)
    await redis.call('ACL', 'SETUSER', 'tail-pass', 'resetpass', '>second-Pw')
    await redis.call('CLIENT', 'KILL', 'USER', 'tail-pass')
    const result = await running.done
    expect(result.code, result.stderr).toBe(4)
    expect(envelopesOf(result.stdout).map((envelope) => envelope.data)).toEqual(['before'])
    const lines = result.stderr.split('\n')
    expect(lines[0]).toMatch(/^warning: lost the connection to /)
    expect(lines[1]).toBe(`Error: authentication failed for user 'tail-pass' on 127.0.0.1:${server.port}: wrong password, unknown user or user disabled`)
    expect(result.stderr).not.toContain('first-Pw')
    expect(result.stderr).not.toContain('second-Pw')
  })
})

describe('output that does not keep up', () => {
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

  it('a reader that does not read holds a bounded read back (flat memory); Ctrl-C then exits 130', async () => {
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

  it('a reader that does not read holds --follow back (flat memory); Ctrl-C then exits 0', async () => {
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
