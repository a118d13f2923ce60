import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {LagRow} from '../../src/core/lag/lag.js'
import type {InspectResult} from '../../src/core/stats/inspect.js'
import {jsonOf, PROJECT_ROOT, runCli, startCli} from '../helpers/cli.js'
import {useTestRedis} from '../helpers/test-redis.js'
import {RedisServer} from '../helpers/redis-server.js'

let server: RedisServer
let redis: Redis

const add = async (topic: string, count: number): Promise<string[]> => {
  const pipeline = redis.pipeline()
  for (let i = 0; i < count; i++) pipeline.xadd(topic, '*', 'data', JSON.stringify({i}))
  return ((await pipeline.exec()) ?? []).map(([, id]) => id as string)
}

const lag = async (...args: string[]) => runCli(['lag', ...args, '-u', server.url])

beforeAll(async () => {
  server = await RedisServer.start()
  redis = await server.client()
  // fresh: a group that has read nothing; partial: 6 of 10 delivered, 4 of those acknowledged.
  await add('lag.fresh', 5)
  await redis.xgroup('CREATE', 'lag.fresh', 'g', '0')
  const ids = await add('lag.partial', 10)
  await redis.xgroup('CREATE', 'lag.partial', 'billing', '0')
  await redis.xgroup('CREATE', 'lag.partial', 'audit', '$')
  await redis.xreadgroup('GROUP', 'billing', 'c1', 'COUNT', 6, 'STREAMS', 'lag.partial', '>')
  await redis.xack('lag.partial', 'billing', ...ids.slice(0, 4))
  await redis.xadd('{lag.partial}:dlq', '*', 'data', '{}', 'dlq.id', ids[0] as string)
  await add('lag.nogroup', 3)
})

afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
})

describe('qctl lag', () => {
  it('reports length, lag, pending, consumers and dead letters per group, sorted, as JSON', async () => {
    const result = await lag('--json')
    expect(result.code).toBe(0)
    const rows = jsonOf<LagRow[]>(result)
    expect(rows.map((row) => [row.topic, row.group, row.length, row.lag, row.pending, row.consumers, row.deadLetters])).toEqual([
      ['lag.fresh', 'g', 5, 5, 0, 0, 0],
      ['lag.nogroup', null, 3, null, 0, 0, 0],
      ['lag.partial', 'audit', 10, 0, 0, 0, 1],
      ['lag.partial', 'billing', 10, 4, 2, 1, 1],
    ])
    const billing = rows[3] as LagRow
    expect(billing.lagSource).toBe('redis')
    expect(billing.activeConsumers).toBe(1)
    expect(Date.parse(billing.oldestPendingAt as string)).toBeGreaterThan(0)
    expect(billing.oldestPendingAgeMs).toBeGreaterThanOrEqual(0)
  })

  it('shows a table for people, filtered by topic or --match, and says when nothing matches', async () => {
    const table = await lag('lag.partial')
    expect(table.code).toBe(0)
    // Piped: the compact table, one line a row.
    expect(table.stdout).toMatch(/^TOPIC +GROUP +LENGTH +LAG +PENDING +OLDEST PENDING +CONSUMERS +DLQ\n/)
    expect(table.stdout).toMatch(/^lag\.partial +billing +10 +4 +2 +\S+ +1\/1 +1$/m)
    expect(table.stdout).not.toMatch(/[│─]/)
    expect(table.stdout).not.toContain('lag.fresh')
    const matched = jsonOf<LagRow[]>(await lag('--match', 'lag.f*', '--json'))
    expect(matched.map((row) => row.topic)).toEqual(['lag.fresh'])
    expect((await lag('--match', 'nothing-*')).stdout).toBe('No streams found.\n')
  })

  it('counts the lag itself when Redis reports it unknown after a deletion, and says "unknown" beyond its limit', async () => {
    const ids = await add('lag.deleted', 20)
    await redis.xgroup('CREATE', 'lag.deleted', 'g', '0')
    await redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', 5, 'STREAMS', 'lag.deleted', '>')
    await redis.xdel('lag.deleted', ids[10] as string)
    const [groupInfo] = (await redis.call('XINFO', 'GROUPS', 'lag.deleted')) as unknown[][]
    expect(groupInfo).toEqual(expect.arrayContaining(['lag', null]))
    const [counted] = jsonOf<LagRow[]>(await lag('lag.deleted', '--json'))
    expect(counted).toMatchObject({lag: 14, lagSource: 'counted'})

    const many = await add('lag.many', 1500)
    await redis.xgroup('CREATE', 'lag.many', 'g', '0')
    await redis.xdel('lag.many', many[700] as string)
    const [unknown] = jsonOf<LagRow[]>(await lag('lag.many', '--json'))
    expect(unknown).toMatchObject({lag: null, lagSource: 'unknown'})
    const gated = await lag('lag.many', '--max-lag', '100000')
    expect(gated.code).toBe(8)
    expect(gated.stdout).toMatch(/^lag\.many +g +[\d,]+ +unknown /m)
    expect(gated.stderr).toBe('Gate failed: lag.many/g: lag unknown > --max-lag 100,000\n')
  })
})

describe('qctl lag gates', () => {
  it.each([
    [['--max-lag', '4'], 0, []],
    [['--max-lag', '3'], 8, ['lag.partial/billing: lag 4 > --max-lag 3']],
    [['--max-pending', '2'], 0, []],
    [['--max-pending', '1'], 8, ['lag.partial/billing: pending 2 > --max-pending 1']],
    [['--max-pending-age', '1h'], 0, []],
    [['--max-pending-age', '0'], 8, [/^lag\.partial\/billing: oldest pending age \S+ > --max-pending-age 0ms$/]],
    [['--max-dlq', '1'], 0, []],
    [['--max-dlq', '0'], 8, ['lag.partial/audit: dead letters 1 > --max-dlq 0', 'lag.partial/billing: dead letters 1 > --max-dlq 0']],
  ])('%o exits %i', async (gate, code, failures) => {
    const result = await lag('lag.partial', ...gate)
    expect(result.code).toBe(code)
    const lines = result.stderr.split('\n').filter((line) => line !== '').map((line) => line.replace(/^Gate failed: /, ''))
    expect(lines).toHaveLength(failures.length)
    failures.forEach((failure, index) => expect(lines[index]).toMatch(failure))
  })

  it('puts the broken gates into the JSON rows and still prints them (exit 8)', async () => {
    const result = await lag('lag.partial', '--max-lag', '0', '--json')
    expect(result.code).toBe(8)
    const rows = jsonOf<LagRow[]>(result)
    expect(rows.find((row) => row.group === 'billing')?.failedGates).toEqual([{gate: 'max-lag', limit: 0, value: 4}])
    expect(rows.find((row) => row.group === 'audit')?.failedGates).toEqual([])
  })

  it('--wait passes once a worker drains the topic meanwhile', async () => {
    await add('lag.drain', 300)
    await redis.xgroup('CREATE', 'lag.drain', 'recorder', '0')
    const waiting = startCli(['lag', 'lag.drain', '--max-lag', '0', '--max-pending', '0', '--wait', '30s', '--json', '-u', server.url])
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const worker = await runCli(['work', join(PROJECT_ROOT, 'test/fixtures/work/recorder.mjs'), '--topic', 'lag.drain', '--until-empty', '-u', server.url])
    expect(worker.code).toBe(0)
    const result = await waiting.done
    expect(result.code).toBe(0)
    expect(jsonOf<LagRow[]>(result)[0]).toMatchObject({lag: 0, pending: 0, failedGates: []})
  })

  it('a named topic that does not exist exits 6 naming it, at once even with --wait; --allow-missing leaves it out', async () => {
    const alone = await lag('lag.nope', '--max-lag', '0', '--wait', '5m')
    expect(alone.code).toBe(6)
    expect(alone.stderr).toBe('Error: topic "lag.nope" does not exist (no stream at that key)\n')
    expect(alone.durationMs).toBeLessThan(30_000)
    const beside = await lag('lag.fresh', 'lag.nope', 'lag.nope2', '--max-lag', '10', '--json')
    expect(beside.code).toBe(6)
    expect(jsonOf(beside)).toEqual({
      error: {code: 'NOT_FOUND', message: 'topics "lag.nope", "lag.nope2" do not exist (no streams at those keys)', exitCode: 6, details: {missing: ['lag.nope', 'lag.nope2']}},
    })
    const allowed = await lag('lag.fresh', 'lag.nope', '--max-lag', '10', '--allow-missing', '--json')
    expect(allowed.code).toBe(0)
    expect(jsonOf<LagRow[]>(allowed).map((row) => row.topic)).toEqual(['lag.fresh'])
  })

  it('a topic with entries and no consumer group fails every group gate, and the row says why', async () => {
    const result = await lag('lag.nogroup', '--max-lag', '0', '--max-pending', '0', '--max-dlq', '0')
    expect(result.code).toBe(8)
    expect(result.stdout).toContain('(no consumer group)')
    expect(result.stderr).toBe(
      [
        'Gate failed: lag.nogroup: no consumer group reads it, so --max-lag 0 cannot pass',
        'Gate failed: lag.nogroup: no consumer group reads it, so --max-pending 0 cannot pass',
        '',
      ].join('\n'),
    )
    const [row] = jsonOf<LagRow[]>(await lag('lag.nogroup', '--max-lag', '0', '--json'))
    expect(row).toMatchObject({group: null, groupExists: false, failedGates: [{gate: 'max-lag', limit: 0, value: null, reason: 'no-group'}]})
    // --max-dlq needs no group.
    expect((await lag('lag.nogroup', '--max-dlq', '0')).code).toBe(0)
  })

  it('--wait on a topic without a group does not pass until a worker has created its group and drained it', async () => {
    await add('lag.later', 50)
    const waiting = startCli(['lag', 'lag.later', '--max-lag', '0', '--max-pending', '0', '--wait', '30s', '--json', '-u', server.url])
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(waiting.child.exitCode).toBeNull()
    const worker = await runCli(['work', join(PROJECT_ROOT, 'test/fixtures/work/recorder.mjs'), '--topic', 'lag.later', '--group', 'late', '--until-empty', '-u', server.url])
    expect(worker.code).toBe(0)
    const result = await waiting.done
    expect(result.code).toBe(0)
    expect(jsonOf<LagRow[]>(result)).toMatchObject([{group: 'late', groupExists: true, lag: 0, pending: 0, failedGates: []}])
  })

  it('--group G (repeatable): only those groups; a topic without one of them gets a row saying so, failing the group gates', async () => {
    const result = await lag('lag.partial', 'lag.fresh', '--group', 'billing', '--group', 'g', '--max-pending', '5', '--json')
    expect(result.code).toBe(8)
    const rows = jsonOf<LagRow[]>(result)
    expect(rows.map((row) => [row.topic, row.group, row.groupExists, row.failedGates.map((failure) => failure.reason ?? failure.gate)])).toEqual([
      ['lag.fresh', 'billing', false, ['no-group']],
      ['lag.fresh', 'g', true, []],
      ['lag.partial', 'billing', true, []],
      ['lag.partial', 'g', false, ['no-group']],
    ])
    const table = await lag('lag.partial', '--group', 'audit', '--group', 'shipping', '--max-lag', '0')
    expect(table.code).toBe(8)
    expect(table.stdout).toMatch(/^lag\.partial +shipping \(missing\) /m)
    expect(table.stderr).toBe('Gate failed: lag.partial/shipping: it has no consumer group "shipping", so --max-lag 0 cannot pass\n')
  })

  it('--wait fails with exit 8 when the time is up', async () => {
    const result = await lag('lag.fresh', '--max-lag', '0', '--wait', '1500ms')
    expect(result.code).toBe(8)
    // Says it gave up (the wait ran out), then names each gate still failing.
    expect(result.stderr).toBe('gave up waiting after 1.50s (--wait): 1 gate still failing\nGate failed: lag.fresh/g: lag 5 > --max-lag 0\n')
    expect(result.durationMs).toBeGreaterThanOrEqual(1500)
  })
})

describe('qctl inspect', () => {
  it('shows the stream, every group with its consumers, the oldest pending entries with delivery counts, and dead letters', async () => {
    const ids = await add('inspect.t', 6)
    await redis.xgroup('CREATE', 'inspect.t', 'billing', '0')
    await redis.xgroup('CREATE', 'inspect.t', 'audit', '0')
    await redis.xreadgroup('GROUP', 'billing', 'w1', 'COUNT', 2, 'STREAMS', 'inspect.t', '>')
    await redis.xreadgroup('GROUP', 'billing', 'w2', 'COUNT', 1, 'STREAMS', 'inspect.t', '>')
    await redis.xclaim('inspect.t', 'billing', 'w2', 0, ids[0] as string)
    await redis.xadd('{inspect.t}:dlq', '*', 'data', '{}', 'dlq.id', ids[5] as string, 'dlq.group', 'audit', 'dlq.attempts', '5', 'dlq.error-name', 'PermanentError', 'dlq.error-message', 'bad total')

    const result = await runCli(['inspect', 'inspect.t', '--json', '-u', server.url])
    expect(result.code).toBe(0)
    const json = jsonOf<InspectResult>(result)
    expect(json).toMatchObject({topic: 'inspect.t', length: 6, firstEntry: {id: ids[0]}, lastEntry: {id: ids[5]}, entriesAdded: 6})
    expect(json.groups.map((group) => [group.name, group.lag, group.pending, group.consumers])).toEqual([
      ['audit', 6, 0, 0],
      ['billing', 3, 3, 2],
    ])
    const billing = json.groups[1]!
    expect(billing.consumerDetails.map((consumer) => [consumer.name, consumer.pending])).toEqual([
      ['w1', 1],
      ['w2', 2],
    ])
    expect(billing.oldestPending.map((entry) => [entry.id, entry.consumer, entry.deliveries])).toEqual([
      [ids[0], 'w2', 2],
      [ids[1], 'w1', 1],
      [ids[2], 'w2', 1],
    ])
    expect(json.deadLetters).toMatchObject({key: '{inspect.t}:dlq', length: 1, newest: [{originId: ids[5], group: 'audit', attempts: 5, errorName: 'PermanentError', errorMessage: 'bad total'}]})

    const human = await runCli(['inspect', 'inspect.t', '--group', 'billing', '-u', server.url])
    expect(human.code).toBe(0)
    expect(human.stdout).toContain('Oldest pending entries of billing')
    expect(human.stdout).toContain('PermanentError: bad total')
    expect(human.stdout).not.toContain('Consumers of audit')
  })

  it('exits 6 for a topic or group that does not exist', async () => {
    const topic = await runCli(['inspect', 'no.such.topic', '-u', server.url])
    expect(topic.code).toBe(6)
    expect(topic.stderr).toBe('Error: topic "no.such.topic" does not exist\n')
    const group = await runCli(['inspect', 'lag.partial', '--group', 'nope', '-u', server.url])
    expect(group.code).toBe(6)
    expect(group.stderr).toBe('Error: topic "lag.partial" has no consumer group "nope"\n')
  })
})

describe('the age of the oldest pending entry when its ID is in the future', () => {
  it('comes from the delivery data (XPENDING idle time), so lag, its gate, inspect and top are not blinded', async () => {
    // A producer that gives XADD explicit IDs far in the future: every later `*` ID is in the future too.
    await redis.xadd('future.t', '99999999999999-0', 'data', '{}')
    await redis.xadd('future.t', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'future.t', 'g', '0')
    await redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 10, 'STREAMS', 'future.t', '>')
    // Delivered ten minutes ago, as far as Redis knows.
    await redis.xclaim('future.t', 'g', 'c1', 0, '99999999999999-0', 'IDLE', 600_000)
    const TEN_MINUTES = 600_000

    const [row] = jsonOf<LagRow[]>(await lag('future.t', '--json'))
    expect(row).toMatchObject({oldestPendingId: '99999999999999-0', pending: 2})
    expect(row?.oldestPendingAgeMs).toBeGreaterThanOrEqual(TEN_MINUTES)

    const gated = await lag('future.t', '--max-pending-age', '5m')
    expect(gated.code).toBe(8)
    expect(gated.stderr).toMatch(/^Gate failed: future\.t\/g: oldest pending age \S+ > --max-pending-age 5m00s\n$/)

    const inspect = jsonOf<InspectResult>(await runCli(['inspect', 'future.t', '--json', '-u', server.url]))
    expect(inspect.groups[0]?.oldestPendingAgeMs).toBeGreaterThanOrEqual(TEN_MINUTES)

    const top = await runCli(['top', 'future.t', '--json', '--interval', '100ms', '-u', server.url])
    expect(top.code).toBe(0)
    expect(jsonOf<{rows: Array<{oldestPendingAgeMs: number | null}>}>(top).rows[0]?.oldestPendingAgeMs).toBeGreaterThanOrEqual(TEN_MINUTES)
  })
})

describe('dead letters that outlive their topic, and groups that read a dead-letter stream', () => {
  const own = useTestRedis()

  beforeAll(async () => {
    const admin = own.redis
    await admin.xadd('kept', '*', 'data', '{}')
    await admin.xgroup('CREATE', 'kept', 'g', '$')
    await admin.xadd('{kept}:dlq', '*', 'data', '{}')
    // The topic was deleted; its dead letters were not.
    await admin.xadd('{deleted}:dlq', '*', 'data', '{}')
    await admin.xadd('{deleted}:dlq', '*', 'data', '{}')
    // An archiver reads the dead-letter stream of a live topic with a consumer group.
    await admin.xadd('archived', '*', 'data', '{}')
    await admin.xgroup('CREATE', 'archived', 'g', '$')
    await admin.xadd('{archived}:dlq', '*', 'data', '{}')
    await admin.xgroup('CREATE', '{archived}:dlq', 'archiver', '0')
  })

  it('are shown, with a warning for the deleted topic, and --max-dlq counts them', async () => {
    const result = await runCli(['lag', '--max-dlq', '0', '--json', '-u', own.server.url])
    expect(result.code).toBe(8)
    const rows = jsonOf<LagRow[]>(result)
    expect(rows.map((row) => [row.topic, row.group, row.length, row.lag, row.deadLetters, row.failedGates.map((failure) => failure.gate)])).toEqual([
      ['{archived}:dlq', 'archiver', 1, 1, 0, []],
      ['archived', 'g', 1, 0, 1, ['max-dlq']],
      ['deleted', null, 0, null, 2, ['max-dlq']],
      ['kept', 'g', 1, 0, 1, ['max-dlq']],
    ])
    expect(rows[2]?.warnings).toEqual(['topic "deleted" does not exist; its dead-letter stream "{deleted}:dlq" still holds 2 entries'])
    expect(result.stderr).toBe('warning: topic "deleted" does not exist; its dead-letter stream "{deleted}:dlq" still holds 2 entries\n')
  })

  it('a deleted topic named on the command line shows its dead letters instead of exiting 6', async () => {
    const named = await runCli(['lag', 'deleted', '--max-dlq', '1', '-u', own.server.url])
    expect(named.code).toBe(8)
    expect(named.stderr).toContain('Gate failed: deleted: dead letters 2 > --max-dlq 1')
  })
})

describe('dead letters per group', () => {
  const own = useTestRedis()
  // As qctl work writes them: the original fields, then the metadata block from dlq.topic on.
  const deadLetter = async (group: string | null, data = '{}'): Promise<void> => {
    const meta = ['dlq.topic', 'orders', 'dlq.id', '1-0', ...(group === null ? [] : ['dlq.group', group]), 'dlq.attempts', '3']
    await own.redis.xadd('{orders}:dlq', '*', 'data', data, ...meta)
  }

  beforeAll(async () => {
    await own.redis.xadd('orders', '*', 'data', '{}')
    for (const group of ['billing', 'shipping']) await own.redis.xgroup('CREATE', 'orders', group, '$')
    // A field named like a metadata field in the payload block does not make an entry billing's.
    await own.redis.xadd('{orders}:dlq', '*', 'data', '{}', 'dlq.group', 'billing', 'dlq.topic', 'orders', 'dlq.group', 'gone')
    await deadLetter('billing')
    await deadLetter('billing')
  })

  it('a row shows the dead letters of its group; a gate on one group does not fail on another group\'s', async () => {
    const result = await runCli(['lag', 'orders', '--json', '-u', own.server.url])
    const rows = jsonOf<LagRow[]>(result)
    // "gone" no longer exists: its entry could be anyone's, so every row counts it.
    expect(rows.map((row) => [row.group, row.deadLetters, row.topicDeadLetters])).toEqual([
      ['billing', 3, 3],
      ['shipping', 1, 3],
    ])
    const shipping = await runCli(['lag', 'orders', '--group', 'shipping', '--max-dlq', '0', '--json', '-u', own.server.url])
    expect(shipping.code).toBe(0)
    expect(jsonOf<LagRow[]>(shipping).map((row) => [row.group, row.deadLetters])).toEqual([['shipping', 0]])
    const billing = await runCli(['lag', 'orders', '--group', 'billing', '--max-dlq', '1', '-u', own.server.url])
    expect(billing.code).toBe(8)
    expect(billing.stderr).toContain('Gate failed: orders/billing: dead letters 2 > --max-dlq 1')
  })

  it('dead letters that name no group count for every group: they could be anyone\'s', async () => {
    await deadLetter(null)
    const result = await runCli(['lag', 'orders', '--group', 'shipping', '--max-dlq', '0', '--json', '-u', own.server.url])
    expect(result.code).toBe(8)
    expect(jsonOf<LagRow[]>(result).map((row) => [row.group, row.deadLetters, row.topicDeadLetters])).toEqual([['shipping', 1, 4]])
  })

  it('counts past one XRANGE page', async () => {
    const pipeline = own.redis.pipeline()
    for (let i = 0; i < 2500; i++) pipeline.xadd('{orders}:dlq', '*', 'data', '{}', 'dlq.topic', 'orders', 'dlq.group', 'shipping')
    await pipeline.exec()
    const rows = jsonOf<LagRow[]>(await runCli(['lag', 'orders', '--json', '-u', own.server.url]))
    expect(rows.map((row) => [row.group, row.deadLetters, row.topicDeadLetters])).toEqual([
      ['billing', 4, 2504],
      ['shipping', 2502, 2504],
    ])
  })
})
