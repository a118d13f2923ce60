import {describe, expect, it} from 'vitest'

import {formatExposition} from '../../src/core/metrics/exposition.js'
import {queueFamilies} from '../../src/core/metrics/queue-metrics.js'
import type {GroupSnapshot, TopicSnapshot} from '../../src/core/stats/snapshot.js'
import {parsePrometheusText} from '../helpers/prometheus-text.js'
import {groupSnapshot, topicSnapshot} from './ui/fixtures.js'

// The UI tests' snapshot builders, with the figures these tests start from.
const group = (over: Partial<GroupSnapshot>): GroupSnapshot => groupSnapshot('billing', {entriesRead: 10, lag: 2, ...over})
const topic = (over: Partial<TopicSnapshot>): TopicSnapshot => topicSnapshot('orders', {length: 12, entriesAdded: 12, groups: [], ...over})

const AT = 1_700_000_100_000

const pageOf = (topics: TopicSnapshot[]) => parsePrometheusText(formatExposition(queueFamilies({at: AT, topics, focus: null})))

describe('the queue metrics of a snapshot (queue-metrics.ts)', () => {
  it('gives the oldest pending entry\'s age from its ID at the snapshot\'s time, and 0 when nothing is pending', () => {
    const page = pageOf([
      topic({groups: [group({name: 'billing', pending: 3, oldestPendingId: `${AT - 90_000}-0`, oldestPendingIdleMs: 5000}), group({name: 'audit', pending: 0})]}),
    ])
    expect(page.value('qctl_stream_group_oldest_pending_age_seconds', {topic: 'orders', group: 'billing'})).toBe(90)
    expect(page.value('qctl_stream_group_oldest_pending_age_seconds', {topic: 'orders', group: 'audit'})).toBe(0)
  })

  it('leaves out what Redis could not tell (lag, counters, schedule) instead of writing 0', () => {
    const page = pageOf([topic({entriesAdded: null, scheduled: null, scheduledDue: null, groups: [group({lag: null, entriesRead: null, parkedPending: null, activeConsumers: null})]})])
    const labels = {topic: 'orders', group: 'billing'}
    for (const name of ['qctl_stream_group_lag', 'qctl_stream_group_entries_read', 'qctl_stream_group_messages_parked', 'qctl_stream_group_active_consumers']) expect(page.value(name, labels), name).toBeUndefined()
    for (const name of ['qctl_stream_entries_added_total', 'qctl_scheduled_messages', 'qctl_scheduled_messages_due', 'qctl_dlq_entries_added_total']) expect(page.value(name, {topic: 'orders'}), name).toBeUndefined()
    expect(page.value('qctl_stream_group_messages_pending', labels)).toBe(0)
    expect(page.value('qctl_stream_length', {topic: 'orders'})).toBe(12)
  })

  it('counts a partitioned topic\'s partitions and a plain stream as one', () => {
    const partitioned = topic({topic: 'acct', partitions: [0, 1, 2].map((partition) => ({partition, stream: `{acct:p${partition}}`, node: null, length: 4, entriesAdded: 4, deadLetters: 0, deadLettersAdded: null, scheduled: 0, scheduledDue: 0, groups: []}))})
    const page = pageOf([topic({}), partitioned])
    expect(page.value('qctl_stream_partitions', {topic: 'acct'})).toBe(3)
    expect(page.value('qctl_stream_partitions', {topic: 'orders'})).toBe(1)
  })

  it('types the counters as counters and the rest as gauges', () => {
    const page = pageOf([topic({deadLetters: 1, deadLettersAdded: 1, groups: [group({})]})])
    expect(page.families.get('qctl_stream_entries_added_total')?.type).toBe('counter')
    expect(page.families.get('qctl_dlq_entries_added_total')?.type).toBe('counter')
    expect(page.families.get('qctl_stream_group_lag')?.type).toBe('gauge')
    expect(page.value('qctl_dlq_length', {topic: 'orders'})).toBe(1)
  })

  it('writes nothing for a database without topics (families without samples are left out)', () => {
    expect(formatExposition(queueFamilies({at: AT, topics: [], focus: null}))).toBe('')
  })
})
