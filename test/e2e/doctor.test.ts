import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Cluster, Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runDoctor} from '../../src/core/doctor/doctor.js'
import {leftoversOf, removeLeftovers} from '../../src/core/doctor/fix.js'
import {CHECK_IDS, DEFAULT_THRESHOLDS, type DoctorResult, type Finding} from '../../src/core/doctor/types.js'
import {isCluster} from '../../src/core/redis/client.js'
import type {TopicDescription} from '../../src/core/topics/describe.js'
import {jsonOf, runCli, inTerminal, startCli, waitFor, type CliResult} from '../helpers/cli.js'
import {RedisCluster} from '../helpers/cluster-harness.js'
import {RedisServer} from '../helpers/redis-server.js'
import {TEST_TARGET, useTestRedis, type AdminClient} from '../helpers/test-redis.js'

/**
 * `qctl doctor` on a database with every problem it checks for planted (each check finds its own,
 * with its severity, key and fix; nothing else is found), on a clean one (nothing found, exit 0),
 * its gate (--fail-on), --skip, --fix (only leftovers, never a consumer holding entries, even one
 * that got an entry between the look and the fix) and refusals. Also on a 3-primary cluster.
 */

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const diagnosis = (result: CliResult): string => `exit ${result.code}\nstdout:\n${result.stdout.slice(0, 3000)}\nstderr:\n${result.stderr.slice(-2000)}`

/** Every primary (a single server is its own), for CONFIG SET. */
const primariesOf = (redis: AdminClient): Redis[] => (isCluster(redis) ? (redis as Cluster).nodes('master') : [redis as Redis])

/** Consumers of a group by name: pending and idle. */
async function consumersOf(redis: AdminClient, stream: string, group: string): Promise<Map<string, {pending: number; idle: number}>> {
  const rows = (await redis.call('XINFO', 'CONSUMERS', stream, group)) as unknown[][]
  return new Map(
    rows.map((row) => {
      const fields = new Map<string, unknown>()
      for (let i = 0; i + 1 < row.length; i += 2) fields.set(String(row[i]), row[i + 1])
      return [String(fields.get('name')), {pending: Number(fields.get('pending')), idle: Number(fields.get('idle'))}]
    }),
  )
}

/** Wait until these consumers have been idle at least `ms` (Redis's own count, not a timer here). */
async function waitIdle(redis: AdminClient, consumers: ReadonlyArray<[string, string, string]>, ms: number): Promise<void> {
  for (;;) {
    const idles = await Promise.all(consumers.map(async ([stream, group, name]) => (await consumersOf(redis, stream, group)).get(name)?.idle ?? 0))
    if (idles.every((idle) => idle >= ms)) return
    await sleep(200)
  }
}

const add = async (redis: AdminClient, stream: string, count: number): Promise<string[]> => {
  const ids: string[] = []
  for (let i = 0; i < count; i++) ids.push((await redis.xadd(stream, '*', 'data', JSON.stringify({i}))) as string)
  return ids
}

/** The limits the planted database is judged with: stuck after 5 s, leftovers after 5 s, streams past 50 entries. */
const LIMITS = ['--visibility-timeout', '2500ms', '--leftover-after', '5s', '--max-untrimmed', '50']

const where = (finding: Finding): unknown[] => [finding.check, finding.severity, finding.topic, finding.partition, finding.key, finding.group, finding.consumer]

describe('a database with every problem planted', () => {
  const context = useTestRedis()
  let redis: AdminClient
  let json: DoctorResult
  let jsonRun: CliResult
  let human: CliResult
  let parts: string[] = []
  let setIdTarget = ''
  const doctor = async (...args: string[]): Promise<CliResult> => runCli(['doctor', ...args, '-u', context.server.url], {timeoutMs: 60_000})
  const finding = (check: string, key: string, consumer?: string): Finding => {
    const found = json.findings.filter((candidate) => candidate.check === check && candidate.key === key && (consumer === undefined || candidate.consumer === consumer))
    expect(found, `${check} on ${key}: ${JSON.stringify(json.findings.map(where))}`).toHaveLength(1)
    return found[0] as Finding
  }

  beforeAll(async () => {
    redis = context.redis
    for (const node of primariesOf(redis)) await node.call('CONFIG', 'SET', 'maxmemory', '1gb', 'maxmemory-policy', 'allkeys-lru')
    const created = await runCli(['topic', 'create', 'doc.parts', '--partitions', '3', '--json', '-u', context.server.url])
    expect(created.code, diagnosis(created)).toBe(0)
    parts = jsonOf<TopicDescription>(created).partitions.map((partition) => partition.stream)

    // Consumers that must age: one holding entries (stuck), one holding nothing (a leftover), and one on partition 1.
    for (const stream of ['doc.stuck', 'doc.leftover', parts[1] as string]) {
      await add(redis, stream, 2)
      await redis.xgroup('CREATE', stream, 'g', '0')
    }
    await redis.xreadgroup('GROUP', 'g', 'dead-worker', 'COUNT', 2, 'STREAMS', 'doc.stuck', '>')
    await redis.xreadgroup('GROUP', 'g', 'dead-worker', 'COUNT', 2, 'STREAMS', parts[1] as string, '>')
    const leftoverIds = await redis.xrange('doc.leftover', '-', '+')
    await redis.xreadgroup('GROUP', 'g', 'gone-worker', 'COUNT', 2, 'STREAMS', 'doc.leftover', '>')
    await redis.xack('doc.leftover', 'g', ...leftoverIds.map(([id]) => id))

    // Lag Redis cannot tell: an entry deleted ahead of the group; a group moved without ENTRIESREAD.
    const deleted = await add(redis, 'doc.deleted', 3)
    await redis.xgroup('CREATE', 'doc.deleted', 'g', '0')
    await redis.xdel('doc.deleted', deleted[1] as string)
    const moved = await add(redis, 'doc.setid', 3)
    await redis.xgroup('CREATE', 'doc.setid', 'g', '0')
    setIdTarget = moved[1] as string
    await redis.call('XGROUP', 'SETID', 'doc.setid', 'g', setIdTarget)

    // A stream never trimmed, past --max-untrimmed 50.
    await add(redis, 'doc.unbounded', 60)
    // A dead-letter stream that grows (three dead letters now), and one whose dead letters are old.
    await add(redis, 'doc.dlq', 1)
    for (let n = 0; n < 3; n++) await redis.xadd('{doc.dlq}:dlq', '*', 'data', `{"n":${n}}`, 'dlq.group', 'g')
    await redis.xadd('{doc.olddlq}:dlq', '1700000000000-0', 'data', '{}')
    // Retry records: one for an entry that is gone, one for an entry that is there; a hash of a group that is gone.
    const [kept] = await add(redis, 'doc.retry', 1)
    await redis.xgroup('CREATE', 'doc.retry', 'g', '0')
    await redis.hset('{doc.retry}:retry:g', '1-0', '0:1:1:0', '1-0+', '1', kept as string, '0:1:1:0')
    await redis.hset('{doc.retry}:retry:gone', kept as string, '0:1:1:0')
    // Keys named like qctl's that hold something else, and metadata qctl did not write.
    await add(redis, 'doc.wrongdlq', 1)
    await redis.set('{doc.wrongdlq}:dlq', 'x')
    await redis.hset('{doc.wrongreplay}:replay:g', 'a', 'b')
    await redis.set('{doc.retry}:retry:str', 'x')
    await redis.set(parts[2] as string, 'x')
    await redis.hset('qctl:topic:{doc.badmeta}', 'foo', 'bar')
    await redis.set('qctl:topic:{doc.strmeta}', 'x')
    await redis.set('{doc.strsched}:scheduled', 'x')
    // Schedules: two messages overdue (one in 1970, one by two hours) beside one due tomorrow; one of a
    // partition overdue; one due a few seconds ago (within the minute a mover may take: not a finding).
    const now = Date.now()
    await redis.zadd('{doc.sched}:scheduled', 1, 'a', now - 7_200_000, 'b', now + 86_400_000, 'c')
    await redis.zadd(`${parts[0] as string}:scheduled`, now - 600_000, 'a')
    await redis.zadd('{doc.soon}:scheduled', now - 5000, 'a')

    await waitIdle(redis, [['doc.stuck', 'g', 'dead-worker'], ['doc.leftover', 'g', 'gone-worker'], [parts[1] as string, 'g', 'dead-worker']], 5500)

    // Fresh consumers, idle well under the limits when the doctor looks: their entries are idle for an hour.
    const unreclaimed = await add(redis, 'doc.unreclaimed', 3)
    await redis.xgroup('CREATE', 'doc.unreclaimed', 'g', '0')
    await redis.xreadgroup('GROUP', 'g', 'live', 'COUNT', 3, 'STREAMS', 'doc.unreclaimed', '>')
    await redis.call('XCLAIM', 'doc.unreclaimed', 'g', 'live', 0, ...unreclaimed, 'IDLE', 3_600_000, 'JUSTID')
    const noack = await add(redis, 'doc.noack', 12)
    await redis.xgroup('CREATE', 'doc.noack', 'g', '0')
    await redis.xreadgroup('GROUP', 'g', 'reader', 'COUNT', 12, 'STREAMS', 'doc.noack', '>')
    await redis.call('XCLAIM', 'doc.noack', 'g', 'reader', 0, ...noack, 'IDLE', 3_600_000, 'JUSTID')

    ;[jsonRun, human] = await Promise.all([doctor(...LIMITS, '--json'), doctor(...LIMITS)])
    json = jsonOf<DoctorResult>(jsonRun)
  })

  it('finds every planted problem and nothing else, errors first; exit 8 (--fail-on error)', () => {
    expect(jsonRun.code, diagnosis(jsonRun)).toBe(8)
    const [p1, p2] = [parts[1] as string, parts[2] as string]
    expect(json.findings.filter((found) => found.check !== 'server-settings').map(where)).toEqual([
      ['stuck-consumer', 'error', 'doc.parts', 1, p1, 'g', 'dead-worker'],
      ['stuck-consumer', 'error', 'doc.stuck', null, 'doc.stuck', 'g', 'dead-worker'],
      ['unreclaimed-pending', 'error', 'doc.unreclaimed', null, 'doc.unreclaimed', 'g', null],
      ['never-acknowledged', 'error', 'doc.noack', null, 'doc.noack', 'g', null],
      ['overdue-scheduled', 'error', 'doc.parts', 0, `${parts[0] as string}:scheduled`, null, null],
      ['overdue-scheduled', 'error', 'doc.sched', null, '{doc.sched}:scheduled', null, null],
      ['wrong-type', 'error', 'doc.parts', 2, p2, null, null],
      ['wrong-type', 'error', 'doc.retry', null, '{doc.retry}:retry:str', 'str', null],
      ['wrong-type', 'error', 'doc.strmeta', null, 'qctl:topic:{doc.strmeta}', null, null],
      ['wrong-type', 'error', 'doc.strsched', null, '{doc.strsched}:scheduled', null, null],
      ['wrong-type', 'error', 'doc.wrongdlq', null, '{doc.wrongdlq}:dlq', null, null],
      ['wrong-type', 'error', 'doc.wrongreplay', null, '{doc.wrongreplay}:replay:g', 'g', null],
      ['bad-metadata', 'error', 'doc.badmeta', null, 'qctl:topic:{doc.badmeta}', null, null],
      ['leftover-consumer', 'warn', 'doc.leftover', null, 'doc.leftover', 'g', 'gone-worker'],
      ['unknown-lag', 'warn', 'doc.deleted', null, 'doc.deleted', 'g', null],
      ['unknown-lag', 'warn', 'doc.setid', null, 'doc.setid', 'g', null],
      ['unbounded-stream', 'warn', 'doc.unbounded', null, 'doc.unbounded', null, null],
      ['growing-dlq', 'warn', 'doc.dlq', null, '{doc.dlq}:dlq', null, null],
      ['orphan-retry-records', 'warn', 'doc.retry', null, '{doc.retry}:retry:g', 'g', null],
      ['orphan-retry-records', 'warn', 'doc.retry', null, '{doc.retry}:retry:gone', 'gone', null],
    ])
    expect(json.failed).toBe(true)
    expect(json.counts).toEqual({error: json.findings.filter((found) => found.severity === 'error').length, warn: json.findings.filter((found) => found.severity === 'warn').length, info: 0})
  })

  it('stuck consumers: pending and idle, fixed by a running worker (named by topic, on a partition too)', () => {
    const stuck = finding('stuck-consumer', 'doc.stuck')
    expect(stuck.evidence).toMatchObject({pending: 2, stuckAfterMs: 5000})
    expect(Number(stuck.evidence.idleMs)).toBeGreaterThanOrEqual(5000)
    expect(stuck.fix).toBe('qctl work HANDLER --topic doc.stuck --group g')
    const onPartition = finding('stuck-consumer', parts[1] as string)
    expect(onPartition.fix).toBe('qctl work HANDLER --topic doc.parts --group g')
    expect(onPartition.message).toContain('consumer "dead-worker" of group "g" holds 2 pending entries')
  })

  it('pending entries nobody reclaims, held by a live consumer; a group that never acknowledges (its entries not reported twice)', () => {
    const unreclaimed = finding('unreclaimed-pending', 'doc.unreclaimed')
    expect(unreclaimed.evidence).toMatchObject({entries: 3, sampled: 3, pending: 3, consumers: ['live']})
    expect(Number(unreclaimed.evidence.maxIdleMs)).toBeGreaterThanOrEqual(3_600_000)
    expect(unreclaimed.fix).toBe('qctl work HANDLER --topic doc.unreclaimed --group g')
    const never = finding('never-acknowledged', 'doc.noack')
    expect(never.evidence).toMatchObject({delivered: 12, pending: 12})
    expect(never.fix).toBe('qctl work HANDLER --topic doc.noack --group g')
  })

  it('a leftover consumer, fixed by doctor --fix for its topic with the same limit', () => {
    const leftover = finding('leftover-consumer', 'doc.leftover')
    expect(leftover.evidence).toMatchObject({pending: 0, leftoverAfterMs: 5000})
    expect(leftover.fix).toBe('qctl doctor --fix --match doc.leftover --leftover-after 5s')
  })

  it('lag Redis cannot tell: entries deleted ahead (a worker), or a group moved without ENTRIESREAD (XGROUP SETID … ENTRIESREAD n)', () => {
    const deleted = finding('unknown-lag', 'doc.deleted')
    expect(deleted.evidence).toMatchObject({lastDeliveredId: '0-0', entriesAfter: 2})
    expect(deleted.fix).toBe('qctl work HANDLER --topic doc.deleted --group g')
    const moved = finding('unknown-lag', 'doc.setid')
    expect(moved.fix).toBe(`redis-cli XGROUP SETID doc.setid g ${setIdTarget} ENTRIESREAD 2`)
  })

  it('a stream never trimmed, with its memory measured per entry; a growing dead-letter stream (an old one is not)', () => {
    const unbounded = finding('unbounded-stream', 'doc.unbounded')
    expect(unbounded.evidence.entries).toBe(60)
    expect(Number(unbounded.evidence.memoryBytes)).toBeGreaterThan(0)
    expect(unbounded.evidence.bytesPerEntry).toBe(Math.round(Number(unbounded.evidence.memoryBytes) / 60))
    expect(unbounded.fix).toBe('qctl trim doc.unbounded --before 7d')
    const growing = finding('growing-dlq', '{doc.dlq}:dlq')
    expect(growing.evidence).toMatchObject({recent: 3, recentAtLeast: false, total: 3, windowMs: DEFAULT_THRESHOLDS.dlqWindowMs})
    expect(growing.fix).toBe('qctl dlq list doc.dlq')
  })

  it('scheduled messages overdue by more than a minute, fixed by schedule run (one just due is not a finding)', () => {
    const overdue = finding('overdue-scheduled', '{doc.sched}:scheduled')
    expect(overdue.evidence).toMatchObject({scheduled: 3, overdue: 2, oldestDueAt: '1970-01-01T00:00:00.001Z'})
    expect(overdue.message).toMatch(/^2 scheduled messages \(of 3 held\) are past their due time by more than 1m00s, the oldest by /)
    expect(overdue.fix).toBe('qctl schedule run doc.sched --follow')
    expect(finding('overdue-scheduled', `${parts[0] as string}:scheduled`).fix).toBe('qctl schedule run doc.parts --follow')
    expect(finding('wrong-type', '{doc.strsched}:scheduled').evidence).toEqual({expected: 'sorted set', as: 'schedule'})
    expect(json.looked.schedules).toBe(4)
  })

  it('retry records of entries that are gone, and of a group that is gone', () => {
    const missing = finding('orphan-retry-records', '{doc.retry}:retry:g')
    expect(missing.evidence).toMatchObject({records: 3, sampled: 2, missing: 1, missingIds: ['1-0']})
    expect(missing.fix).toBe("redis-cli HDEL '{doc.retry}:retry:g' 1-0 1-0+")
    const gone = finding('orphan-retry-records', '{doc.retry}:retry:gone')
    expect(gone.evidence).toMatchObject({records: 1, groupExists: false})
    expect(gone.fix).toBe("redis-cli DEL '{doc.retry}:retry:gone'")
  })

  it('keys named like qctl\'s that hold another type, and metadata qctl did not write', () => {
    expect(finding('wrong-type', '{doc.wrongdlq}:dlq').evidence).toEqual({expected: 'stream', as: 'dead-letters'})
    expect(finding('wrong-type', '{doc.wrongreplay}:replay:g').evidence).toEqual({expected: 'stream', as: 'replay'})
    expect(finding('wrong-type', parts[2] as string).evidence).toEqual({expected: 'stream', as: 'partition'})
    expect(finding('wrong-type', 'qctl:topic:{doc.strmeta}').evidence).toEqual({expected: 'hash', as: 'metadata'})
    expect(finding('wrong-type', '{doc.retry}:retry:str').evidence).toEqual({expected: 'hash', as: 'retry'})
    expect(finding('wrong-type', '{doc.wrongdlq}:dlq').fix).toBe("redis-cli DEL '{doc.wrongdlq}:dlq'")
    const bad = finding('bad-metadata', 'qctl:topic:{doc.badmeta}')
    expect(bad.message).toContain('has no valid "format" field')
    expect(bad.fix).toBe("redis-cli DEL 'qctl:topic:{doc.badmeta}'")
  })

  it('server settings of every primary: appendonly no and an evicting policy (errors), no replica (warning)', () => {
    const settings = json.findings.filter((found) => found.check === 'server-settings')
    expect(new Set(settings.map((found) => found.node))).toEqual(new Set(json.nodes))
    expect(json.nodes).toHaveLength(TEST_TARGET === 'cluster' ? 3 : 1)
    for (const node of json.nodes) {
      const mine = settings.filter((found) => found.node === node)
      expect(mine.map((found) => [found.severity, found.evidence.setting, found.evidence.value])).toEqual([
        ['error', 'appendonly', 'no'],
        ['error', 'maxmemory-policy', 'allkeys-lru'],
        ['warn', 'replicas', 0],
      ])
      const [host, port] = node.split(':')
      expect(mine[0]?.fix).toBe(`redis-cli -h ${host} -p ${port} CONFIG SET appendonly yes && redis-cli -h ${host} -p ${port} CONFIG REWRITE`)
    }
  })

  it('--json shape: the documented fields', () => {
    expect(Object.keys(json)).toEqual(['server', 'nodes', 'looked', 'thresholds', 'skipped', 'findings', 'counts', 'failOn', 'failed', 'fix', 'tookMs'])
    for (const found of json.findings) expect(Object.keys(found)).toEqual(['check', 'severity', 'topic', 'partition', 'group', 'consumer', 'key', 'node', 'message', 'evidence', 'fix'])
    expect(json.server).toMatch(/^(redis|valkey) \d/)
    expect(json.looked).toMatchObject({partitionedTopics: 1, retryHashes: 3})
    expect(json.thresholds).toEqual({...DEFAULT_THRESHOLDS, visibilityTimeoutMs: 2500, leftoverAfterMs: 5000, maxUntrimmed: 50, stuckAfterMs: 5000})
    expect([json.skipped, json.failOn, json.fix]).toEqual([[], 'error', null])
  })

  it('human output: each finding with where it is, what was seen and its fix; the counts and the exit', () => {
    expect(human.code, diagnosis(human)).toBe(8)
    const out = human.stdout
    expect(out).toMatch(/^qctl doctor: (redis|valkey) \S+ (at 127\.0\.0\.1:\d+|on 3 primaries): \d+ topics \(1 partitioned\), \d+ streams, /)
    // On a cluster, where names the primary too.
    const node = TEST_TARGET === 'cluster' ? ' · node 127\\.0\\.0\\.1:\\d+' : ''
    expect(out).toMatch(new RegExp(`ERROR stuck-consumer: doc\\.stuck${node}\\n      consumer "dead-worker" of group "g" holds 2 pending entries and has been idle \\S+, past 5s \\(twice --visibility-timeout\\): nobody takes its entries over\\n      fix: qctl work HANDLER --topic doc\\.stuck --group g\\n`))
    expect(out).toMatch(new RegExp(`ERROR stuck-consumer: doc\\.parts, partition 1 · key \\{doc\\.parts:p1:[^}]+\\}${node}\\n`))
    expect(out).toMatch(new RegExp(`WARN  orphan-retry-records: doc\\.retry · key \\{doc\\.retry\\}:retry:g${node}\\n`))
    expect(out).toMatch(/\n\d+ errors, \d+ warnings, 0 notes \(exit 8: --fail-on error\)\n$/)
  })

  it('--fail-on warn fails on warnings alone; the default (error) does not; --skip leaves checks out', async () => {
    const errors = ['stuck-consumer', 'unreclaimed-pending', 'never-acknowledged', 'overdue-scheduled', 'wrong-type', 'bad-metadata', 'server-settings'].flatMap((check) => ['--skip', check])
    const warnOnly = await doctor(...LIMITS, ...errors, '--json')
    expect(warnOnly.code, diagnosis(warnOnly)).toBe(0)
    const result = jsonOf<DoctorResult>(warnOnly)
    expect(result.counts.error).toBe(0)
    expect(result.counts.warn).toBeGreaterThan(0)
    expect(result.skipped).toEqual(['stuck-consumer', 'unreclaimed-pending', 'never-acknowledged', 'overdue-scheduled', 'wrong-type', 'bad-metadata', 'server-settings'])
    expect(result.failed).toBe(false)
    const strict = await doctor(...LIMITS, ...errors, '--fail-on', 'warn', '--json')
    expect(strict.code, diagnosis(strict)).toBe(8)
    expect(jsonOf<DoctorResult>(strict).failed).toBe(true)
  })

  it('--match: only those topics and their keys', async () => {
    const result = jsonOf<DoctorResult>(await doctor(...LIMITS, '--match', 'doc.retry', '--skip', 'server-settings', '--json'))
    expect(new Set(result.findings.map((found) => found.topic))).toEqual(new Set(['doc.retry']))
    expect(result.findings.map((found) => found.key).sort()).toEqual(['{doc.retry}:retry:g', '{doc.retry}:retry:gone', '{doc.retry}:retry:str'])
  })

  it('--dlq-window and --dlq-growth: how many dead letters within how long make a dead-letter stream grow', async () => {
    const growing = async (...args: string[]): Promise<Array<[string | null, unknown]>> => {
      const result = await doctor('--match', 'doc.*dlq', '--skip', 'server-settings', ...args, '--json')
      const found = jsonOf<DoctorResult>(result).findings.filter((candidate) => candidate.check === 'growing-dlq')
      return found.map((candidate) => [candidate.key, candidate.evidence])
    }
    // doc.dlq: 3 dead letters since the test started; doc.olddlq: 1, in 2023.
    expect((await growing()).map(([key]) => key)).toEqual(['{doc.dlq}:dlq'])
    expect(await growing('--dlq-growth', '4')).toEqual([])
    expect(await growing('--dlq-growth', '3')).toEqual([['{doc.dlq}:dlq', expect.objectContaining({recent: 3, total: 3})]])
    expect(await growing('--dlq-window', '1ms')).toEqual([])
    const long = 5000 * 86_400_000
    expect(await growing('--dlq-window', '5000d')).toEqual([
      ['{doc.dlq}:dlq', expect.objectContaining({recent: 3, windowMs: long})],
      ['{doc.olddlq}:dlq', expect.objectContaining({recent: 1, total: 1, windowMs: long})],
    ])
  })

  it('--sample: at most that many of a group\'s oldest pending entries, and of a retry hash\'s records, are read', async () => {
    // A group of its own whose 3 entries are held for an hour by a consumer that is active, and 3 retry records of entries that never were.
    const ids = await add(redis, 'doc.sample', 3)
    await redis.xgroup('CREATE', 'doc.sample', 'g', '0')
    await redis.xreadgroup('GROUP', 'g', 'live', 'COUNT', 3, 'STREAMS', 'doc.sample', '>')
    await redis.call('XCLAIM', 'doc.sample', 'g', 'live', 0, ...ids, 'IDLE', 3_600_000, 'JUSTID')
    await redis.hset('{doc.sample}:retry:g', '1-1', '0:1:1:0', '1-2', '0:1:1:0', '1-3', '0:1:1:0')
    try {
      // Stuck after 2m: the entries (idle an hour) are past it, the consumer (active now) is not.
      const look = async (...args: string[]): Promise<DoctorResult> => jsonOf<DoctorResult>(await doctor('--match', 'doc.sample', '--visibility-timeout', '1m', '--skip', 'server-settings', ...args, '--json'))
      const evidence = (result: DoctorResult, check: string): unknown => result.findings.find((found) => found.check === check)?.evidence
      const whole = await look()
      expect(evidence(whole, 'unreclaimed-pending')).toMatchObject({entries: 3, sampled: 3, pending: 3})
      expect(evidence(whole, 'orphan-retry-records')).toMatchObject({records: 3, sampled: 3, missing: 3})
      const sampled = await look('--sample', '2')
      expect(sampled.thresholds.sample).toBe(2)
      expect(evidence(sampled, 'unreclaimed-pending')).toMatchObject({entries: 2, sampled: 2, pending: 3})
      expect(evidence(sampled, 'orphan-retry-records')).toMatchObject({records: 3, sampled: 2, missing: 2})
    } finally {
      await redis.del('doc.sample')
      await redis.del('{doc.sample}:retry:g')
    }
  })

  it('refusals: --fix without --yes and no terminal (exit 2, nothing removed); a bad --fail-on, --skip or --sample (exit 2)', async () => {
    const refused = await doctor(...LIMITS, '--fix')
    expect(refused.code, diagnosis(refused)).toBe(2)
    expect(refused.stderr).toContain('refusing to remove leftover consumers without confirmation: no terminal to ask on; pass --yes')
    expect((await consumersOf(redis, 'doc.leftover', 'g')).has('gone-worker')).toBe(true)
    for (const args of [['--fail-on', 'fatal'], ['--skip', 'everything'], ['--sample', '0'], ['--dry-run'], ['--yes'], ['-y']]) {
      const bad = await doctor(...args)
      expect(bad.code, diagnosis(bad)).toBe(2)
    }
    expect((await doctor('--yes')).stderr).toContain('--fix')
  })

  it('--fix on a terminal asks first: "n" removes nothing, "y" removes the leftover', async () => {
    await add(redis, 'doc.tty', 1)
    await redis.xgroup('CREATE', 'doc.tty', 'g', '0')
    await redis.call('XGROUP', 'CREATECONSUMER', 'doc.tty', 'g', 'idle-one')
    await waitIdle(redis, [['doc.tty', 'g', 'idle-one']], 1100)
    const args = ['doctor', '--match', 'doc.tty', '--leftover-after', '1s', '--skip', 'server-settings', '--fix', '-u', context.server.url]
    const no = await inTerminal(args, 'n\n')
    expect(no.output).toContain('Remove 1 leftover consumer (each only if it still holds nothing)? [y/N] ')
    expect(no.output).toContain('--fix: nothing removed (not confirmed).')
    expect(no.code).toBe(0)
    expect((await consumersOf(redis, 'doc.tty', 'g')).has('idle-one')).toBe(true)
    const yes = await inTerminal(args, 'y\n')
    expect(yes.output).toContain('--fix: removed 1 leftover consumer.')
    expect((await consumersOf(redis, 'doc.tty', 'g')).has('idle-one')).toBe(false)
  })

  it('--fix --dry-run lists the leftovers and removes nothing', async () => {
    const dry = await doctor(...LIMITS, '--fix', '--dry-run', '--match', 'doc.leftover', '--skip', 'server-settings', '--json')
    expect(dry.code, diagnosis(dry)).toBe(0)
    expect(jsonOf<DoctorResult>(dry).fix).toEqual({
      dryRun: true,
      cancelled: false,
      removed: 0,
      kept: 0,
      consumers: [{topic: 'doc.leftover', partition: null, key: 'doc.leftover', group: 'g', consumer: 'gone-worker', outcome: 'would-remove', reason: null, pending: null}],
    })
    expect((await consumersOf(redis, 'doc.leftover', 'g')).has('gone-worker')).toBe(true)
  })

  it('--fix --yes removes the leftovers only: consumers holding entries stay, with them', async () => {
    const fixed = await doctor(...LIMITS, '--fix', '--yes', '--skip', 'server-settings')
    expect(fixed.stdout, diagnosis(fixed)).toContain('--fix: removed 1 leftover consumer.\n  removed consumer "gone-worker" of group "g" on doc.leftover\n')
    expect((await consumersOf(redis, 'doc.leftover', 'g')).has('gone-worker')).toBe(false)
    expect((await consumersOf(redis, 'doc.stuck', 'g')).get('dead-worker')?.pending).toBe(2)
    expect((await consumersOf(redis, parts[1] as string, 'g')).get('dead-worker')?.pending).toBe(2)
    const again = jsonOf<DoctorResult>(await doctor(...LIMITS, '--skip', 'server-settings', '--json'))
    expect(again.findings.filter((found) => found.check === 'leftover-consumer')).toEqual([])
  })

  it('--fix keeps a leftover that got an entry, or was active, between the look and the fix (checked inside Redis)', async () => {
    const ids = await add(redis, 'doc.race', 2)
    await redis.xgroup('CREATE', 'doc.race', 'g', '0')
    for (const consumer of ['late-taker', 'woken', 'really-gone']) await redis.call('XGROUP', 'CREATECONSUMER', 'doc.race', 'g', consumer)
    await waitIdle(redis, [['doc.race', 'g', 'late-taker'], ['doc.race', 'g', 'woken'], ['doc.race', 'g', 'really-gone']], 1200)
    const thresholds = {...DEFAULT_THRESHOLDS, leftoverAfterMs: 1000}
    const look = await runDoctor(redis, {match: 'doc.race', thresholds, skip: ['server-settings'], failOn: 'error', user: 'default'})
    const leftovers = leftoversOf(look.findings)
    expect(leftovers.map((leftover) => leftover.consumer).sort()).toEqual(['late-taker', 'really-gone', 'woken'])
    // Between the look and the fix: one gets an entry; one gets the other and acknowledges it (active again, holding nothing).
    await redis.xreadgroup('GROUP', 'g', 'late-taker', 'COUNT', 1, 'STREAMS', 'doc.race', '>')
    await redis.xreadgroup('GROUP', 'g', 'woken', 'COUNT', 1, 'STREAMS', 'doc.race', '>')
    await redis.xack('doc.race', 'g', ids[1] as string)
    const fixed = await removeLeftovers(redis, leftovers, thresholds.leftoverAfterMs)
    const byName = new Map(fixed.consumers.map((outcome) => [outcome.consumer, [outcome.outcome, outcome.reason, outcome.pending]]))
    expect(Object.fromEntries(byName)).toEqual({'late-taker': ['kept', 'holds-pending', 1], woken: ['kept', 'active', null], 'really-gone': ['removed', null, null]})
    expect([fixed.removed, fixed.kept]).toEqual([1, 2])
    const after = await consumersOf(redis, 'doc.race', 'g')
    expect(after.get('late-taker')?.pending).toBe(1)
    expect([...after.keys()].sort()).toEqual(['late-taker', 'woken'])
  })

  it('the fixes given work: SETID with ENTRIESREAD, HDEL and DEL of the records, and the findings are gone', async () => {
    for (const [check, key] of [['unknown-lag', 'doc.setid'], ['orphan-retry-records', '{doc.retry}:retry:g'], ['orphan-retry-records', '{doc.retry}:retry:gone']] as const) {
      const words = finding(check, key).fix.replace(/^redis-cli /, '').split(' ').map((word) => word.replace(/^'(.*)'$/, '$1'))
      await redis.call(words[0] as string, ...words.slice(1))
    }
    const again = jsonOf<DoctorResult>(await doctor(...LIMITS, '--skip', 'server-settings', '--json'))
    const keys = again.findings.filter((found) => found.check === 'unknown-lag' || found.check === 'orphan-retry-records').map((found) => found.key)
    expect(keys).toEqual(['doc.deleted'])
  })

  it('a live qctl worker whose handler runs past the limit is neither stuck nor unreclaimed (it renews what it holds)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qctl-doctor-'))
    const started = join(dir, 'started')
    const handler = join(dir, 'slow.mjs')
    await writeFile(handler, `import {writeFileSync} from 'node:fs'\nexport default async () => { writeFileSync(${JSON.stringify(started)}, String(Date.now())); await new Promise((resolve) => setTimeout(resolve, 60_000)) }\n`)
    await add(redis, 'doc.live', 3)
    const worker = startCli(['work', handler, '-t', 'doc.live', '-g', 'g', '--visibility-timeout', '1s', '-u', context.server.url])
    try {
      await waitFor(async () => (await readFile(started, 'utf8').catch(() => '')) !== '', 20_000, 'the handler to start')
      const since = Number(await readFile(started, 'utf8'))
      // Past twice the visibility timeout (2 s) of running, by the handler's own clock.
      await sleep(Math.max(0, since + 3000 - Date.now()))
      const look = jsonOf<DoctorResult>(await doctor('--match', 'doc.live', '--visibility-timeout', '1s', '--skip', 'server-settings', '--json'))
      expect(Date.now() - since).toBeGreaterThan(2000)
      // Its consumer on the topic, and on the group's replay stream.
      expect(look.looked.consumers).toBe(2)
      expect(look.findings).toEqual([])
    } finally {
      worker.child.kill('SIGKILL')
      await worker.done
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('knows every check it documents', () => {
    expect(new Set(json.findings.map((found) => found.check))).toEqual(new Set(CHECK_IDS))
  })
})

/** A server (or cluster) set up as the README recommends: appendonly yes, noeviction, a replica of every primary. */
async function startHealthy(): Promise<{url: string; client: AdminClient; stop: () => Promise<void>}> {
  if (TEST_TARGET === 'cluster') {
    const cluster = await RedisCluster.start({primaries: 3, replicas: 1, args: ['--appendonly', 'yes']})
    return {url: cluster.seedUrl, client: await cluster.client(), stop: async () => cluster.stop()}
  }
  const primary = await RedisServer.start({args: ['--appendonly', 'yes']})
  const replica = await RedisServer.start({args: ['--replicaof', '127.0.0.1', String(primary.port)]})
  const client = await primary.client()
  while (!/connected_slaves:1/.test(String(await client.call('INFO', 'replication')))) await sleep(100)
  return {
    url: primary.url,
    client,
    stop: async () => {
      await replica.stop()
      await primary.stop()
    },
  }
}

describe('a clean database', () => {
  let healthy: Awaited<ReturnType<typeof startHealthy>>

  beforeAll(async () => {
    healthy = await startHealthy()
    const redis = healthy.client
    // A topic with a group that is keeping up: everything delivered and acknowledged, its worker fresh.
    const ids = await add(redis, 'ok.orders', 20)
    await redis.xgroup('CREATE', 'ok.orders', 'billing', '0')
    await redis.xreadgroup('GROUP', 'billing', 'worker-1', 'COUNT', 20, 'STREAMS', 'ok.orders', '>')
    await redis.xack('ok.orders', 'billing', ...ids.slice(0, 19))
    // One in flight, with a retry record of its own.
    await redis.hset('{ok.orders}:retry:billing', ids[19] as string, '0:1:1:0')
    // Old dead letters, nothing new.
    await redis.xadd('{ok.orders}:dlq', '1700000000000-0', 'data', '{}')
    const created = await runCli(['topic', 'create', 'ok.parts', '--partitions', '3', '--json', '-u', healthy.url])
    expect(created.code, diagnosis(created)).toBe(0)
    const published = await runCli(['publish', 'ok.parts', '--ndjson', '--key-field', 'k', '-u', healthy.url], {input: '{"k":"a"}\n{"k":"b"}\n{"k":"c"}\n'})
    expect(published.code, diagnosis(published)).toBe(0)
  })

  afterAll(async () => {
    healthy?.client.disconnect()
    await healthy?.stop()
  })

  it('has no findings: exit 0, "No problems found."', async () => {
    const json = await runCli(['doctor', '--json', '-u', healthy.url], {timeoutMs: 60_000})
    expect(json.code, diagnosis(json)).toBe(0)
    const result = jsonOf<DoctorResult>(json)
    expect(result.findings).toEqual([])
    expect([result.counts, result.failed]).toEqual([{error: 0, warn: 0, info: 0}, false])
    expect(result.looked).toMatchObject({topics: 2, partitionedTopics: 1, groups: 1, retryHashes: 1})
    const human = await runCli(['doctor', '--fail-on', 'warn', '-u', healthy.url], {timeoutMs: 60_000})
    expect(human.code, diagnosis(human)).toBe(0)
    expect(human.stdout).toMatch(/\n\nNo problems found\.\n$/)
  })
})
