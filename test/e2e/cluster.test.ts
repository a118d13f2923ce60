import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Cluster} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {LagRow} from '../../src/core/lag/lag.js'
import type {PublishResult} from '../../src/core/publish/publish.js'
import type {InspectResult} from '../../src/core/stats/inspect.js'
import type {TopicDescription} from '../../src/core/topics/describe.js'
import {keySlot} from '../../src/core/redis/key-slot.js'
import {readClusterSnapshot} from '../../src/core/stats/cluster-snapshot.js'
import {readTopics} from '../../src/core/stats/topic-reading.js'
import {freePort, RedisServer} from '../helpers/redis-server.js'
import {aclFileText, parseAclFile, ROLES, userOf, type Role} from '../helpers/acl-docs.js'
import {jsonOf, runCli, startCli, waitFor, type CliResult} from '../helpers/cli.js'
import {ROLE_COMMANDS, seedTopic} from '../helpers/command-table.js'
import {readLog, RECORDER} from '../helpers/recorder.js'
import {RedisCluster, useRedisCluster} from '../helpers/cluster-harness.js'
import {makeTestCertificates, type TestCertificates} from '../helpers/tls.js'

/**
 * Every command on a real local Redis Cluster of three primaries (test/helpers/cluster-harness.ts),
 * with topics whose slots live on different primaries, connected through ONE seed (the first
 * primary): what lives elsewhere is reached by following the slot map, never missed.
 */
const context = useRedisCluster({primaries: 3})
let admin: Cluster
let dir: string
/** Topics on primaries 0, 1 and 2 (in the harness's order of primaries). */
let topics: string[]
let counter = 0

const seed = (): string => context.cluster.seedUrl
const qctl = async (args: string[], options: {input?: string; env?: Record<string, string>} = {}) =>
  runCli([...args, '--redis-url', seed()], {timeoutMs: 60_000, ...options})

/** A fresh topic name owned by primary `index`. */
async function topicOn(index: number): Promise<string> {
  const [name] = (await context.cluster.namesOnEachPrimary(`c${++counter}.orders`)).slice(index, index + 1)
  if (name === undefined) throw new Error(`no name for primary ${index}`)
  return name
}

const ndjson = (count: number, make: (n: number) => object = (n) => ({n})): string =>
  Array.from({length: count}, (_unused, n) => JSON.stringify(make(n))).join('\n') + '\n'

beforeAll(async () => {
  admin = await context.cluster.client()
  dir = await mkdtemp(join(tmpdir(), 'qctl-cluster-'))
  topics = await context.cluster.namesOnEachPrimary('orders')
})

afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

describe('key slots', () => {
  /** About 200 keys: hash-tag edge cases, non-ASCII and binary ones, and random ones over braces and multi-byte letters. */
  function variedKeys(): Array<string | Buffer> {
    const keys: Array<string | Buffer> = [
      '', 'a', 'foo', '123456789', '{a}b', 'a{}b', 'x}y', '{{a}}', '{}', '{}{a}', '{a}{b}', 'a{b}c{d}', '{', '}', '}{', 'a{b', 'a}b{c}',
      '{user1000}.following', 'orders', '{orders}:dlq', 'x}y:dlq', 'stream:{t}:p:{i}', 'ключ', '{键}值', 'emoji-😀', '{😀}tail', 'naïve{é}',
      '\u0000nul', 'new\nline', ' ', 'x'.repeat(1000), `{${'y'.repeat(300)}}z`,
    ]
    let seed = 42
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    const alphabet = ['a', 'b', 'Z', '0', '9', '{', '}', ':', '-', '.', ' ', 'é', 'ß', '中', '😀']
    while (keys.length < 180) keys.push(Array.from({length: 1 + Math.floor(random() * 12)}, () => alphabet[Math.floor(random() * alphabet.length)]).join(''))
    while (keys.length < 200) keys.push(Buffer.from(Array.from({length: 1 + Math.floor(random() * 16)}, () => Math.floor(random() * 256))))
    return keys
  }

  it('keySlot (src/core/redis/key-slot.ts) agrees with CLUSTER KEYSLOT for 200 varied keys', async () => {
    const keys = variedKeys()
    const node = await context.cluster.nodeClient(context.cluster.primaries()[0]?.port as number)
    const pipeline = node.pipeline()
    for (const key of keys) pipeline.call('CLUSTER', 'KEYSLOT', key)
    const replies = (await pipeline.exec()) ?? []
    node.disconnect()
    expect(keys.map((key) => keySlot(key))).toEqual(replies.map(([error, slot]) => (error === null ? Number(slot) : error.message)))
  })
})

describe('connecting to a Redis Cluster', () => {
  it('finds the cluster from one seed (HELLO) and publishes to a topic another primary owns', async () => {
    const topic = topics[1] as string
    const primaries = context.cluster.primaries()
    expect(await context.cluster.ownerOf(topic)).toBe(primaries[1]?.port)
    const result = await qctl(['publish', topic, '--json'], {input: '{"a":1}'})
    expect(result.code, result.stderr).toBe(0)
    expect(jsonOf<PublishResult>(result).published).toBe(1)
    expect(await admin.xlen(topic)).toBe(1)
  })

  it('takes several seeds (repeated -u, or a comma-separated QCTL_REDIS_URL) and --cluster', async () => {
    const [first, second] = context.cluster.urls
    const topic = await topicOn(2)
    const repeated = await runCli(['publish', topic, '-u', first as string, '-u', second as string, '--cluster'], {input: '{"a":1}'})
    expect(repeated.code, repeated.stderr).toBe(0)
    const listed = await runCli(['publish', topic], {input: '{"a":2}', env: {QCTL_REDIS_URL: context.cluster.urls.join(','), QCTL_REDIS_CLUSTER: '1'}})
    expect(listed.code, listed.stderr).toBe(0)
    expect(await admin.xlen(topic)).toBe(2)
  })

  it('refuses a /db in cluster mode (exit 2), before anything is written', async () => {
    const topic = await topicOn(0)
    const result = await runCli(['publish', topic, '--redis-url', `${seed()}/2`], {input: '{"a":1}'})
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/serves database 0 only/)
    expect(await admin.exists(topic)).toBe(0)
  })

  it('a cluster node used as one server (QCTL_REDIS_CLUSTER=0) says so on MOVED (exit 2), not "internal error"', async () => {
    const topic = await topicOn(1)
    const result = await runCli(['publish', topic, '--redis-url', seed()], {input: '{"a":1}', env: {QCTL_REDIS_CLUSTER: '0'}})
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/Redis Cluster node and the key lives on another node \(MOVED/)
    expect(result.stderr).not.toMatch(/internal error|bug in qctl/)
  })

  it('rejects a malformed QCTL_REDIS_CLUSTER and --cluster-nat (exit 2)', async () => {
    expect((await qctl(['lag'], {env: {QCTL_REDIS_CLUSTER: 'maybe'}})).code).toBe(2)
    const nat = await qctl(['lag', '--cluster-nat', 'nonsense'])
    expect(nat.code).toBe(2)
    expect(nat.stderr).toMatch(/invalid --cluster-nat "nonsense"/)
  })
})

describe('stale slot maps and seeds that are down', () => {
  it('a first seed that is down is skipped for the next', async () => {
    const topic = await topicOn(1)
    const result = await runCli(['publish', topic, '-u', `redis://127.0.0.1:${await freePort()}`, '-u', seed()], {input: '{"a":1}'})
    expect(result.code, result.stderr).toBe(0)
    expect(await admin.xlen(topic)).toBe(1)
  })

  it('a reading that meets MOVED (the slot moved since the map was read) reads that part again from the new owner', async () => {
    const topic = await topicOn(0)
    await admin.xadd(topic, '*', 'data', '{}')
    const [first, second] = context.cluster.primaries()
    // A client whose slot map stays as it was read (no periodic refresh during the test).
    const stale = new Cluster([{host: '127.0.0.1', port: first?.port as number}], {slotsRefreshInterval: 600_000, enableReadyCheck: false, lazyConnect: true})
    stale.on('error', () => {})
    await stale.connect()
    try {
      const before = await readTopics(stale, [{topic}])
      expect(before[0]?.node).toBe(`127.0.0.1:${first?.port}`)
      await context.cluster.migrateSlot(keySlot(topic), second?.port as number)
      const [after] = await readTopics(stale, [{topic}])
      expect(after).toMatchObject({topic, kind: 'stream', length: 1, node: `127.0.0.1:${second?.port}`})
      const snapshot = await readClusterSnapshot(stale, [topic], {})
      expect(snapshot.topics.map((row) => [row.topic, row.node])).toEqual([[topic, `127.0.0.1:${second?.port}`]])
    } finally {
      stale.disconnect()
    }
  })
})

describe('publish and work on every primary', () => {
  it('publishes NDJSON batches and drains them with workers, topic by topic, on three primaries', async () => {
    const mine = await Promise.all([0, 1, 2].map(async (index) => topicOn(index)))
    for (const topic of mine) {
      const published = await qctl(['publish', topic, '--ndjson', '-', '--json'], {input: ndjson(2000)})
      expect(published.code, published.stderr).toBe(0)
      expect(jsonOf<PublishResult>(published).published).toBe(2000)
    }
    const logs = mine.map((_topic, index) => join(dir, `drain-${counter}-${index}.log`))
    const runs = await Promise.all(
      mine.map(async (topic, index) => qctl(['work', RECORDER, '--topic', topic, '--group', 'billing', '--until-empty', '--concurrency', '8', '--json'], {env: {QCTL_TEST_LOG: logs[index] as string}})),
    )
    for (const [index, run] of runs.entries()) {
      expect(run.code, run.stderr).toBe(0)
      const done = readLog(logs[index] as string).filter((line) => line.phase === 'done')
      expect(new Set(done.map((line) => line.id)).size).toBe(2000)
      expect(await admin.xpending(mine[index] as string, 'billing')).toEqual([0, null, null, null])
    }
  })

  it('retries and dead-letters on another primary; the DLQ lives in the topic\'s slot', async () => {
    const topic = await topicOn(2)
    const input = ndjson(30, (n) => (n % 10 === 0 ? {fail: 'permanent'} : n % 10 === 1 ? {fail: 'transient', times: 1} : {n}))
    expect((await qctl(['publish', topic, '--ndjson', '-'], {input})).code).toBe(0)
    const run = await qctl(['work', RECORDER, '--topic', topic, '--group', 'g', '--until-empty', '--backoff-delay', '10ms', '--json'], {env: {QCTL_TEST_LOG: join(dir, `dl-${counter}.log`)}})
    expect(run.code, run.stderr).toBe(0)
    const summary = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.event === 'summary')
    expect(summary).toMatchObject({processed: 27, deadLettered: 3, retried: 3, lost: 0})
    expect(keySlot(`{${topic}}:dlq`)).toBe(keySlot(topic))
    expect(await admin.xlen(`{${topic}}:dlq`)).toBe(3)
  })

  it('refuses, before writing anything, a topic whose keys cannot share a slot and a --dlq in another slot (exit 2)', async () => {
    const split = `c${++counter}}x`
    expect((await qctl(['publish', split], {input: '{"a":1}'})).code).toBe(0)
    const bad = await qctl(['work', RECORDER, '--topic', split, '--group', 'g', '--until-empty'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/cannot be worked on a Redis Cluster/)
    expect(await admin.xinfo('GROUPS', split)).toEqual([])

    const topic = await topicOn(1)
    expect((await qctl(['publish', topic], {input: '{"a":1}'})).code).toBe(0)
    const otherSlot = await qctl(['work', RECORDER, '--topic', topic, '--group', 'g', '--dlq', 'elsewhere', '--until-empty'])
    expect(otherSlot.code).toBe(2)
    expect(otherSlot.stderr).toMatch(/--dlq "elsewhere" is in hash slot/)
    expect(await admin.xinfo('GROUPS', topic)).toEqual([])
    const replay = await qctl(['dlq', 'replay', topic, '--dlq', 'elsewhere', '--yes'])
    expect(replay.code).toBe(2)
  })
})

describe('a slot migration under a blocked worker', () => {
  it('the worker follows its topic to the new owner (Redis 7.0 says UNBLOCKED, 7.2+ and Valkey MOVED) and never reports the group gone', async () => {
    const topic = await topicOn(0)
    const [, target] = context.cluster.primaries()
    const log = join(dir, `migrate-${counter}.log`)
    expect((await qctl(['publish', topic], {input: '{"n":0}'})).code).toBe(0)
    const worker = startCli(['work', RECORDER, '--topic', topic, '--group', 'mover', '--json', '--redis-url', seed()], {env: {QCTL_TEST_LOG: log}, timeoutMs: 60_000})
    try {
      await waitFor(() => readLog(log).some((line) => line.phase === 'done'), 20_000, 'the first entry handled')
      // Blocked in XREADGROUP on the source when the keys move, one at a time (topic, retry hash and replay stream split for a while).
      await context.cluster.migrateSlot(keySlot(topic), target?.port as number, {batch: 1})
      expect(await context.cluster.ownerOf(topic)).toBe(target?.port)
      expect((await qctl(['publish', topic, '--ndjson', '-'], {input: ndjson(50)})).code).toBe(0)
      await waitFor(() => readLog(log).filter((line) => line.phase === 'done').length >= 51, 20_000, 'the entries published after the move handled')
      expect(worker.child.exitCode).toBe(null)
    } finally {
      worker.child.kill('SIGTERM')
    }
    const result = await worker.done
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).not.toMatch(/no longer exists \(the stream was deleted|"event":"error"/)
    expect(await admin.xpending(topic, 'mover')).toEqual([0, null, null, null])
  })
})

describe('a group destroyed on a cluster', () => {
  it('stops the worker with exit 6 once the owner, asked again, says it is gone', async () => {
    const topic = await topicOn(2)
    const log = join(dir, `destroyed-${counter}.log`)
    expect((await qctl(['publish', topic], {input: '{"n":0}'})).code).toBe(0)
    const worker = startCli(['work', RECORDER, '--topic', topic, '--group', 'doomed', '--json', '--redis-url', seed()], {env: {QCTL_TEST_LOG: log}, timeoutMs: 60_000})
    await waitFor(() => readLog(log).some((line) => line.phase === 'done'), 20_000, 'the first entry handled')
    await admin.xgroup('DESTROY', topic, 'doomed')
    const result = await worker.done
    expect(result.code, result.stderr).toBe(6)
    expect(result.stdout).toMatch(/consumer group \\"doomed\\" of topic .* no longer exists/)
  })
})

describe('lag, inspect, top and dlq across primaries', () => {
  let mine: string[]
  let prefix: string

  beforeAll(async () => {
    prefix = `c${++counter}.ops`
    mine = await context.cluster.namesOnEachPrimary(prefix)
    for (const [index, topic] of mine.entries()) {
      const input = ndjson(10 + index, (n) => (n < 2 ? {fail: 'permanent'} : {n}))
      expect((await qctl(['publish', topic, '--ndjson', '-'], {input})).code).toBe(0)
      // Two handled and dead-lettered; the rest undelivered, or read ahead and released (pending): 8 + index.
      expect((await qctl(['work', RECORDER, '--topic', topic, '--group', 'ops', '--max-messages', '2'], {env: {QCTL_TEST_LOG: join(dir, `ops-${index}.log`)}})).code).toBe(0)
    }
  })

  it('lag finds the topics of every primary (one SCAN per primary) and names each one\'s node', async () => {
    const result = await qctl(['lag', '--match', `${prefix}*`, '--json'])
    expect(result.code, result.stderr).toBe(0)
    const rows = jsonOf<LagRow[]>(result)
    expect(rows.map((row) => row.topic).sort()).toEqual([...mine].sort())
    const ports = context.cluster.primaries().map((node) => node.port)
    for (const row of rows) {
      const index = mine.indexOf(row.topic)
      expect(row.node).toBe(`127.0.0.1:${ports[index]}`)
      expect(row).toMatchObject({group: 'ops', deadLetters: 2, topicDeadLetters: 2})
      expect((row.lag ?? 0) + row.pending).toBe(8 + index)
    }
    const table = await qctl(['lag', ...mine])
    expect(table.stdout).toMatch(/\bNODE\b/)
    for (const port of ports) expect(table.stdout).toContain(`127.0.0.1:${port}`)
  })

  it('lag gates see every primary', async () => {
    const failing = await qctl(['lag', ...mine, '--max-dlq', '1'])
    expect(failing.code).toBe(8)
    for (const topic of mine) expect(failing.stderr).toContain(`${topic}/ops: dead letters 2 > --max-dlq 1`)
    expect((await qctl(['lag', ...mine, '--max-dlq', '2'])).code).toBe(0)
  })

  it('inspect reads a topic on another primary and says which', async () => {
    const result = await qctl(['inspect', mine[2] as string, '--json'])
    expect(result.code, result.stderr).toBe(0)
    const report = jsonOf<InspectResult>(result)
    expect(report.node).toBe(`127.0.0.1:${context.cluster.primaries()[2]?.port}`)
    expect(report.groups.map((group) => group.name)).toEqual(['ops'])
    expect(report.deadLetters.length).toBe(2)
  })

  it('top --once --json shows every primary\'s topics, with the cluster\'s nodes', async () => {
    const result = await qctl(['top', '--once', '--json', '--interval', '300ms', ...mine])
    expect(result.code, result.stderr).toBe(0)
    const top = jsonOf<{cluster: {nodes: string[]} | null; rows: Array<{topic: string; node: string | null; lag: number | null}>}>(result)
    expect(top.cluster?.nodes).toHaveLength(3)
    expect(top.rows.map((row) => row.topic).sort()).toEqual([...mine].sort())
    for (const row of top.rows) expect(top.cluster?.nodes).toContain(row.node)
  })

  it('dlq list, show, replay and purge work on the owner of each topic', async () => {
    const topic = mine[1] as string
    const list = await qctl(['dlq', 'list', topic, '--json'])
    expect(list.code, list.stderr).toBe(0)
    const entries = (jsonOf<{entries: Array<{dlqId: string}>}>(list)).entries
    expect(entries).toHaveLength(2)
    const show = await qctl(['dlq', 'show', topic, entries[0]?.dlqId as string, '--json'])
    expect(show.code, show.stderr).toBe(0)
    const replay = await qctl(['dlq', 'replay', topic, '--limit', '1', '--yes', '--json'])
    expect(replay.code, replay.stderr).toBe(0)
    expect(await admin.xlen(`{${topic}}:replay:ops`)).toBe(1)
    const purge = await qctl(['dlq', 'purge', topic, '--yes', '--json'])
    expect(purge.code, purge.stderr).toBe(0)
    expect(await admin.xlen(`{${topic}}:dlq`)).toBe(0)
  })

  it('demo runs against the cluster', async () => {
    const result = await qctl(['demo', '--json'])
    expect(result.code, result.stderr).toBe(0)
  })
})

describe('--cluster-nat', () => {
  it('reaches nodes that announce addresses this host cannot resolve', async () => {
    const ports = context.cluster.nodes.map((node) => node.port)
    // Each node announces a host name nothing resolves; the cluster bus keeps using the IPs.
    for (const port of ports) {
      const node = await context.cluster.nodeClient(port)
      await node.config('SET', 'cluster-announce-hostname', `node-${port}.invalid`)
      await node.config('SET', 'cluster-preferred-endpoint-type', 'hostname')
      node.disconnect()
    }
    // The names spread by gossip: until every node knows every other's, CLUSTER SLOTS says "?".
    await waitFor(async () => {
      const maps = await Promise.all(ports.map(async (port) => {
        const node = await context.cluster.nodeClient(port)
        const slots = JSON.stringify(await node.call('CLUSTER', 'SLOTS'))
        node.disconnect()
        return slots
      }))
      return maps.every((map) => !map.includes('"?"') && ports.every((port) => map.includes(`node-${port}.invalid`)))
    }, 20_000, 'every node to announce every host name')
    try {
      const topic = await topicOn(2)
      const without = await qctl(['publish', topic, '--connect-timeout', '2s'], {input: '{"a":1}'})
      expect(without.code).toBe(3)
      const nat = ports.flatMap((port) => ['--cluster-nat', `node-${port}.invalid:${port}=127.0.0.1:${port}`])
      const withNat = await qctl(['publish', topic, ...nat], {input: '{"a":1}'})
      expect(withNat.code, withNat.stderr).toBe(0)
      expect(await admin.xlen(topic)).toBe(1)
    } finally {
      for (const port of ports) {
        const node = await context.cluster.nodeClient(port)
        await node.config('SET', 'cluster-preferred-endpoint-type', 'ip')
        node.disconnect()
      }
    }
  })
})

describe('least-privilege ACL roles on a cluster (docs/acl/qctl-roles.acl loaded on every node)', () => {
  /** What each role may run, as the single-server matrix (test/e2e/security-acl.test.ts) says. */
  const ALLOWED: Record<string, readonly string[]> = {
    publisher: ['publish'],
    worker: ['work'],
    operator: ['publish', 'dlq list', 'dlq show', 'dlq replay', 'dlq purge'],
    monitor: ['lag', 'inspect', 'dlq list', 'dlq show', 'top', 'group list', 'doctor'],
  }
  const passwordOf = (user: string): string => `${user}-Cl-77`
  const asUser = (user: string): string[] => ['--redis-url', `redis://${user}:${encodeURIComponent(passwordOf(user))}@127.0.0.1:${context.cluster.primaries()[0]?.port}`]
  const diagnosis = (result: CliResult): string => `exit ${result.code}\nstdout:\n${result.stdout.slice(0, 1500)}\nstderr:\n${result.stderr.slice(-1500)}`
  let aclCounter = 0

  beforeAll(async () => {
    const rules = parseAclFile(aclFileText())
    for (const {port} of context.cluster.nodes) {
      const node = await context.cluster.nodeClient(port)
      for (const [user, userRules] of rules) await node.call('ACL', 'SETUSER', user, ...userRules, `>${passwordOf(user)}`)
      // The monitor as a cluster user must not be: without +cluster|slots.
      await node.call('ACL', 'SETUSER', 'monitor-no-slots', ...(rules.get(userOf('monitor')) ?? []).filter((rule) => rule !== '+cluster|slots'), `>${passwordOf('monitor-no-slots')}`)
      await node.call('ACL', 'LOG', 'RESET')
      node.disconnect()
    }
  })

  const cells = ROLES.flatMap((role) => ROLE_COMMANDS.filter((command) => ALLOWED[role]?.includes(command.name)).map((command) => ({role, command})))

  it.each(cells.map((cell) => [`${cell.role}: ${cell.command.name}`, cell] as const))('%s works through one seed, on a topic of another primary', async (_title, {role, command}) => {
    const [, onSecond] = await context.cluster.namesOnEachPrimary(`order.acl-${++aclCounter}`)
    const seeded = await seedTopic(admin, onSecond as string)
    const result = await runCli([...command.args(seeded), ...asUser(userOf(role))], {input: command.input, timeoutMs: 60_000})
    expect(result.code, diagnosis(result)).toBe(0)
  })

  it('a partitioned topic, its partitions on several primaries: each role does its part through one seed', async () => {
    const topic = `order.acl-parts-${++aclCounter}`
    // Topic commands are an administrator's (README, Least-privilege ACL roles): the default user.
    const created = await qctl(['topic', 'create', topic, '--partitions', '3', '--json'])
    expect(created.code, diagnosis(created)).toBe(0)
    expect(new Set(jsonOf<TopicDescription>(created).partitions.map((partition) => partition.node)).size).toBeGreaterThan(1)
    const asRole = async (role: Role, args: string[], input?: string): Promise<CliResult> => {
      const result = await runCli([...args, ...asUser(userOf(role))], {timeoutMs: 60_000, ...(input === undefined ? {} : {input})})
      expect(result.code, diagnosis(result)).toBe(0)
      return result
    }
    await asRole('publisher', ['publish', topic, '--ndjson', '--key-field', 'k'], ndjson(30, (n) => ({k: `key-${n % 7}`, n})))
    await asRole('worker', ['work', RECORDER, '-t', topic, '-g', 'billing', '--until-empty'])
    // Leases, fencing tokens and the members set live in the slots of the partitions and of the topic: on several nodes.
    await asRole('worker', ['work', RECORDER, '-t', topic, '-g', 'ordered', '--ordered', '--until-empty'])
    const lag = jsonOf<LagRow[]>(await asRole('monitor', ['lag', topic, '--json']))
    expect(lag.map((row) => [row.group, row.partitions, row.length, row.lag, row.pending]).sort()).toEqual([
      ['billing', 3, 30, 0, 0],
      ['ordered', 3, 30, 0, 0],
    ])
    await asRole('monitor', ['topic', 'describe', topic])
    await asRole('operator', ['dlq', 'list', topic])
  })

  it('no node logged a refusal for the allowed commands', async () => {
    for (const {port} of context.cluster.nodes) {
      const node = await context.cluster.nodeClient(port)
      const log = (await node.call('ACL', 'LOG')) as unknown[]
      node.disconnect()
      expect(log, `ACL LOG of node ${port}`).toEqual([])
    }
  })

  it('a user without +cluster|slots is told so (exit 4), naming the right', async () => {
    const result = await runCli(['lag', ...asUser('monitor-no-slots')])
    expect(result.code, diagnosis(result)).toBe(4)
    expect(result.stderr).toMatch(/permission denied for CLUSTER\|SLOTS to user 'monitor-no-slots'/)
  })
})

describe('TLS on a cluster (tls-cluster yes, client certificates required)', () => {
  let certificates: TestCertificates
  let tlsCluster: RedisCluster | undefined

  beforeAll(async () => {
    certificates = await makeTestCertificates()
    tlsCluster = await RedisCluster.start({primaries: 3, tls: {certFile: certificates.serverCertFile, keyFile: certificates.serverKeyFile, caFile: certificates.caFile, authClients: true}})
  }, 90_000)

  afterAll(async () => {
    await tlsCluster?.stop()
    await rm(certificates.dir, {recursive: true, force: true})
  })

  it('publish, work and lag verify every node\'s certificate and present the client\'s', async () => {
    const cluster = tlsCluster as RedisCluster
    const tlsFlags = ['--redis-url', cluster.seedUrl, '--tls-ca', certificates.caFile, '--tls-cert', certificates.clientCertFile, '--tls-key', certificates.clientKeyFile]
    const [, topic] = await cluster.namesOnEachPrimary('tls.orders')
    const published = await runCli(['publish', topic as string, '--ndjson', '-', ...tlsFlags], {input: ndjson(100)})
    expect(published.code, published.stderr).toBe(0)
    const worked = await runCli(['work', RECORDER, '--topic', topic as string, '--group', 'g', '--until-empty', ...tlsFlags], {env: {QCTL_TEST_LOG: join(dir, 'tls.log')}, timeoutMs: 60_000})
    expect(worked.code, worked.stderr).toBe(0)
    const lag = await runCli(['lag', '--json', ...tlsFlags])
    expect(lag.code, lag.stderr).toBe(0)
    expect(jsonOf<LagRow[]>(lag).find((row) => row.topic === topic)).toMatchObject({group: 'g', lag: 0, pending: 0})
    // A CA that signed nothing here: refused at the first node, exit 3, never plain text.
    const wrongCa = await runCli(['lag', '--redis-url', cluster.seedUrl, '--tls-ca', certificates.otherCaFile, '--tls-cert', certificates.clientCertFile, '--tls-key', certificates.clientKeyFile])
    expect(wrongCa.code).toBe(3)
    expect(wrongCa.stderr).toMatch(/TLS|certificate/)
  })
})

describe('a one-node cluster', () => {
  const nodes: RedisServer[] = []

  afterAll(async () => {
    await Promise.all(nodes.map(async (node) => node.stop()))
  })

  /** A cluster of one node owning every slot (redis-cli refuses to create fewer than three primaries). */
  async function oneNode(args: string[] = []): Promise<RedisServer> {
    const node = await RedisServer.start({args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', ...args]})
    nodes.push(node)
    const admin = await node.client()
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
    await waitFor(async () => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), 20_000, 'cluster_state:ok')
    admin.disconnect()
    return node
  }

  it('that names no address of its own is refused with the fix (exit 2), nothing written', async () => {
    const node = await oneNode()
    const unnamed = await runCli(['publish', 'solo.orders', '--data', '{}', '-u', node.url])
    expect(unnamed.code).toBe(2)
    expect(unnamed.stderr).toMatch(/names no address for the nodes serving its slots/)
    expect(unnamed.stderr).toMatch(/Hint: set cluster-announce-ip/)
    const admin = await node.client()
    expect(await admin.exists('solo.orders')).toBe(0)
    admin.disconnect()
  })

  // A node told its address at start: Valkey 8 keeps a CLUSTER SLOTS reply cached across CONFIG SET cluster-announce-ip.
  it('with cluster-announce-ip, publish, work and lag work on it', async () => {
    const node = await oneNode(['--cluster-announce-ip', '127.0.0.1'])
    const published = await runCli(['publish', 'solo.orders', '--ndjson', '-', '-u', node.url], {input: ndjson(20)})
    expect(published.code, published.stderr).toBe(0)
    const worked = await runCli(['work', RECORDER, '--topic', 'solo.orders', '--group', 'g', '--until-empty', '-u', node.url], {env: {QCTL_TEST_LOG: join(dir, 'solo.log')}})
    expect(worked.code, worked.stderr).toBe(0)
    const lag = await runCli(['lag', '--json', '-u', node.url])
    expect(jsonOf<LagRow[]>(lag)).toEqual([expect.objectContaining({topic: 'solo.orders', group: 'g', lag: 0, pending: 0, node: `127.0.0.1:${node.port}`})])
  })
})
