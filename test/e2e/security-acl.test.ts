import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DlqListJson} from '../../src/core/dlq/list.js'
import type {DlqReplayResult} from '../../src/core/dlq/scope-replay.js'
import type {TopResult} from '../../src/commands/top.js'
import {deadLetterKey, heldKeysKey, leaseTokenKey, replayKey, retryDueKey, retryKey, topicMetadataKey, waitingKeysKey} from '../../src/core/keys.js'
import type {GroupListRow} from '../../src/core/groups/list.js'
import type {LagRow} from '../../src/core/lag/lag.js'
import {timeReplyMs} from '../../src/core/redis/redis-time.js'
import type {PublishResult} from '../../src/core/publish/publish.js'
import type {TopicDescription} from '../../src/core/topics/describe.js'
import type {TopicListRow} from '../../src/core/topics/list.js'
import {aclFileText, aclSection, dryRunTable, quotedAclFile, ROLES, userOf, type Role} from '../helpers/acl-docs.js'
import {runCli, startCli, waitFor, type CliResult, type RunningCli} from '../helpers/cli.js'
import {jsonEvents} from '../helpers/json-lines.js'
import {scrape, type ParsedPage} from '../helpers/prometheus-text.js'
import {commandNamed, ROLE_COMMANDS, seedTopic, type CommandCase, type Seeded} from '../helpers/command-table.js'
import {RECORDER} from '../helpers/recorder.js'
import {startAclServer, type AclServer} from '../helpers/acl-server.js'
import type {RedisServer} from '../helpers/redis-server.js'

/**
 * The least-privilege roles of the README, loaded from docs/acl/qctl-roles.acl into a real Redis:
 * every role runs every command; allowed ones work without a single refusal in the ACL LOG,
 * denied ones exit 4 naming the missing permission and change nothing.
 */

/** What each role gets from each command: `ok`, or the command Redis refuses (named in the error). */
const MATRIX: Record<Role, Record<string, string>> = {
  publisher: {publish: 'ok', work: 'XGROUP|CREATE', lag: 'XINFO|STREAM', inspect: 'XINFO|STREAM', 'dlq list': 'XLEN', 'dlq show': 'XRANGE', 'dlq replay': 'XLEN', 'dlq purge': 'XLEN', top: 'XINFO|STREAM', 'group list': 'XINFO|STREAM', doctor: 'SCAN', tail: 'EXISTS'},
  // The worker may run XINFO STREAM on partitions' streams (--ordered), not on a topic: refused for the key.
  worker: {publish: 'XADD', work: 'ok', lag: 'XINFO', inspect: 'XINFO', 'dlq list': 'XLEN', 'dlq show': 'XRANGE', 'dlq replay': 'XLEN', 'dlq purge': 'XLEN', top: 'XINFO', 'group list': 'XINFO', doctor: 'SCAN', tail: 'EXISTS'},
  // Replay is a publish, so the operator may publish. It may create a group on a replay stream (for a
  // replay), not on a topic: refused for the key.
  operator: {publish: 'ok', work: 'XGROUP', lag: 'XINFO|STREAM', inspect: 'XINFO|STREAM', 'dlq list': 'ok', 'dlq show': 'ok', 'dlq replay': 'ok', 'dlq purge': 'ok', top: 'XINFO|STREAM', 'group list': 'XINFO|STREAM', doctor: 'SCAN', tail: 'EXISTS'},
  // The worker creates its group on the group's replay stream before it reads anything.
  monitor: {publish: 'XADD', work: 'XREADGROUP', lag: 'ok', inspect: 'ok', 'dlq list': 'ok', 'dlq show': 'ok', 'dlq replay': 'EVAL', 'dlq purge': 'XDEL', top: 'ok', 'group list': 'ok', doctor: 'ok', tail: 'ok'},
}

const CELLS = ROLES.flatMap((role) => ROLE_COMMANDS.map((command) => ({role, command, expected: MATRIX[role][command.name] ?? 'missing'})))

const passwordOf = (user: string): string => acl.passwordOf(user)

/** The selector with which every role reads partitioned topics' metadata (README, "Every role"). */
const METADATA_READ = '(+hgetall %R~qctl:topic:{order.*})'

let acl: AclServer
let server: RedisServer
let admin: Redis
let counter = 0

beforeAll(async () => {
  acl = await startAclServer('Pw-8c21')
  ;({server, admin} = acl)
  const {rules} = acl
  // Roles missing one permission each, built from the documented rules, for the "changes nothing" checks.
  const operator = rules.get(userOf('operator')) ?? []
  await acl.addUser('operator-no-xdel', [...operator, '-xdel'])
  const worker = rules.get(userOf('worker')) ?? []
  const dlqAppend = '(+xadd %W~{order.*}:dlq)'
  if (!worker.includes(dlqAppend)) throw new Error(`the worker's rules no longer hold ${dlqAppend}: update this test`)
  await acl.addUser('worker-no-dlq', worker.filter((rule) => rule !== dlqAppend))
  // The worker role as it was before replay streams: no key patterns for them.
  const replayRules = worker.filter((rule) => rule.includes(':replay'))
  if (replayRules.length === 0) throw new Error('the worker\'s rules no longer name replay streams: update this test')
  const withoutReplay = worker
    .map((rule) => rule.replace(/ ?(?:%[RW]{1,2})?~\{order\.\*\}:replay[:-]\*/g, ''))
    .filter((rule) => rule !== '')
  await acl.addUser('worker-no-replay', withoutReplay)
  // The worker role as it was before workers deleted what they finished from replay streams.
  const replayDelete = '(+xdel ~{order.*}:replay:*)'
  if (!worker.includes(replayDelete)) throw new Error(`the worker's rules no longer hold ${replayDelete}: update this test`)
  await acl.addUser('worker-no-replay-xdel', worker.filter((rule) => rule !== replayDelete))
  // The monitor role as it was before the read script: no EVAL_RO.
  const monitor = rules.get(userOf('monitor')) ?? []
  if (!monitor.includes('+eval_ro') || !monitor.includes('+evalsha_ro')) throw new Error('the monitor\'s rules no longer hold +eval_ro +evalsha_ro: update this test')
  await acl.addUser('monitor-no-eval', monitor.filter((rule) => rule !== '+eval_ro' && rule !== '+evalsha_ro'))
  // The publisher without its scripts: plain publishing falls back to pipelined XADDs; publishing once and scheduling cannot.
  const publisher = rules.get(userOf('publisher')) ?? []
  const scripts = publisher.filter((rule) => rule.startsWith('(+evalsha +eval '))
  if (scripts.length !== 1) throw new Error('the publisher\'s rules no longer hold one (+evalsha +eval …) selector: update this test')
  await acl.addUser('publisher-no-eval', publisher.filter((rule) => !scripts.includes(rule)))
  // Every role without its read of partitioned topics' metadata.
  for (const role of ROLES) {
    const roleRules = rules.get(userOf(role)) ?? []
    if (!roleRules.includes(METADATA_READ)) throw new Error(`the ${role}'s rules no longer hold ${METADATA_READ}: update this test`)
    await acl.addUser(`${role}-no-metadata`, roleRules.filter((rule) => rule !== METADATA_READ))
  }
  // A stream outside the roles' patterns, next to theirs.
  await admin.xadd('payment.settled', '*', 'data', '{}')
})

afterAll(async () => {
  admin?.disconnect()
  await server?.stop()
})

const asUser = (user: string): string[] => acl.asUser(user)

async function runAs(user: string, command: CommandCase, seeded: Seeded): Promise<CliResult> {
  return runCli([...command.args(seeded), ...asUser(user)], {input: command.input})
}

const diagnosis = (result: CliResult): string => `exit ${result.code}\nstdout:\n${result.stdout.slice(0, 1500)}\nstderr:\n${result.stderr.slice(-1500)}`

/** Everything a command could have changed about a topic: its entries, groups, pending entries, dead letters and retries. */
async function stateOf(topic: string): Promise<unknown> {
  const groups = (await admin.call('XINFO', 'GROUPS', topic).catch(() => [])) as unknown[]
  return {
    entries: await admin.xrange(topic, '-', '+'),
    groups,
    pending: await admin.xpending(topic, 'billing', '-', '+', 100).catch(() => []),
    deadLetters: await admin.xrange(deadLetterKey(topic), '-', '+'),
    retries: await admin.hgetall(retryKey(topic, 'billing')),
    replayed: await admin.xrange(replayKey(topic, 'billing'), '-', '+'),
  }
}

function expectDenied(result: CliResult, user: string, command: string): void {
  expect(result.code, diagnosis(result)).toBe(4)
  const named = command.replace('|', '\\|')
  // The reason is the server's own words: Redis says "this user has no permissions to …", Valkey
  // "User <name> has no permissions to run …" or "No permissions to access a key".
  // Warnings may come first (a worker whose user may not read its replay stream says so, then is refused on the topic).
  const errors = result.stderr
    .split('\n')
    .filter((line) => !line.startsWith('warning: '))
    .join('\n')
  expect(errors, diagnosis(result)).toMatch(new RegExp(`^Error: permission denied for ${named} to user '${user}' on 127\\.0\\.0\\.1:${server.port}: (this user has no permissions|User ${user} has no permissions|No permissions) to `))
}

describe('the documented rules', () => {
  it('the README quotes docs/acl/qctl-roles.acl verbatim', () => {
    expect(quotedAclFile(aclSection())).toBe(aclFileText())
  })

  it('grant exactly what the README table says (ACL DRYRUN of every cell)', async () => {
    const rows = dryRunTable(aclSection())
    expect(rows.length).toBeGreaterThan(30)
    const wrong: string[] = []
    for (const row of rows) {
      for (const role of ROLES) {
        const reply = String(await admin.call('ACL', 'DRYRUN', userOf(role), ...row.command))
        if ((reply === 'OK') !== row.allowed[role]) wrong.push(`${userOf(role)} ${row.command.join(' ')}: README says ${row.allowed[role] ? 'yes' : 'no'}, Redis says ${reply}`)
      }
    }
    expect(wrong).toEqual([])
  })
})

describe.concurrent('allowed: every command a role is for works', () => {
  it.each(CELLS.filter((cell) => cell.expected === 'ok').map((cell) => [`${cell.role}: ${cell.command.name}`, cell] as const))('%s', async (_title, cell) => {
    const seeded = await seedTopic(admin, `order.acl-${++counter}`)
    const result = await runAs(userOf(cell.role), cell.command, seeded)
    expect(result.code, diagnosis(result)).toBe(0)
  })

  it('monitor: lag and top over the topics of its pattern (--match), next to a stream it may not read', async () => {
    await seedTopic(admin, `order.acl-${++counter}`)
    for (const args of [['lag', '--match', 'order.*', '--json'], ['top', '--match', 'order.*', '--once', '--interval', '100ms', '--json']]) {
      const result = await runCli([...args, ...asUser(userOf('monitor'))])
      expect(result.code, diagnosis(result)).toBe(0)
      expect(result.stdout).not.toContain('payment.settled')
    }
  })

  it('monitor: qctl metrics scrapes the topics of its pattern (--match) and a named one', async () => {
    const seeded = await seedTopic(admin, `order.acl-${++counter}`)
    for (const args of [['--match', 'order.*'], [seeded.topic]]) {
      const {page, stderr} = await scrapeAs(userOf('monitor'), args)
      expect(page.value('qctl_up'), stderr).toBe(1)
      expect(page.value('qctl_stream_length', {topic: seeded.topic})).toBe(3)
      expect(page.value('qctl_dlq_length', {topic: seeded.topic})).toBe(2)
      expect(page.value('qctl_stream_group_lag', {topic: seeded.topic, group: 'billing'})).toBeGreaterThanOrEqual(0)
      expect(stderr).not.toMatch(/could not read Redis|NOPERM|permission/i)
    }
  })
})

/** `qctl metrics ARGS --port 0 --json` as `user`: one scrape, then it is stopped (SIGINT) and must exit 0. */
async function scrapeAs(user: string, args: string[]): Promise<{page: ParsedPage; stderr: string}> {
  const exporter: RunningCli = startCli(['metrics', ...args, '--port', '0', '--json', ...asUser(user)], {timeoutMs: 30_000})
  try {
    let url: string | undefined
    await waitFor(() => {
      url = jsonEvents(exporter.output().stdout).find((line) => line.event === 'listening')?.['url'] as string | undefined
      return url !== undefined || exporter.child.exitCode !== null
    }, 20_000, 'the exporter to listen')
    if (url === undefined) throw new Error(`qctl metrics exited: ${exporter.output().stderr}`)
    const page = await scrape(url)
    exporter.child.kill('SIGINT')
    const result = await exporter.done
    expect(result.code, diagnosis(result)).toBe(0)
    return {page, stderr: result.stderr}
  } finally {
    exporter.child.kill('SIGKILL')
  }
}

describe('on a partitioned topic (qctl topic create, run as an administrator: the default user)', () => {
  const topic = 'order.parts'
  let streams: string[] = []

  /** Run as the role; every run here is allowed, and must succeed. */
  async function runAsRole(role: Role, args: string[], input?: string): Promise<CliResult> {
    const result = await runCli([...args, ...asUser(userOf(role))], input === undefined ? {} : {input})
    expect(result.code, diagnosis(result)).toBe(0)
    return result
  }
  const sumOver = async (read: (stream: string) => Promise<number>): Promise<number> => (await Promise.all(streams.map(read))).reduce((sum, n) => sum + n, 0)
  const deadLetterCount = async (): Promise<number> => sumOver(async (stream) => admin.xlen(deadLetterKey(stream)))
  const pendingOf = async (group: string): Promise<number> => sumOver(async (stream) => Number(((await admin.xpending(stream, group)) as [number])[0]))
  const heldKeys = async (group: string): Promise<Record<string, string>> => Object.assign({}, ...(await Promise.all(streams.map(async (stream) => admin.hgetall(heldKeysKey(stream, group))))))
  const deadLetters = async (): Promise<DlqListJson> => JSON.parse((await runAsRole('operator', ['dlq', 'list', topic, '--json'])).stdout) as DlqListJson

  beforeAll(async () => {
    const created = await runCli(['topic', 'create', topic, '--partitions', '3', '--json', '-u', server.url])
    expect(created.code, diagnosis(created)).toBe(0)
    streams = (JSON.parse(created.stdout) as TopicDescription).partitions.map((partition) => partition.stream)
    expect(streams).toHaveLength(3)
  })

  it('publisher: publishes keyed messages to the partitions (batch script, and a single XADD)', async () => {
    const lines = ['{"k":"a","n":1}', '{"k":"b","fail":"permanent"}', '{"k":"b","n":2}', '{"k":"c","fail":"transient","times":1}', '{"k":"d","n":3}']
    const batch = JSON.parse((await runAsRole('publisher', ['publish', topic, '--ndjson', '--key-field', 'k', '--json'], `${lines.join('\n')}\n`)).stdout) as PublishResult
    expect(batch.published).toBe(5)
    const single = JSON.parse((await runAsRole('publisher', ['publish', topic, '--data', '{"k":"e","n":4}', '--key', 'e', '--json'])).stdout) as PublishResult
    expect(single.partition).toBeTypeOf('number')
    expect(await sumOver(async (stream) => admin.xlen(stream))).toBe(6)
    expect(await admin.exists(topic)).toBe(0)
  })

  it('publisher: publishes once per idempotency key (the dedupe script, in a batch and for one document)', async () => {
    const once = `${topic}.once`
    const lines = ['{"id":"a"}', '{"id":"b"}', '{"id":"a"}']
    const batch = JSON.parse((await runAsRole('publisher', ['publish', once, '--ndjson', '--idempotency-key-field', 'id', '--json'], `${lines.join('\n')}\n`)).stdout) as PublishResult
    expect([batch.published, batch.deduplicated]).toEqual([2, 1])
    const single = JSON.parse((await runAsRole('publisher', ['publish', once, '--data', '{"id":"b"}', '--idempotency-key', 'b', '--json'])).stdout) as PublishResult
    expect([single.published, single.deduplicated]).toEqual([0, 1])
    expect(await admin.xlen(once)).toBe(2)
  })

  it('publisher: schedules once per idempotency key (--at / --delay with the dedupe script, a batch and one document), then appends them when due', async () => {
    const later = `${topic}-later`
    const created = await runCli(['topic', 'create', later, '--partitions', '3', '--json', '-u', server.url])
    expect(created.code, diagnosis(created)).toBe(0)
    const laterStreams = (JSON.parse(created.stdout) as TopicDescription).partitions.map((partition) => partition.stream)
    for (const target of [later, `${topic}.later`]) {
      const lines = ['{"id":"a"}', '{"id":"b"}', '{"id":"a"}']
      const batch = JSON.parse((await runAsRole('publisher', ['publish', target, '--ndjson', '--idempotency-key-field', 'id', '--at', '1', '--json'], `${lines.join('\n')}\n`)).stdout) as PublishResult
      expect([batch.scheduled, batch.deduplicated]).toEqual([2, 1])
      const single = JSON.parse((await runAsRole('publisher', ['publish', target, '--data', '{"id":"b"}', '--idempotency-key', 'b', '--delay', '1h', '--json'])).stdout) as PublishResult
      expect([single.scheduled, single.deduplicated]).toEqual([0, 1])
      await runAsRole('publisher', ['schedule', 'run', target])
    }
    expect((await Promise.all(laterStreams.map(async (stream) => admin.xlen(stream)))).reduce((sum, n) => sum + n, 0)).toBe(2)
    expect(await admin.xlen(`${topic}.later`)).toBe(2)
  })

  it('worker: qctl work --until-empty handles every partition, retrying and dead-lettering', async () => {
    await runAsRole('worker', ['work', RECORDER, '-t', topic, '-g', 'billing', '--until-empty', '--backoff-delay', '10ms'])
    expect(await pendingOf('billing')).toBe(0)
    expect(await deadLetterCount()).toBe(1)
  })

  it('worker: qctl work --ordered --until-empty leases the partitions and holds the key of a dead letter', async () => {
    await runAsRole('worker', ['work', RECORDER, '-t', topic, '-g', 'ordered', '--ordered', '--on-dead-letter', 'hold-key', '--until-empty', '--backoff-delay', '10ms'])
    expect(await pendingOf('ordered')).toBe(0)
    // It took every partition's lease (a fencing token drawn for each).
    const tokens = await Promise.all(streams.map(async (stream) => admin.get(leaseTokenKey(stream, 'ordered'))))
    expect(tokens.map((token) => Number(token) >= 1)).toEqual([true, true, true])
    // Key b: its permanent failure, then its next message, held back in order.
    expect(Object.keys(await heldKeys('ordered'))).toEqual(['b'])
    const ordered = (await deadLetters()).entries.filter((entry) => entry.group === 'ordered')
    expect(ordered.map((entry) => entry.errorName).sort()).toEqual(['KeyHeld', 'PermanentError'])
  })

  it('operator: dlq replay --yes of the held message, which the ordered worker then handles, releasing the key', async () => {
    const held = (await deadLetters()).entries.find((entry) => entry.errorName === 'KeyHeld')
    if (held?.partition === null || held?.partition === undefined) throw new Error('no held dead letter of a partition')
    const replayed = JSON.parse((await runAsRole('operator', ['dlq', 'replay', topic, '--partition', String(held.partition), '--id', held.dlqId, '--yes', '--json'])).stdout) as DlqReplayResult
    expect(replayed.replayed).toBe(1)
    expect(await admin.xlen(replayKey(streams[held.partition] as string, 'ordered'))).toBe(1)
    await runAsRole('worker', ['work', RECORDER, '-t', topic, '-g', 'ordered', '--ordered', '--on-dead-letter', 'hold-key', '--until-empty', '--backoff-delay', '10ms'])
    expect(await heldKeys('ordered')).toEqual({})
    // Handled, acknowledged under the lease and deleted from the replay stream.
    expect(await admin.xlen(replayKey(streams[held.partition] as string, 'ordered'))).toBe(0)
    expect(await deadLetterCount()).toBe(2)
  })

  it('operator: dlq replay --to-topic --yes appends to the partition the entry came from', async () => {
    const before = await sumOver(async (stream) => admin.xlen(stream))
    const replayed = JSON.parse((await runAsRole('operator', ['dlq', 'replay', topic, '--group', 'billing', '--to-topic', '--yes', '--json'])).stdout) as DlqReplayResult
    expect(replayed.replayed).toBe(1)
    expect(await sumOver(async (stream) => admin.xlen(stream))).toBe(before + 1)
    expect(await deadLetterCount()).toBe(1)
  })

  it('monitor: lag, inspect, group list, top --once, topic describe, topic list, dlq list and dlq show', async () => {
    const lag = JSON.parse((await runAsRole('monitor', ['lag', topic, '--json'])).stdout) as LagRow[]
    expect(lag.map((row) => [row.topic, row.group, row.partitions]).sort()).toEqual([[topic, 'billing', 3], [topic, 'ordered', 3]])
    const matched = JSON.parse((await runAsRole('monitor', ['lag', '--match', 'order.*', '--json'])).stdout) as LagRow[]
    expect(matched.filter((row) => row.topic === topic)).toHaveLength(2)
    await runAsRole('monitor', ['inspect', topic, '--json'])
    const groups = JSON.parse((await runAsRole('monitor', ['group', 'list', topic, '--partitions', '--json'])).stdout) as GroupListRow[]
    expect(groups.filter((row) => row.group === 'billing').map((row) => row.partition)).toEqual([0, 1, 2])
    // An ordered worker's report of its busiest keys (as key-report.ts writes it): top reads it, and Redis's clock.
    await admin.hset(waitingKeysKey(streams[1]!, 'ordered'), 'w-1', JSON.stringify({at: timeReplyMs(await admin.time()), keys: [{key: 'b', waiting: 2}]}))
    const top = JSON.parse((await runAsRole('monitor', ['top', topic, '--once', '--interval', '100ms', '--json'])).stdout) as TopResult
    expect(top.rows.find((row) => row.group === 'ordered')?.busiestKeys).toEqual([{key: 'b', partition: 1, waiting: 2}])
    expect(top.warnings).toEqual([])
    await runAsRole('monitor', ['top', '--match', 'order.*', '--once', '--interval', '100ms', '--json'])
    const described = JSON.parse((await runAsRole('monitor', ['topic', 'describe', topic, '--json'])).stdout) as TopicDescription
    expect([described.partitioned, described.partitionCount, described.metadataKey]).toEqual([true, 3, topicMetadataKey(topic)])
    const listed = JSON.parse((await runAsRole('monitor', ['topic', 'list', '--match', 'order.*', '--json'])).stdout) as TopicListRow[]
    expect(listed.find((row) => row.topic === topic)).toMatchObject({partitioned: true, partitionCount: 3})
    const list = JSON.parse((await runAsRole('monitor', ['dlq', 'list', topic, '--json'])).stdout) as DlqListJson
    const [entry] = list.entries
    if (entry === undefined) throw new Error('no dead letter left to show')
    await runAsRole('monitor', ['dlq', 'show', topic, entry.dlqId, '--json'])
  })

  it('monitor: tail over every partition, and --follow; publisher: publish --envelope of what it printed, --keep-ids too', async () => {
    const total = await sumOver(async (stream) => admin.xlen(stream))
    const tailed = (await runAsRole('monitor', ['tail', topic, '--json'])).stdout
    expect(tailed.split('\n').filter(Boolean)).toHaveLength(total)
    const following = startCli(['tail', topic, '--follow', '--json', '--limit', '1', ...asUser(userOf('monitor'))])
    await waitFor(async () => following.child.exitCode !== null || String(await admin.client('LIST')).includes(' name=qctl:tail:follow '), 15_000, 'the follow connection')
    await admin.xadd(streams[1] as string, '*', 'data', '{"followed":1}')
    const followed = await following.done
    expect(followed.code, diagnosis(followed)).toBe(0)
    expect(JSON.parse(followed.stdout)).toMatchObject({partition: 1, data: '{"followed":1}'})

    for (const [copy, keep] of [['order.parts-copy', []], ['order.parts-restored', ['--keep-ids']]] as const) {
      const created = await runCli(['topic', 'create', copy, '--partitions', '3', '-u', server.url])
      expect(created.code, diagnosis(created)).toBe(0)
      const published = JSON.parse((await runAsRole('publisher', ['publish', copy, '--envelope', '-', ...keep, '--json'], tailed)).stdout) as PublishResult
      expect(published.published).toBe(total)
    }
  })

  it('monitor: qctl metrics exports the partitioned topic as one, over its partitions', async () => {
    const {page, stderr} = await scrapeAs(userOf('monitor'), [topic])
    expect(page.value('qctl_up'), stderr).toBe(1)
    expect(page.value('qctl_stream_partitions', {topic})).toBe(3)
    expect(page.value('qctl_stream_length', {topic})).toBe(await sumOver(async (stream) => admin.xlen(stream)))
    expect(page.samples('qctl_stream_group_messages_pending', {topic}).map((sample) => sample.labels['group']).sort()).toEqual(['billing', 'ordered'])
  })

  it('none of it was refused anything (empty ACL LOG)', async () => {
    expect(await admin.call('ACL', 'LOG')).toEqual([])
  })
})

describe('allowed runs', () => {
  it('were never refused anything, not even a connection housekeeping command (empty ACL LOG)', async () => {
    expect(await admin.call('ACL', 'LOG')).toEqual([])
  })
})

describe('a monitor user from a role file older than the read script', () => {
  it('lag and top read the same figures with plain commands', async () => {
    const seeded = await seedTopic(admin, `order.acl-${++counter}`)
    await admin.xreadgroup('GROUP', 'billing', 'host-1', 'COUNT', 2, 'STREAMS', seeded.topic, '>')
    const figures = async (user: string): Promise<unknown> => {
      const lag = await runCli(['lag', seeded.topic, '--json', ...asUser(user)])
      const top = await runCli(['top', seeded.topic, '--once', '--interval', '100ms', '--json', ...asUser(user)])
      expect(lag.code, diagnosis(lag)).toBe(0)
      expect(top.code, diagnosis(top)).toBe(0)
      const pick = (row: Record<string, unknown>): unknown[] => [row.topic, row.group, row.lag, row.pending, row.consumers, row.activeConsumers, row.deadLetters]
      return {lag: (JSON.parse(lag.stdout) as Array<Record<string, unknown>>).map(pick), top: (JSON.parse(top.stdout) as {rows: Array<Record<string, unknown>>}).rows.map(pick)}
    }
    const scripted = await figures(userOf('monitor'))
    expect(scripted).toEqual({lag: [[seeded.topic, 'billing', 1, 2, 1, 1, 2]], top: [[seeded.topic, 'billing', 1, 2, 1, 1, 2]]})
    expect(await figures('monitor-no-eval')).toEqual(scripted)
  })
})

describe('a worker user from a role file older than replay-stream deletion', () => {
  it('handles the replayed entries, says once that it cannot delete them, and leaves them acknowledged', async () => {
    const seeded = await seedTopic(admin, `order.acl-${++counter}`)
    const stream = replayKey(seeded.topic, 'billing')
    for (let n = 0; n < 3; n++) await admin.xadd(stream, '*', 'data', `{"n":${n}}`)
    await admin.xgroup('CREATE', stream, 'billing', '0')
    const work = ROLE_COMMANDS.find((command) => command.name === 'work')
    if (work === undefined) throw new Error('no work command in the table')
    const result = await runAs('worker-no-replay-xdel', work, seeded)
    expect(result.code, diagnosis(result)).toBe(0)
    expect(result.stderr.split('\n').filter((line) => line.includes(`may not XDEL the replay stream ${stream}`))).toHaveLength(1)
    expect(await admin.xlen(stream)).toBe(3)
    expect(await admin.xpending(stream, 'billing')).toEqual([0, null, null, null])
  })
})

describe('a worker user from a role file older than replay streams', () => {
  it('works its topic, saying it cannot read the replay stream (not exit 4 at start)', async () => {
    const seeded = await seedTopic(admin, `order.acl-${++counter}`)
    const work = ROLE_COMMANDS.find((command) => command.name === 'work')
    if (work === undefined) throw new Error('no work command in the table')
    const result = await runAs('worker-no-replay', work, seeded)
    expect(result.code, diagnosis(result)).toBe(0)
    expect(result.stderr).toContain(`warning: the group's replay stream {${seeded.topic}}:replay:billing could not be read (refused by the ACL), so this worker reads the topic only`)
    expect(await admin.xlen(`{${seeded.topic}}:dlq`)).toBeGreaterThan(0)
  })
})

describe.concurrent('denied: exit 4 naming the refused command, and nothing changes', () => {
  it.each(CELLS.filter((cell) => cell.expected !== 'ok').map((cell) => [`${cell.role}: ${cell.command.name} (${cell.expected})`, cell] as const))(
    '%s',
    async (_title, cell) => {
      const seeded = await seedTopic(admin, `order.acl-${++counter}`)
      const before = await stateOf(seeded.topic)
      const result = await runAs(userOf(cell.role), cell.command, seeded)
      expectDenied(result, userOf(cell.role), cell.expected)
      expect(await stateOf(seeded.topic)).toEqual(before)
    },
  )

  it('worker: qctl schedule run is the publisher\'s (the worker only looks at the schedule), refused, nothing moved', async () => {
    const topic = `order.acl-${++counter}`
    const scheduled = await runCli(['publish', topic, '--ndjson', '--at', '1', '-u', server.url], {input: '{"n":1}\n{"n":2}\n'})
    expect(scheduled.code, diagnosis(scheduled)).toBe(0)
    const result = await runCli(['schedule', 'run', topic, ...asUser(userOf('worker'))])
    expect(result.code, diagnosis(result)).toBe(4)
    expect(result.stderr).toMatch(new RegExp(`^Error: permission denied for EVAL(SHA)? to user '${userOf('worker')}'`))
    expect(await admin.zcard(`{${topic}}:scheduled`)).toBe(2)
    expect(await admin.exists(topic)).toBe(0)
  })

  it('publisher without scripts: a plain publish falls back to XADD; publishing once, and scheduling, need the script: refused, nothing stored', async () => {
    const topic = `order.acl-${++counter}`
    const plain = await runCli(['publish', topic, '--data', '{"n":1}', ...asUser('publisher-no-eval')])
    expect(plain.code, diagnosis(plain)).toBe(0)
    for (const args of [['--idempotency-key', 'k'], ['--idempotency-key-field', 'n'], ['--delay', '1h'], ['--at', '1']]) {
      const result = await runCli(['publish', topic, '--data', '{"n":2}', ...args, ...asUser('publisher-no-eval')])
      expect(result.code, `${args.join(' ')}: ${diagnosis(result)}`).toBe(4)
      expect(result.stderr).toMatch(/^Error: permission denied for EVAL(SHA)? to user 'publisher-no-eval' on 127\.0\.0\.1:\d+: .*; nothing was published\n$/)
    }
    expect(await admin.xlen(topic)).toBe(1)
    expect(await admin.exists(`{${topic}}:scheduled`, `{${topic}}:dedupe`)).toBe(0)
  })

  it('monitor: lag over the whole database reads a stream outside its pattern, and is refused', async () => {
    const result = await runCli(['lag', ...asUser(userOf('monitor'))])
    // Refused for the key, not the command: Redis names neither the subcommand nor the key.
    expectDenied(result, userOf('monitor'), 'XINFO')
    // Redis: "… no permissions to access one of the keys used as arguments"; Valkey: "No permissions to access a key".
    expect(result.stderr).toMatch(/[Nn]o permissions to access (one of the keys used as arguments|a key)/)
  })

  it('publisher: a topic outside its pattern gets nothing', async () => {
    // Refused at the first key qctl reads: the topic's metadata (is it partitioned?), outside the pattern.
    const result = await runCli(['publish', 'payment.refunded', '--data', '{}', ...asUser(userOf('publisher'))])
    expectDenied(result, userOf('publisher'), 'HGETALL')
    expect(result.stderr).toMatch(/[Nn]o permissions to access (one of the keys used as arguments|a key)/)
    expect(await admin.exists('payment.refunded')).toBe(0)
    // A name with braces cannot be partitioned, so nothing is looked up: refused at the XADD itself.
    const tagged = await runCli(['publish', '{payment.refunded}', '--data', '{}', ...asUser(userOf('publisher'))])
    expectDenied(tagged, userOf('publisher'), 'XADD')
    expect(await admin.exists('{payment.refunded}')).toBe(0)
  })

  it.each(ROLES.map((role) => [role, ROLE_COMMANDS.find((command) => MATRIX[role][command.name] === 'ok')] as const))(
    '%s without the metadata read: refused at HGETALL before anything else, even on a plain topic',
    async (role, command) => {
      if (command === undefined) throw new Error(`no allowed command for ${role}`)
      const seeded = await seedTopic(admin, `order.acl-${++counter}`)
      const before = await stateOf(seeded.topic)
      const result = await runAs(`${role}-no-metadata`, command, seeded)
      expectDenied(result, `${role}-no-metadata`, 'HGETALL')
      expect(await stateOf(seeded.topic)).toEqual(before)
    },
  )

  it.each(ROLES)('%s: group create, seek and delete are an administrator\'s, refused, and change nothing', async (role) => {
    const seeded = await seedTopic(admin, `order.acl-${++counter}`)
    await admin.xreadgroup('GROUP', 'billing', 'host-1', 'COUNT', 1, 'STREAMS', seeded.topic, '>')
    // The state without the pending entry's idle time, which grows by itself.
    const state = async (): Promise<unknown> => {
      const {pending, ...rest} = (await stateOf(seeded.topic)) as {pending: Array<[string, string, number, number]>}
      return {...rest, pending: pending.map(([id, consumer, , deliveries]) => [id, consumer, deliveries])}
    }
    const before = await state()
    for (const args of [
      ['group', 'create', seeded.topic, 'audit', '--from', 'start'],
      ['group', 'seek', seeded.topic, 'billing', '--to', 'start', '--force', '--yes'],
      ['group', 'seek', seeded.topic, 'billing', '--to', 'end', '--force', '--drop-pending', '--yes'],
      ['group', 'delete', seeded.topic, 'billing', '--force', '--yes'],
    ]) {
      const result = await runCli([...args, ...asUser(userOf(role))])
      expect(result.code, diagnosis(result)).toBe(4)
      expect(result.stderr).toMatch(new RegExp(`^Error: permission denied for \\S+ to user '${userOf(role)}'`))
    }
    expect(await state()).toEqual(before)
    expect(await admin.call('XINFO', 'GROUPS', seeded.topic)).toHaveLength(1)
  })

  it.each(ROLES)('%s: topic create, alter and delete are an administrator\'s, refused, and change nothing', async (role) => {
    const topic = `order.acl-${++counter}`
    const created = await runCli(['topic', 'create', `${topic}-p`, '--partitions', '2', ...asUser(userOf(role))])
    expect(created.code, diagnosis(created)).toBe(4)
    expect(await admin.exists(topicMetadataKey(`${topic}-p`))).toBe(0)
    const made = await runCli(['topic', 'create', topic, '--partitions', '2', '--json', '-u', server.url])
    expect(made.code, diagnosis(made)).toBe(0)
    const metadata = await admin.hgetall(topicMetadataKey(topic))
    for (const args of [['topic', 'alter', topic, '--partitions', '4', '--yes'], ['topic', 'delete', topic, '--yes']]) {
      const result = await runCli([...args, ...asUser(userOf(role))])
      expect(result.code, diagnosis(result)).toBe(4)
      expect(result.stderr).toMatch(new RegExp(`^Error: permission denied for \\S+ to user '${userOf(role)}'`))
    }
    expect(await admin.hgetall(topicMetadataKey(topic))).toEqual(metadata)
  })
})

describe.concurrent('a destructive command the user may not finish changes nothing (scripts check before writing)', () => {
  it('replay by an operator without XDEL publishes nothing and keeps the dead letter', async () => {
    const seeded = await seedTopic(admin, `order.acl-${++counter}`)
    const before = await stateOf(seeded.topic)
    const result = await runAs('operator-no-xdel', commandNamed('dlq replay'), seeded)
    expectDenied(result, 'operator-no-xdel', 'XDEL')
    expect(result.stderr).toContain(`on key '${deadLetterKey(seeded.topic)}' (checked before replaying: nothing was changed)`)
    expect(await stateOf(seeded.topic)).toEqual(before)
  })

  it('purge by an operator without XDEL deletes nothing', async () => {
    const seeded = await seedTopic(admin, `order.acl-${++counter}`)
    const before = await stateOf(seeded.topic)
    expectDenied(await runAs('operator-no-xdel', commandNamed('dlq purge'), seeded), 'operator-no-xdel', 'XDEL')
    expect(await stateOf(seeded.topic)).toEqual(before)
  })

  it('a worker that may not append to the dead-letter stream leaves the failing entry pending, with its retry record and due time', async () => {
    const topic = `order.acl-${++counter}`
    const [id] = await Promise.all([admin.xadd(topic, '*', 'data', '{"fail":"permanent"}'), admin.xgroup('CREATE', topic, 'billing', '0', 'MKSTREAM')])
    await admin.xreadgroup('GROUP', 'billing', 'crashed-worker', 'COUNT', 1, 'STREAMS', topic, '>')
    // As a worker that failed it once and died would have left it.
    await admin.hset(retryKey(topic, 'billing'), id as string, `${Date.now() - 60_000}:${Date.now() - 30_000}`)
    // A due-set entry the dead-letter move must not remove when it is refused (a state the worker does not
    // make itself: a parked entry is held by qctl:parked; here the worker takes it over from crashed-worker).
    await admin.zadd(retryDueKey(topic, 'billing'), Date.now() + 600_000, id as string)
    await admin.call('XCLAIM', topic, 'billing', 'crashed-worker', 0, id as string, 'IDLE', 60_000, 'JUSTID')

    const result = await runCli(['work', RECORDER, '-t', topic, '-g', 'billing', '--until-empty', '--visibility-timeout', '1s', ...asUser('worker-no-dlq')])
    expectDenied(result, 'worker-no-dlq', 'XADD')
    expect(result.stderr).toContain(`on key '${deadLetterKey(topic)}' (checked before dead-lettering: nothing was changed, the entry stays pending)`)
    const pending = (await admin.xpending(topic, 'billing', '-', '+', 10)) as Array<[string, string, number, number]>
    expect(pending.map(([pendingId]) => pendingId)).toEqual([id])
    expect(await admin.exists(deadLetterKey(topic))).toBe(0)
    expect(await admin.hexists(retryKey(topic, 'billing'), id as string)).toBe(1)
    expect(await admin.zscore(retryDueKey(topic, 'billing'), id as string)).not.toBeNull()
  })
})
