import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'

import {checkFacts, NEVER_ACK_MIN, sortFindings} from '../../src/core/doctor/checks.js'
import type {Facts, GroupFacts, StreamFacts} from '../../src/core/doctor/facts.js'
import {durationWord, shellWord} from '../../src/core/doctor/fix-commands.js'
import {parseInfo, settingsFindings, type NodeSettings} from '../../src/core/doctor/server-settings.js'
import {DEFAULT_THRESHOLDS, type Finding} from '../../src/core/doctor/types.js'
import {replayKey, replayKeyOwners, replayRetryKey, replayRetryKeyOwners, retryKey, retryKeyOwners} from '../../src/core/keys.js'
import {formatDoctorFindings, formatFix} from '../../src/format/doctor.js'

/** The pure parts of `qctl doctor`: key readings, the checks' boundaries, settings, fix commands and the human output. */

const plain = new Chalk({level: 0})
const NOW = 1_800_000_000_000
const HOUR = 3_600_000

const group = (fields: Partial<GroupFacts> = {}): GroupFacts => ({
  name: 'g',
  lastDeliveredId: '0-0',
  entriesRead: null,
  lag: 0,
  pending: 0,
  consumerCount: 0,
  activeConsumers: 0,
  parkedPending: 0,
  oldestPendingId: null,
  oldestPendingIdleMs: null,
  consumers: null,
  oldestPending: null,
  entriesAfter: null,
  ...fields,
})

const stream = (fields: Partial<StreamFacts> = {}): StreamFacts => ({
  place: {key: 'orders', role: 'topic', topic: 'orders', partition: null, group: null},
  node: '127.0.0.1:6379',
  length: 10,
  firstId: `${NOW - HOUR}-0`,
  lastId: `${NOW}-0`,
  entriesAdded: 10,
  groups: [],
  ...fields,
})

const check = (streams: StreamFacts[], thresholds = DEFAULT_THRESHOLDS): Finding[] => {
  const facts: Facts = {now: NOW, streams, retries: [], schedules: [], wrongType: []}
  return checkFacts(facts, [], thresholds, () => null)
}

describe('keys: derived keys read back to their stream and group', () => {
  it.each([
    ['orders', 'billing'],
    ['{order}.created', 'billing'],
    ['{orders:p3:a}', 'a group:with:retry:in it'],
  ])('%s / %s', (topic, name) => {
    expect(retryKeyOwners(retryKey(topic, name))).toContainEqual({stream: topic, group: name})
    expect(replayRetryKeyOwners(replayRetryKey(topic, name))).toContainEqual({stream: topic, group: name})
    expect(replayKeyOwners(replayKey(topic, name))).toContainEqual({stream: topic, group: name})
  })

  it('a key of another kind reads as nothing', () => {
    expect(retryKeyOwners('{orders}:due:billing')).toEqual([])
    expect(retryKeyOwners('orders:retry:billing')).toEqual([])
    expect(replayRetryKeyOwners('{orders}:retry:billing')).toEqual([])
    expect(replayKeyOwners('{orders}:replay-due:billing')).toEqual([])
  })
})

describe('fix commands', () => {
  it('quote what a shell would change, leave the rest bare', () => {
    expect(shellWord('order.created')).toBe('order.created')
    expect(shellWord('1796000000000-0+')).toBe('1796000000000-0+')
    expect(shellWord('{orders}:dlq')).toBe("'{orders}:dlq'")
    expect(shellWord("it's")).toBe("'it'\\''s'")
    expect(shellWord('a b$c')).toBe("'a b$c'")
  })

  it('write durations as the flags take them', () => {
    expect([durationWord(3_600_000), durationWord(90_000), durationWord(60_000), durationWord(2500), durationWord(1000), durationWord(0)]).toEqual(['1h', '90s', '1m', '2500ms', '1s', '0ms'])
  })

  it('retry records: the message says how many of how many were read', () => {
    const retry = (records: number, sampled: number, missing: number): string => {
      const place = {key: '{o}:retry:g', stream: {key: 'o', role: 'topic' as const, topic: 'o', partition: null, group: null}, group: 'g', lane: 'topic' as const, entriesKey: 'o'}
      const ids = Array.from({length: sampled}, (_, i) => `${i + 1}-0`)
      const facts: Facts = {now: NOW, streams: [], retries: [{place, node: null as unknown as string, records, sampledIds: ids, missingIds: ids.slice(0, missing), groupExists: true}], schedules: [], wrongType: []}
      return checkFacts(facts, [], DEFAULT_THRESHOLDS, () => null)[0]?.message ?? ''
    }
    expect(retry(1, 1, 1)).toBe('its retry record is for an entry no longer in o (deleted or trimmed): nothing will ever remove it')
    expect(retry(3, 3, 3)).toMatch(/^all 3 of its retry records are for entries no longer in o/)
    expect(retry(3, 3, 1)).toMatch(/^1 of its 3 retry records is for an entry/)
    expect(retry(500, 100, 7)).toMatch(/^7 of the 100 retry records read \(of 500\) are for entries/)
  })
})

describe('checks: boundaries', () => {
  const limits = {...DEFAULT_THRESHOLDS, visibilityTimeoutMs: 1000, leftoverAfterMs: 5000}

  it('a consumer is stuck from twice the visibility timeout, a leftover from --leftover-after; the parked pseudo-consumer is neither', () => {
    const consumers = [
      {name: 'just-under', pending: 1, idleMs: 1999},
      {name: 'stuck', pending: 1, idleMs: 2000},
      {name: 'fresh-empty', pending: 0, idleMs: 4999},
      {name: 'leftover', pending: 0, idleMs: 5000},
      {name: 'qctl:parked', pending: 3, idleMs: 10 * HOUR},
    ]
    const found = check([stream({groups: [group({pending: 5, consumerCount: 5, consumers})]})], limits)
    expect(found.map((finding) => [finding.check, finding.consumer])).toEqual([
      ['stuck-consumer', 'stuck'],
      ['leftover-consumer', 'leftover'],
    ])
  })

  it('a group acknowledges nothing only past NEVER_ACK_MIN delivered, all pending, the oldest idle past the limit, on a stream never trimmed', () => {
    const noack = (delivered: number, fields: Partial<GroupFacts> = {}, streamFields: Partial<StreamFacts> = {}): string[] =>
      check([stream({length: delivered, entriesAdded: delivered, ...streamFields, groups: [group({lag: 0, pending: delivered, oldestPendingIdleMs: 2000, ...fields})]})], limits).map((finding) => finding.check)
    expect(noack(NEVER_ACK_MIN)).toEqual(['never-acknowledged'])
    expect(noack(NEVER_ACK_MIN - 1)).toEqual([])
    expect(noack(NEVER_ACK_MIN, {pending: NEVER_ACK_MIN - 1})).toEqual([])
    expect(noack(NEVER_ACK_MIN, {oldestPendingIdleMs: 1999})).toEqual([])
    // Trimmed (entries added > length): the entries delivered cannot be told from the stream.
    expect(noack(NEVER_ACK_MIN, {}, {entriesAdded: 100})).toEqual([])
    // Created at $ on a long stream: most entries were never delivered to it.
    expect(noack(NEVER_ACK_MIN, {pending: 3}, {length: 1000, entriesAdded: 1000})).toEqual([])
  })

  it('unknown lag: deleted entries ahead (a worker fixes it), or a counter to set (SETID … ENTRIESREAD, when counted)', () => {
    const [ahead] = check([stream({maxDeletedId: '5-0', groups: [group({lag: null, lastDeliveredId: '3-0', entriesAfter: 4})]})])
    expect(ahead?.fix).toBe('qctl work HANDLER --topic orders --group g')
    const [moved] = check([stream({maxDeletedId: '0-0', entriesAdded: 10, groups: [group({lag: null, lastDeliveredId: '3-0', entriesAfter: 4})]})])
    expect(moved?.fix).toBe('redis-cli XGROUP SETID orders g 3-0 ENTRIESREAD 6')
    const [uncounted] = check([stream({maxDeletedId: '0-0', groups: [group({lag: null, lastDeliveredId: '3-0', entriesAfter: null})]})])
    expect(uncounted?.fix).toBe('qctl work HANDLER --topic orders --group g')
    expect(uncounted?.message).toContain('more than 1,000 undelivered')
  })

  it('an unbounded stream: past --max-untrimmed, never trimmed; memory per entry; a rate only over an hour or more', () => {
    const limit = {...DEFAULT_THRESHOLDS, maxUntrimmed: 100}
    expect(check([stream({length: 100, entriesAdded: 100})], limit)).toEqual([])
    expect(check([stream({length: 200, entriesAdded: 201})], limit)).toEqual([])
    const [daily] = check([stream({length: 2400, entriesAdded: 2400, firstId: `${NOW - 24 * HOUR}-0`, lastId: `${NOW}-0`, memoryBytes: 240_000})], limit)
    expect(daily?.evidence).toMatchObject({entries: 2400, memoryBytes: 240_000, bytesPerEntry: 100, entriesPerDay: 2400})
    expect(daily?.message).toContain('234.4 KiB (100 B an entry, MEMORY USAGE), about 2,400 entries a day since')
    const [quick] = check([stream({length: 2400, entriesAdded: 2400, firstId: `${NOW - 60_000}-0`, lastId: `${NOW}-0`, memoryBytes: null})], limit)
    expect(quick?.evidence.entriesPerDay).toBeNull()
    expect(quick?.message).toContain('memory not measured (MEMORY USAGE refused)')
  })

  it('a growing dead-letter stream: --dlq-growth within the window; "at least" when the count was capped', () => {
    const dlq = (recent: number, growth = 1): Finding[] =>
      check([stream({place: {key: '{orders}:dlq', role: 'dead-letters', topic: 'orders', partition: 2, group: null}, length: 500, lastId: `${NOW - 120_000}-0`, recentDeadLetters: recent})], {...DEFAULT_THRESHOLDS, dlqGrowth: growth})
    expect(dlq(0)).toEqual([])
    expect(dlq(4, 5)).toEqual([])
    const [capped] = dlq(100)
    expect(capped?.message).toBe('at least 100 dead letters in the last 1h00m (--dlq-window; the newest 2m00s ago), 500 in all: it grows')
    expect(capped?.fix).toBe('qctl dlq list orders --partition 2')
  })

  it('sorts errors first, then by check, topic and partition', () => {
    const finding = (check: Finding['check'], severity: Finding['severity'], topic: string, partition: number | null): Finding => ({check, severity, topic, partition, group: null, consumer: null, key: topic, node: null, message: '', evidence: {}, fix: ''})
    const sorted = sortFindings([finding('leftover-consumer', 'warn', 'a', null), finding('stuck-consumer', 'error', 'b', 1), finding('stuck-consumer', 'error', 'b', 0), finding('wrong-type', 'error', 'a', null)])
    expect(sorted.map((found) => [found.check, found.topic, found.partition])).toEqual([
      ['stuck-consumer', 'b', 0],
      ['stuck-consumer', 'b', 1],
      ['wrong-type', 'a', null],
      ['leftover-consumer', 'a', null],
    ])
  })
})

describe('server settings', () => {
  const settings = (fields: Partial<Extract<NodeSettings, {read: true}>>): NodeSettings => ({node: '10.0.0.5:6380', read: true, aofEnabled: true, maxmemoryPolicy: 'noeviction', maxmemoryBytes: 0, role: 'master', connectedReplicas: 1, ...fields})
  const said = (node: NodeSettings): unknown[] => settingsFindings(node, 'ops').map((finding) => [finding.severity, finding.evidence.setting, finding.evidence.value])

  it('reads INFO sections', () => {
    const fields = parseInfo('# Persistence\r\naof_enabled:0\r\n# Memory\r\nmaxmemory:1073741824\r\nmaxmemory_policy:allkeys-lru\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n')
    expect([fields.get('aof_enabled'), fields.get('maxmemory_policy'), fields.get('connected_slaves')]).toEqual(['0', 'allkeys-lru', '0'])
  })

  it('healthy: nothing; eviction only matters with a maxmemory; volatile-* is a warning; a replica is not asked for replicas', () => {
    expect(said(settings({}))).toEqual([])
    expect(said(settings({maxmemoryPolicy: 'allkeys-lru'}))).toEqual([])
    expect(said(settings({maxmemoryPolicy: 'allkeys-lru', maxmemoryBytes: 1}))).toEqual([['error', 'maxmemory-policy', 'allkeys-lru']])
    expect(said(settings({maxmemoryPolicy: 'volatile-ttl', maxmemoryBytes: 1}))).toEqual([['warn', 'maxmemory-policy', 'volatile-ttl']])
    expect(said(settings({role: 'slave', connectedReplicas: 0}))).toEqual([])
    expect(said(settings({aofEnabled: false, connectedReplicas: 0}))).toEqual([
      ['error', 'appendonly', 'no'],
      ['warn', 'replicas', 0],
    ])
  })

  it('INFO refused or failed: a note, not an error', () => {
    const [denied] = settingsFindings({node: '10.0.0.5:6380', read: false, reason: 'NOPERM …', denied: true}, 'ops')
    expect([denied?.severity, denied?.fix]).toEqual(['info', 'redis-cli -h 10.0.0.5 -p 6380 ACL SETUSER ops +info'])
    const [renamed] = settingsFindings({node: '10.0.0.5:6380', read: false, reason: "ERR unknown command 'INFO'", denied: false}, 'ops')
    expect(renamed?.severity).toBe('info')
    expect(renamed?.message).toContain("INFO failed (ERR unknown command 'INFO')")
  })
})

describe('human output', () => {
  it('names and keys with control characters are shown escaped', () => {
    const consumers = [{name: 'evil\u001b[31m', pending: 1, idleMs: 10 * HOUR}]
    const findings = check([stream({place: {key: 'or\u001bders', role: 'topic', topic: 'or\u001bders', partition: null, group: null}, groups: [group({pending: 1, consumerCount: 1, consumers})]})])
    const result = {server: 'redis 7.0.15', nodes: ['127.0.0.1:6379'], looked: {topics: 1, partitionedTopics: 0, streams: 1, groups: 1, consumers: 1, retryHashes: 0, schedules: 0}, thresholds: {...DEFAULT_THRESHOLDS, stuckAfterMs: 60_000}, skipped: [], findings, counts: {error: 1, warn: 0, info: 0}, failOn: 'error' as const, failed: true, fix: null, tookMs: 12}
    const text = formatDoctorFindings(result, plain).join('\n')
    expect(text).not.toContain('\u001b')
    expect(text).toContain('ERROR stuck-consumer: or\\u001bders\n      consumer "evil\\u001b[31m" of group "g" holds 1 pending entry and has been idle 10h00m')
  })

  it('what --fix did, and why a consumer was kept', () => {
    const base = {topic: 'orders', partition: 1, key: '{orders:p1:a}', group: 'g', pending: null}
    const lines = formatFix(
      {dryRun: false, cancelled: false, removed: 1, kept: 2, consumers: [{...base, consumer: 'a', outcome: 'removed', reason: null}, {...base, consumer: 'b', outcome: 'kept', reason: 'holds-pending', pending: 2}, {...base, consumer: 'c', outcome: 'kept', reason: 'active'}]},
      plain,
    )
    expect(lines).toEqual([
      '--fix: removed 1 leftover consumer, kept 2 (checked again inside Redis).',
      '  removed consumer "a" of group "g" on orders, partition 1 (key {orders:p1:a})',
      '  kept consumer "b" of group "g" on orders, partition 1 (key {orders:p1:a}): it holds 2 pending entries now',
      '  kept consumer "c" of group "g" on orders, partition 1 (key {orders:p1:a}): it was active since the look',
    ])
  })
})
