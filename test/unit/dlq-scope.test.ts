import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'

import {decodeDlqEntry} from '../../src/core/dlq/entry.js'
import {dlqScopeOf} from '../../src/core/dlq/scope.js'
import {mergeEntries} from '../../src/core/dlq/scope-list.js'
import {mergeSummaries, SummaryCollector} from '../../src/core/dlq/summary.js'
import {plainTopic, type TopicLayout} from '../../src/core/partitions/metadata.js'
import {formatDlqTable} from '../../src/format/dlq.js'
import {placeOf} from '../../src/format/dlq-place.js'
import {formatReplayTargets} from '../../src/format/replay-targets.js'

/** The pure parts of `qctl dlq` over a partitioned topic's partitions (the commands: test/e2e/dlq-partitions.test.ts). */

const style = new Chalk({level: 0})
const NOW = Date.parse('2026-11-28T10:00:00.000Z')

const layout = (topic: string, count: number): TopicLayout => {
  const streams = Array.from({length: count}, (_, index) => `{${topic}:p${index}:s}`)
  return {topic, streams, metadata: {format: 1, partitions: count, streams, hash: 'murmur2', createdAt: 0, updatedAt: 0, version: 1}}
}

const entry = (id: string, partition: number | null, group = 'billing', errorName = 'Error') =>
  decodeDlqEntry(id, ['data', '{}', 'dlq.topic', 't', 'dlq.group', group, 'dlq.error-name', errorName], partition)

describe('dlqScopeOf', () => {
  it('a plain topic: its one dead-letter stream (or --dlq), partition null', () => {
    expect(dlqScopeOf(plainTopic('orders'))).toEqual({topic: 'orders', partitioned: false, parts: [{partition: null, stream: 'orders', key: '{orders}:dlq'}]})
    expect(dlqScopeOf(plainTopic('orders'), {dlq: 'custom', partition: 0}).parts).toEqual([{partition: null, stream: 'orders', key: 'custom'}])
  })

  it("a partitioned topic: each partition's own dead-letter stream, or the one of --partition", () => {
    const scope = dlqScopeOf(layout('orders', 3))
    expect(scope.parts.map((part) => [part.partition, part.key])).toEqual([
      [0, '{orders:p0:s}:dlq'],
      [1, '{orders:p1:s}:dlq'],
      [2, '{orders:p2:s}:dlq'],
    ])
    expect(dlqScopeOf(layout('orders', 3), {partition: 2}).parts).toEqual([{partition: 2, stream: '{orders:p2:s}', key: '{orders:p2:s}:dlq'}])
  })

  it('refuses --dlq with a partitioned topic and a --partition out of range (usage errors)', () => {
    expect(() => dlqScopeOf(layout('orders', 3), {dlq: 'x'})).toThrow('--dlq cannot be used with topic "orders": it is partitioned, and each of its 3 partitions has its own dead-letter stream')
    expect(() => dlqScopeOf(layout('orders', 3), {partition: 3})).toThrow('--partition 3: topic "orders" has 3 partitions (0 … 2)')
    expect(() => dlqScopeOf(plainTopic('orders'), {partition: 1})).toThrow('is a plain stream, not a partitioned topic (its only partition is 0)')
  })
})

describe('merging partitions', () => {
  it('entries in ID order either way; equal IDs of two partitions: the lower partition first', () => {
    const merged = mergeEntries([[entry('5-0', 0), entry('1-0', 0)], [entry('5-0', 1), entry('3-0', 1)]], 'newest')
    expect(merged.map((item) => [item.dlqId, item.partition])).toEqual([
      ['5-0', 0],
      ['5-0', 1],
      ['3-0', 1],
      ['1-0', 0],
    ])
    expect(mergeEntries([[entry('5-0', 1)], [entry('10-0', 0)]], 'oldest').map((item) => item.dlqId)).toEqual(['5-0', '10-0'])
  })

  it('summaries add up; first and last are the oldest and newest over the partitions', () => {
    const collect = (...entries: ReturnType<typeof entry>[]) => {
      const collector = new SummaryCollector()
      for (const item of entries) collector.add(item)
      return collector.summary()
    }
    const merged = mergeSummaries([collect(entry('2-0', 0), entry('9-0', 0, 'shipping', 'E')), collect(entry('1-0', 1)), collect()])
    expect(merged.count).toBe(3)
    expect(merged.byGroup).toEqual([
      {group: 'billing', count: 2},
      {group: 'shipping', count: 1},
    ])
    expect(merged.byErrorName).toEqual([
      {errorName: 'Error', count: 2},
      {errorName: 'E', count: 1},
    ])
    expect(merged.byHour).toEqual([{hour: '1970-01-01T00', count: 3}])
    expect([merged.first?.dlqId, merged.first?.partition, merged.last?.dlqId]).toEqual(['1-0', 1, '9-0'])
  })
})

describe('formatting partitioned results', () => {
  it('a table of partitioned entries starts with the partition; plain entries get no such column', () => {
    const lines = formatDlqTable([entry(`${NOW}-0`, 12), entry(`${NOW}-1`, 3)], {width: 100, now: NOW, style})
    expect(lines[0]).toMatch(/^P {3}DLQ ID\s+ORIGIN ID/)
    expect(lines[1]?.startsWith(`12  ${NOW}-0`)).toBe(true)
    expect(lines[2]?.startsWith(`3   ${NOW}-1`)).toBe(true)
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100)
    expect(formatDlqTable([entry(`${NOW}-0`, null)], {width: 100, now: NOW, style})[0]).toMatch(/^DLQ ID/)
  })

  it('names one dead-letter stream, or the partitions of a topic', () => {
    expect(placeOf({dlq: '{orders}:dlq'})).toBe('{orders}:dlq')
    expect(placeOf({dlq: null, topic: 'orders\u001b', partitions: [1, 2]})).toBe('the dead-letter streams of the 2 partitions of orders\\u001b')
  })

  it("replay targets of a partitioned topic: one line per group, naming the partitions", () => {
    const targets = [
      {group: 'billing', key: '{o:p0:s}:replay:billing', entries: 2, partition: 0},
      {group: 'billing', key: '{o:p2:s}:replay:billing', entries: 1, partition: 2},
      {group: 'shipping', key: '{o:p1:s}:replay:shipping', entries: 1, partition: 1},
    ]
    expect(formatReplayTargets({dryRun: true, withoutGroup: 0, targets})).toEqual([
      '3 entries would go to group billing only, through its replay streams of partitions 0 and 2',
      '1 entry would go to group shipping only, through its replay stream of partition 1 ({o:p1:s}:replay:shipping)',
    ])
    const toTopic = [{group: null, key: '{o:p1:s}', entries: 4, partition: 1}]
    expect(formatReplayTargets({dryRun: false, withoutGroup: 0, targets: toTopic})).toEqual([
      '4 entries went back onto the stream of partition 1 ({o:p1:s}), each to the partition it came from, for every group',
    ])
  })
})
