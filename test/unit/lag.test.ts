import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'

import {gateFailures, lagRows, withGates, type LagRow} from '../../src/core/lag/lag.js'
import type {TopicStats} from '../../src/core/stats/topic-stats.js'
import {formatGateFailure, formatLagTable} from '../../src/format/lag.js'

const NOW = Date.parse('2026-11-28T12:00:00.000Z')

const stats = (overrides: Partial<TopicStats> = {}): TopicStats => ({
  node: null,
  topic: 'orders',
  stream: overrides.topic ?? 'orders',
  partition: null,
  length: 100,
  firstId: '1-0',
  lastId: '2-0',
  lastGeneratedId: '2-0',
  entriesAdded: 100,
  deadLetterKey: '{orders}:dlq',
  deadLetters: 2,
  scheduled: 0,
  scheduledDue: 0,
  groups: [
    {name: 'zeta', lastDeliveredId: '2-0', entriesRead: 100, lag: 0, lagSource: 'redis', pending: 0, oldestPendingId: null, oldestPendingIdleMs: null, consumers: 1, activeConsumers: 0, replayed: 0},
    {name: 'billing', lastDeliveredId: '1-5', entriesRead: 40, lag: 60, lagSource: 'redis', pending: 5, oldestPendingId: `${NOW - 90_000}-0`, oldestPendingIdleMs: 30_000, consumers: 3, activeConsumers: 2, replayed: 0},
  ],
  warnings: [],
  ...overrides,
})

describe('lagRows', () => {
  it('makes one row per group, sorted by topic then group, with ISO times and ages from now', () => {
    const rows = lagRows([stats({topic: 'payments', groups: []}), stats()], NOW)
    expect(rows.map((row) => [row.topic, row.group])).toEqual([
      ['orders', 'billing'],
      ['orders', 'zeta'],
      ['payments', null],
    ])
    expect(rows[0]).toEqual({
      topic: 'orders',
      partition: null,
      partitions: 1,
      group: 'billing',
      groupExists: true,
      length: 100,
      lag: 60,
      lagSource: 'redis',
      pending: 5,
      replayed: 0,
      oldestPendingId: `${NOW - 90_000}-0`,
      oldestPendingAt: '2026-11-28T11:58:30.000Z',
      oldestPendingAgeMs: 90_000,
      consumers: 3,
      activeConsumers: 2,
      deadLetters: 2,
      topicDeadLetters: 2,
      scheduled: 0,
      scheduledDue: 0,
      failedGates: [],
      warnings: [],
      node: null,
    })
    expect(rows[2]).toMatchObject({group: null, groupExists: false, lag: null, lagSource: null, pending: 0})
  })
})

describe('oldest pending age', () => {
  const group = (oldestPendingId: string, oldestPendingIdleMs: number) => stats({groups: [{...stats().groups[1]!, oldestPendingId, oldestPendingIdleMs}]})

  it('is the time since the ID when the ID is in the past, even when the idle time is larger (a retry parked by qctl)', () => {
    const [row] = lagRows([group(`${NOW - 90_000}-0`, 600_000)], NOW)
    expect(row?.oldestPendingAgeMs).toBe(90_000)
  })

  it('is the idle time when the ID is in the future (explicit IDs from another producer), so --max-pending-age still sees it', () => {
    const [row] = lagRows([group('99999999999999-0', 600_000)], NOW)
    expect(row?.oldestPendingAgeMs).toBe(600_000)
    expect(gateFailures(row!, {maxPendingAgeMs: 300_000})).toEqual([{gate: 'max-pending-age', limit: 300_000, value: 600_000}])
  })
})

describe('gates', () => {
  const [billing, zeta] = lagRows([stats()], NOW) as [LagRow, LagRow]

  it.each([
    [{maxLag: 60}, []],
    [{maxLag: 59}, [{gate: 'max-lag', limit: 59, value: 60}]],
    [{maxPending: 4}, [{gate: 'max-pending', limit: 4, value: 5}]],
    [{maxPendingAgeMs: 60_000}, [{gate: 'max-pending-age', limit: 60_000, value: 90_000}]],
    [{maxDlq: 1}, [{gate: 'max-dlq', limit: 1, value: 2}]],
    [{maxLag: 100, maxPending: 100, maxPendingAgeMs: 100_000, maxDlq: 2}, []],
  ])('%o on billing fails %o', (gates, expected) => {
    expect(gateFailures(billing, gates)).toEqual(expected)
  })

  it('fails --max-lag on an unknown lag: a gate never passes on a guess', () => {
    expect(gateFailures({...zeta, lag: null, lagSource: 'unknown'}, {maxLag: 1_000_000})).toEqual([{gate: 'max-lag', limit: 1_000_000, value: null}])
  })

  it('fails every group gate of a topic without groups (nothing reads it), and checks --max-dlq as usual', () => {
    const [row] = lagRows([stats({groups: []})], NOW) as [LagRow]
    expect(gateFailures(row, {maxLag: 0, maxPending: 0, maxPendingAgeMs: 0, maxDlq: 0})).toEqual([
      {gate: 'max-lag', limit: 0, value: null, reason: 'no-group'},
      {gate: 'max-pending', limit: 0, value: null, reason: 'no-group'},
      {gate: 'max-pending-age', limit: 0, value: null, reason: 'no-group'},
      {gate: 'max-dlq', limit: 0, value: 2},
    ])
    expect(gateFailures(row, {maxDlq: 5})).toEqual([])
    const [failed] = withGates([row], {maxLag: 1000}) as [LagRow]
    expect(formatGateFailure(failed, failed.failedGates[0] as never)).toBe('orders: no consumer group reads it, so --max-lag 1,000 cannot pass')
  })

  it('with --group: a row per named group, one the topic does not have marked missing and failing the group gates', () => {
    const rows = lagRows([stats()], NOW, ['zeta', 'shipping', 'zeta'])
    expect(rows.map((row) => [row.group, row.groupExists])).toEqual([
      ['shipping', false],
      ['zeta', true],
    ])
    const [missing] = withGates(rows, {maxPending: 0}) as [LagRow]
    expect(missing.failedGates).toEqual([{gate: 'max-pending', limit: 0, value: null, reason: 'no-group'}])
    expect(formatGateFailure(missing, missing.failedGates[0] as never)).toBe('orders/shipping: it has no consumer group "shipping", so --max-pending 0 cannot pass')
  })

  it('names the row and the gate', () => {
    const [failed] = withGates([billing], {maxLag: 10, maxPendingAgeMs: 60_000}) as [LagRow]
    expect(failed.failedGates.map((failure) => formatGateFailure(failed, failure))).toEqual([
      'orders/billing: lag 60 > --max-lag 10',
      'orders/billing: oldest pending age 1m30s > --max-pending-age 1m00s',
    ])
  })
})

describe('formatLagTable', () => {
  it('shows every column, unknown lag as "unknown" and groupless topics plainly', () => {
    const rows = lagRows([stats({groups: [{...stats().groups[0]!, lag: null, lagSource: 'unknown'}]}), stats({topic: 'solo', groups: []})], NOW)
    const text = formatLagTable(rows, new Chalk({level: 0}), {layout: 'boxed'})
    expect(text).toContain('TOPIC')
    expect(text).toMatch(/│ orders │ zeta\s+│\s+100 │ unknown │\s+0 │\s+- │\s+0\/1 │\s+2 │/)
    expect(text).toMatch(/│ solo\s+│ \(no consumer group\) │\s+100 │\s+- │\s+- │\s+- │\s+- │\s+2 │/)
  })

  it('is compact (one line a row, no rules) when piped, and fits 80 columns by cutting names, not figures', () => {
    const long = {...stats().groups[0]!, name: 'billing-reconciliation-worker-pool'}
    const rows = lagRows([stats({topic: 'tenant.eu-west-1.orders.processed.v2', groups: [long]})], NOW)
    const piped = formatLagTable(rows, new Chalk({level: 0}), {layout: 'compact'}).split('\n')
    expect(piped[0]).toMatch(/^TOPIC +GROUP +LENGTH +LAG +PENDING +OLDEST PENDING +CONSUMERS +DLQ$/)
    expect(piped[1]).toMatch(/^tenant\.eu-west-1\.orders\.processed\.v2 +billing-reconciliation-worker-pool +100 /)
    const narrow = formatLagTable(rows, new Chalk({level: 0}), {layout: 'boxed', width: 80}).split('\n')
    expect(narrow).toHaveLength(2)
    for (const line of narrow) expect(line.length).toBeLessThanOrEqual(80)
    expect(narrow[0]).toMatch(/^TOPIC +GROUP +LENGTH +LAG +PENDING +OLDEST +CONS +DLQ$/)
    expect(narrow[1]).toMatch(/^tenant\.eu-west-1\.\S*… +billing-\S*… +100 +0 +0 +- +0\/1 +2$/)
  })

  it('shows a hostile group name escaped, on its row', () => {
    const hostile = {...stats().groups[0]!, name: '\u001b[31mg\u001b]0;pwned\u0007\r\nx'}
    const text = formatLagTable(lagRows([stats({groups: [hostile]})], NOW), new Chalk({level: 0}))
    expect(text).not.toMatch(/[\u001b\r\u0007]/)
    expect(text.split('\n')).toHaveLength(2)
    expect(text).toContain('\\u001b[31mg\\u001b]0;pwned\\u0007\\r\\nx')
  })
})
