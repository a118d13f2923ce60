import {Chalk} from 'chalk'
import {render} from 'ink-testing-library'
import {describe, expect, it} from 'vitest'

import type {TopicLayout, TopicMetadata} from '../../../src/core/partitions/metadata.js'
import {rateRows, type PartitionRow} from '../../../src/core/stats/rates.js'
import type {GroupSnapshot, PartitionSnapshot, TopicSnapshot} from '../../../src/core/stats/snapshot.js'
import {mergeFocusParts, type FocusPart, type FocusRead} from '../../../src/core/stats/snapshot-focus.js'
import {withPartitionedTopics} from '../../../src/core/stats/snapshot-partitioned.js'
import {METADATA_REREAD_EVERY, PartitionedTopics} from '../../../src/core/stats/snapshot-partitions.js'
import {formatTopSnapshot} from '../../../src/format/top.js'
import {cellText} from '../../../src/format/top-model/cells.js'
import {detailTitle, partitionLines} from '../../../src/format/top-model/detail.js'
import {tableLayout} from '../../../src/format/top-model/layout.js'
import {GroupDetail} from '../../../src/ui/components/GroupDetail.js'
import {groupSnapshot, row, snapshotAt, topicSnapshot} from './fixtures.js'

// `top` over partitioned topics, without Redis: the merge of the partitions' readings, rates summed
// over partitions, the focused group's detail over partitions, which metadata a refresh reads, and
// how it is shown.

// eslint-disable-next-line no-control-regex
const plain = (frame: string | undefined): string => (frame ?? '').replace(/\u001B\[[0-9;]*m/g, '')

const STREAMS = ['{orders:p0:a}', '{orders:p1:b}', '{orders:p2:c}']

const metadata = (streams: readonly string[], version = 1): TopicMetadata => ({format: 1, partitions: streams.length, streams: [...streams], hash: 'murmur2', createdAt: 1, updatedAt: 1, version})
const layout = (streams: readonly string[] = STREAMS, topic = 'orders'): TopicLayout => ({topic, streams, metadata: metadata(streams)})
const fields = (streams: readonly string[], version = 1): Record<string, string> => ({
  format: '1',
  partitions: String(streams.length),
  streams: JSON.stringify(streams),
  hash: 'murmur2',
  createdAt: '1',
  updatedAt: '1',
  version: String(version),
})

/** A partition stream as readSnapshot returns it: a row named by its stream. */
const stream = (name: string, overrides: Partial<TopicSnapshot> = {}): TopicSnapshot => topicSnapshot(name, {groups: [], ...overrides})

/** The merged topic of one reading. */
const merged = (streams: TopicSnapshot[], topicLayout = layout()): TopicSnapshot => {
  const {topics} = withPartitionedTopics(streams, [topicLayout])
  return topics.find((topic) => topic.topic === topicLayout.topic) as TopicSnapshot
}

describe('withPartitionedTopics (a reading with its partitioned topics merged)', () => {
  it('merges the partitions by lag\'s rules: sums, the oldest pending, the most consumers; a missing group counts the partition as lag, with one warning', () => {
    const g0 = groupSnapshot('g', {entriesRead: 10, lag: 1, pending: 2, parkedPending: 1, consumers: 1, activeConsumers: 1, oldestPendingId: '200-0', oldestPendingIdleMs: 50})
    const g1 = groupSnapshot('g', {entriesRead: 5, lag: 3, pending: 0, parkedPending: 0, consumers: 2, activeConsumers: 2})
    const read = [
      stream('plain.t', {groups: [groupSnapshot('x')]}),
      stream(STREAMS[0]!, {length: 13, entriesAdded: 13, deadLetters: 1, deadLettersAdded: 1, groups: [g0]}),
      stream(STREAMS[1]!, {length: 8, entriesAdded: 8, groups: [g1]}),
      stream(STREAMS[2]!, {length: 4, entriesAdded: 4, groups: [groupSnapshot('h')]}),
    ]
    const {topics, warnings} = withPartitionedTopics(read, [layout()])
    expect(topics.map((topic) => topic.topic)).toEqual(['plain.t', 'orders'])
    const orders = topics[1]!
    expect(orders).toMatchObject({length: 25, entriesAdded: 25, deadLetters: 1, deadLettersAdded: null, kind: 'topic'})
    expect(orders.partitions!.map((partition) => [partition.partition, partition.stream, partition.length])).toEqual([
      [0, STREAMS[0], 13],
      [1, STREAMS[1], 8],
      [2, STREAMS[2], 4],
    ])
    expect(orders.groups.map((group) => group.name)).toEqual(['g', 'h'])
    expect(orders.groups[0]).toEqual({
      name: 'g',
      entriesRead: 15,
      lag: 1 + 3 + 4,
      pending: 2,
      parkedPending: 1,
      oldestPendingId: '200-0',
      oldestPendingIdleMs: 50,
      consumers: 2,
      activeConsumers: 2,
    })
    // One warning per group missing on partitions that hold entries, keyed so a growing count is said once.
    expect(warnings).toEqual([
      {key: 'orders\u0000g', text: expect.stringContaining('group "g" does not exist on 1 of the 3 partitions of "orders" (2): their 4 entries')},
      {key: 'orders\u0000h', text: expect.stringContaining('group "h" does not exist on 2 of the 3 partitions of "orders" (0, 1): their 21 entries')},
    ])
  })

  it('is there before any of its streams exists; a partition not read is empty, nothing added yet', () => {
    const orders = merged([])
    expect(orders).toMatchObject({topic: 'orders', length: 0, entriesAdded: 0, groups: []})
    expect(orders.partitions!.every((partition) => partition.entriesAdded === 0 && partition.node === null)).toBe(true)
  })

  it('on a cluster, names each partition\'s primary, read or not', () => {
    const nodes = new Map(STREAMS.map((name, index) => [name, `10.0.0.${index}:7000`]))
    const {topics} = withPartitionedTopics([stream(STREAMS[0]!, {node: '10.0.0.0:7000'})], [layout()], nodes)
    expect(topics[0]!.partitions!.map((partition) => partition.node)).toEqual(['10.0.0.0:7000', '10.0.0.1:7000', '10.0.0.2:7000'])
    expect(topics[0]!.node).toBeUndefined()
  })
})

describe('rateRows over a partitioned topic', () => {
  const partition = (index: number, overrides: Partial<PartitionSnapshot> = {}): PartitionSnapshot => ({
    partition: index,
    stream: STREAMS[index]!,
    node: null,
    length: 0,
    entriesAdded: 0,
    deadLetters: 0,
scheduled: 0,
scheduledDue: 0,
    deadLettersAdded: null,
    groups: [],
    ...overrides,
  })
  const group = (overrides: Partial<GroupSnapshot>): GroupSnapshot => groupSnapshot('g', overrides)
  const topicOf = (partitions: PartitionSnapshot[]): TopicSnapshot =>
    merged(
      partitions.map((p) => stream(p.stream, {length: p.length, entriesAdded: p.entriesAdded, deadLetters: p.deadLetters, deadLettersAdded: p.deadLettersAdded, groups: p.groups})),
      layout(partitions.map((p) => p.stream)),
    )

  it('sums the partitions\' rates, and gives each partition\'s figures for the row\'s group', () => {
    const before = topicOf([
      partition(0, {length: 100, entriesAdded: 100, groups: [group({entriesRead: 90, pending: 5, lag: 5})]}),
      partition(1, {length: 50, entriesAdded: 50, groups: [group({entriesRead: 50, pending: 0, lag: 0})]}),
      partition(2, {length: 10, entriesAdded: 10}),
    ])
    const after = topicOf([
      partition(0, {length: 300, entriesAdded: 300, groups: [group({entriesRead: 190, pending: 5, lag: 105, oldestPendingId: '1500-0'})]}),
      partition(1, {length: 150, entriesAdded: 150, groups: [group({entriesRead: 150, pending: 20, lag: 0})]}),
      partition(2, {length: 30, entriesAdded: 30}),
    ])
    const [orders] = rateRows(snapshotAt(0, [before]), snapshotAt(2000, [after]))
    expect(orders).toMatchObject({topic: 'orders', group: 'g', partitions: 3, node: null, depth: 480, inRate: 160, outRate: 50 + 40, lag: 105 + 0 + 30, pending: 25, lagGrowing: true})
    expect(orders!.perPartition).toEqual<PartitionRow[]>([
      {partition: 0, stream: STREAMS[0]!, node: null, depth: 300, inRate: 100, groupExists: true, outRate: 50, lag: 105, pending: 5, oldestPendingAgeMs: 500, consumers: 1, activeConsumers: 1, deadLetters: 0, deadLetterInRate: 0},
      {partition: 1, stream: STREAMS[1]!, node: null, depth: 150, inRate: 50, groupExists: true, outRate: 40, lag: 0, pending: 20, oldestPendingAgeMs: null, consumers: 1, activeConsumers: 1, deadLetters: 0, deadLetterInRate: 0},
      // No group here: its entries count as the group's lag, and nothing is acknowledged.
      {partition: 2, stream: STREAMS[2]!, node: null, depth: 30, inRate: 10, groupExists: false, outRate: null, lag: 30, pending: 0, oldestPendingAgeMs: null, consumers: 0, activeConsumers: 0, deadLetters: 0, deadLetterInRate: 0},
    ])
  })

  it('gives null (not a spike) for a partition added meanwhile and one whose counter went down, and for the topic', () => {
    const before = topicOf([partition(0, {entriesAdded: 100, length: 100}), partition(1, {entriesAdded: 500, length: 500})])
    const after = topicOf([partition(0, {entriesAdded: 200, length: 200}), partition(1, {entriesAdded: 10, length: 10}), partition(2, {entriesAdded: 40, length: 40})])
    const [orders] = rateRows(snapshotAt(0, [before]), snapshotAt(1000, [after]))
    expect(orders).toMatchObject({group: null, inRate: null, outRate: null, partitions: 3})
    expect(orders!.perPartition!.map((p) => p.inRate)).toEqual([100, null, null])
  })

  it('knows an idle partition\'s out-rate although Redis has no entries-read counter for a group that never read there', () => {
    const idle = group({entriesRead: null, lag: 0, pending: 0})
    const before = topicOf([partition(0, {entriesAdded: 10, length: 10, groups: [group({entriesRead: 10, pending: 0, lag: 0})]}), partition(1, {groups: [idle]})])
    const after = topicOf([partition(0, {entriesAdded: 20, length: 20, groups: [group({entriesRead: 20, pending: 0, lag: 0})]}), partition(1, {groups: [idle]})])
    const [orders] = rateRows(snapshotAt(0, [before]), snapshotAt(1000, [after]))
    expect(orders!.perPartition!.map((p) => p.outRate)).toEqual([10, 0])
    expect(orders!.outRate).toBe(10)
    // With a backlog there, what it read is unknown: so is the topic's out-rate.
    const behind = group({entriesRead: null, lag: 3, pending: 0})
    const [unknown] = rateRows(snapshotAt(0, [topicOf([partition(0), partition(1, {entriesAdded: 3, length: 3, groups: [behind]})])]), snapshotAt(1000, [topicOf([partition(0), partition(1, {entriesAdded: 3, length: 3, groups: [behind]})])]))
    expect(unknown!.outRate).toBeNull()
  })
})

describe('mergeFocusParts (the focused group over its partitions)', () => {
  const focus: FocusRead = {topic: 'orders', group: 'g', partitioned: true, streams: STREAMS.map((name, partition) => ({stream: name, partition, retryIds: []}))}
  const entry = (id: string, partition: number, consumer = 'w1') => ({id, consumer, idleMs: 10, deliveries: 1, publishedAt: null, partition})

  it('merges consumers by name, lists the oldest pending entries across partitions with their partition, and keys retry marks by partition', () => {
    const parts: FocusPart[] = [
      {partition: 0, consumers: [{name: 'w1', pending: 2, idleMs: 500, inactiveMs: 9000}, {name: 'w2', pending: 1, idleMs: 50, inactiveMs: null}], oldestPending: [entry('300-0', 0), entry('500-0', 0)], retryInMs: new Map([['300-0', 4000]]), waitingKeys: []},
      {partition: 2, consumers: [{name: 'w1', pending: 3, idleMs: 100, inactiveMs: 20_000}], oldestPending: [entry('100-0', 2), entry('300-0', 2)], retryInMs: new Map(), waitingKeys: []},
    ]
    const detail = mergeFocusParts(focus, parts)!
    expect(detail.partitions).toBe(3)
    expect(detail.consumers).toEqual([
      {name: 'w1', pending: 5, idleMs: 100, inactiveMs: 9000},
      {name: 'w2', pending: 1, idleMs: 50, inactiveMs: null},
    ])
    expect(detail.oldestPending.map((pending) => [pending.id, pending.partition])).toEqual([
      ['100-0', 2],
      ['300-0', 0],
      ['300-0', 2],
      ['500-0', 0],
    ])
    // The same ID in two partitions: only partition 0's waits out a backoff.
    expect([...detail.retryInMs]).toEqual([['0/300-0', 4000]])
  })

  it('keeps the 10 oldest; is null when no partition has the group; a plain topic\'s is its one part', () => {
    const many: FocusPart[] = [0, 1].map((partition) => ({partition, consumers: [], oldestPending: Array.from({length: 10}, (_, i) => entry(`${i * 2 + partition}-0`, partition)), retryInMs: new Map(), waitingKeys: []}))
    expect(mergeFocusParts(focus, many)!.oldestPending.map((pending) => pending.id)).toEqual(Array.from({length: 10}, (_, i) => `${i}-0`))
    expect(mergeFocusParts(focus, [])).toBeNull()
    const plainPart: FocusPart = {partition: null, consumers: [], oldestPending: [{id: '1-0', consumer: 'w', idleMs: 1, deliveries: 1, publishedAt: null}], retryInMs: new Map([['1-0', 5]]), waitingKeys: []}
    const plainDetail = mergeFocusParts({topic: 't', group: 'g', partitioned: false, streams: [{stream: 't', partition: null, retryIds: []}]}, [plainPart])
    expect(plainDetail).toEqual({topic: 't', group: 'g', consumers: [], oldestPending: plainPart.oldestPending, retryInMs: plainPart.retryInMs, busiestKeys: []})
  })
})

describe('PartitionedTopics (which metadata a refresh reads, which keys are never rows)', () => {
  it('keeps partition streams and their dead-letter streams out of the rows', () => {
    const topics = new PartitionedTopics([layout(), {topic: 'plain', streams: ['plain'], metadata: undefined}])
    expect(topics.list().map((known) => known.topic)).toEqual(['orders'])
    expect(topics.excludes(STREAMS[1]!)).toBe(true)
    expect(topics.excludes('{orders:p1:b}:dlq')).toBe(true)
    expect(topics.excludes('plain')).toBe(false)
    expect(topics.excludes('{plain}:dlq')).toBe(false)
    expect(topics.toRead()).toEqual([])
  })

  it('holds back a stream named like a partition until its topic\'s metadata is read: a partition then, or a plain stream', () => {
    const topics = new PartitionedTopics([])
    expect(topics.excludes('{late:p0:x}')).toBe(true)
    expect(topics.excludes('{other:p3:y}:dlq')).toBe(true)
    expect(topics.toRead().sort()).toEqual(['late', 'other'])
    const version = topics.version
    expect(topics.absorb(new Map([['late', {state: 'hash' as const, fields: fields(['{late:p0:x}', '{late:p1:z}'])}], ['other', {state: 'none' as const}]]))).toEqual([])
    expect(topics.version).toBeGreaterThan(version)
    expect(topics.has('late')).toBe(true)
    expect(topics.excludes('{late:p0:x}')).toBe(true)
    // Its metadata lists no such stream: a plain stream after all, shown as a row.
    expect(topics.excludes('{other:p3:y}')).toBe(false)
    expect(topics.toRead()).toEqual([])
  })

  it('reads the metadata of topics its SCAN step finds, and of every known (or named) one every few refreshes', () => {
    const topics = new PartitionedTopics([layout()], ['orders', 'named.t', 'braced{t}'])
    topics.absorbScan(['qctl:topic:{orders}', 'qctl:topic:{new.t}'])
    expect(topics.toRead()).toEqual(['new.t'])
    // Not answered yet (a failed refresh): asked again.
    expect(topics.toRead()).toEqual(['new.t'])
    topics.absorb(new Map([['new.t', {state: 'none' as const}]]))
    const reads: string[][] = []
    for (let refresh = 3; refresh <= METADATA_REREAD_EVERY; refresh++) reads.push(topics.toRead())
    expect(reads.slice(0, -1).every((read) => read.length === 0)).toBe(true)
    expect(reads.at(-1)!.sort()).toEqual(['named.t', 'orders'])
  })

  it('follows a topic alter and a topic delete, and warns of a metadata key qctl cannot read (the topic stays as it was)', () => {
    const topics = new PartitionedTopics([layout()])
    topics.absorb(new Map([['orders', {state: 'hash' as const, fields: fields([...STREAMS, '{orders:p3:d}'], 2)}]]))
    expect(topics.get('orders')?.streams).toHaveLength(4)
    expect(topics.excludes('{orders:p3:d}')).toBe(true)
    expect(topics.absorb(new Map([['orders', {state: 'hash' as const, fields: {format: '1'}}]]))).toEqual([expect.stringContaining('the metadata of topic "orders" (qctl:topic:{orders})')])
    expect(topics.get('orders')?.streams).toHaveLength(4)
    expect(topics.absorb(new Map([['orders', {state: 'not-a-hash' as const}]]))).toEqual(['the metadata key of topic "orders" (qctl:topic:{orders}) is not a hash: not read as a partitioned topic'])
    topics.absorb(new Map([['orders', {state: 'none' as const}]]))
    expect(topics.has('orders')).toBe(false)
    expect(topics.list()).toEqual([])
  })
})

describe('how a partitioned topic is shown', () => {
  const perPartition = (count: number, node: string | null = null): PartitionRow[] =>
    Array.from({length: count}, (_, partition) => ({
      partition,
      stream: `{orders:p${partition}:a}`,
      node,
      depth: 100 * partition,
      inRate: 2.5,
      groupExists: partition !== 2,
      outRate: partition === 2 ? null : 1,
      lag: 10 * partition,
      pending: partition === 2 ? 0 : 3,
      oldestPendingAgeMs: null,
      consumers: 1,
      activeConsumers: 1,
      deadLetters: 0,
      deadLetterInRate: 0,
    }))
  const orders = row('orders', {group: 'billing', partitions: 3, perPartition: perPartition(3), lag: 30, pending: 6})

  it('has a PARTS column only while a partitioned topic is shown, dropped on a narrow terminal before the figures', () => {
    expect(cellText(orders, 'parts')).toBe('3')
    expect(cellText(row('plain'), 'parts')).toBe('-')
    expect(tableLayout(200, 20, true).columns).toContain('parts')
    expect(tableLayout(200, 20, false).columns).not.toContain('parts')
    expect(tableLayout(80, 20, true).columns).not.toContain('parts')
    expect(tableLayout(80, 20, true).columns).toContain('lag')
    const text = formatTopSnapshot([orders, row('plain')], 1000, new Chalk({level: 0}))
    expect(text).toMatch(/^TOPIC\/GROUP +PARTS +TREND /m)
    expect(text).toMatch(/^orders\/billing +3 /m)
    expect(text).toMatch(/^plain\/g +- /m)
    expect(formatTopSnapshot([row('plain')], 1000, new Chalk({level: 0}))).toMatch(/^TOPIC\/GROUP +TREND /m)
  })

  it('titles the detail with the partition count, and cuts the per-partition table to fit, saying how many more', () => {
    expect(detailTitle(orders)).toBe('orders/billing  (3 partitions)')
    expect(detailTitle(row('plain', {node: '10.0.0.1:7000'}))).toBe('plain/g  (cluster node 10.0.0.1:7000)')
    const lines = partitionLines(perPartition(8), 4, false)
    expect(lines).toHaveLength(4)
    expect(lines[0]).toMatch(/^0 +0 +0 +3 +2\.5 +1\.0$/)
    expect(lines[2]).toMatch(/^2 +200 +20 +- +2\.5 +- +no group$/)
    expect(lines[3]).toBe('… 5 more partitions (qctl lag --partitions lists them all)')
    expect(partitionLines(perPartition(2, '10.0.0.1:7000'), 4, true)[1]).toMatch(/^1 +10\.0\.0\.1:7000 +100 +10 +3 /)
  })

  it('shows the group over its partitions: pending entries with their partition, retry marks by partition, then a line per partition', () => {
    const detail = {
      topic: 'orders',
      group: 'billing',
      partitions: 3,
      consumers: [{name: 'w1', pending: 6, idleMs: 1500, inactiveMs: null}],
      oldestPending: [
        {id: '1700000000000-0', consumer: 'w1', idleMs: 31_000, deliveries: 7, publishedAt: null, partition: 1},
        {id: '1700000000000-0', consumer: 'w1', idleMs: 2000, deliveries: 2, publishedAt: null, partition: 0},
      ],
      retryInMs: new Map([['0/1700000000000-0', 125_000]]),
      busiestKeys: [],
    }
    const frame = plain(render(<GroupDetail row={orders} detail={detail} height={30} width={100} now={1_700_000_090_000} />).lastFrame())
    expect(frame).toContain('orders/billing  (3 partitions)')
    expect(frame).toMatch(/^OLDEST PENDING +PART +CONSUMER +DELIVERIES +IDLE +AGE$/m)
    expect(frame).toMatch(/^1700000000000-0 +1 +w1 +7 +31s +1m30s$/m)
    expect(frame).toMatch(/^1700000000000-0 +0 +w1 +2 +2s +1m30s +retry in 2m05s$/m)
    expect(frame).toMatch(/^PARTITION +DEPTH +LAG +PENDING +IN\/s +OUT\/s$/m)
    expect(frame).toMatch(/^2 +200 +20 +- +2\.5 +- +no group$/m)
    // Before the detail arrives, the per-partition figures (from the refresh itself) already show.
    const reading = plain(render(<GroupDetail row={orders} detail={null} height={30} width={100} now={0} />).lastFrame())
    expect(reading).toContain('reading consumers and pending entries…')
    expect(reading).toMatch(/^1 +100 +10 +3 /m)
  })
})
