import {render} from 'ink-testing-library'
import {describe, expect, it} from 'vitest'

import {keysTargetOf, mergeBusiestKeys, streamWaitingKeys, type BusiestKey} from '../../../src/core/stats/busiest-keys.js'
import type {PartitionRow} from '../../../src/core/stats/rates.js'
import type {FocusDetail} from '../../../src/core/stats/snapshot.js'
import {mergeFocusParts, type FocusPart, type FocusRead} from '../../../src/core/stats/snapshot-focus.js'
import {KEY_REPORT_STALE_MS, parseKeyReports} from '../../../src/core/worker/key-report.js'
import {busiestKeysSection, keyColumnWidth} from '../../../src/format/top-model/busiest-keys.js'
import {GroupDetail} from '../../../src/ui/components/GroupDetail.js'
import {row} from './fixtures.js'

// The busiest keys of `top`'s detail view (issue 17), without Redis: which reports count (Redis's
// clock, never the local one), how they merge over workers and partitions, and how they are shown.

// eslint-disable-next-line no-control-regex
const plain = (frame: string | undefined): string => (frame ?? '').replace(/\u001B\[[0-9;]*m/g, '')

/** Redis's clock in these tests: far from the machine's, as a skewed clock would be. */
const REDIS_NOW = 4_000_000_000_123
const timeReply = (ms: number): [null, [string, string]] => [null, [String(Math.floor(ms / 1000)), String((ms % 1000) * 1000)]]
const report = (at: number, keys: Array<[string, number]>): string => JSON.stringify({at, keys: keys.map(([key, waiting]) => ({key, waiting}))})

describe('streamWaitingKeys (one stream\'s reports, judged by the clock of the node that holds them)', () => {
  const hash = {
    'w-1': report(REDIS_NOW - 1000, [['customer-7', 5], ['customer-2', 1]]),
    'w-2': report(REDIS_NOW - KEY_REPORT_STALE_MS, [['customer-7', 2], ['customer-9', 4]]),
    // A worker that stopped: its report is older than KEY_REPORT_STALE_MS by Redis's clock.
    'w-gone': report(REDIS_NOW - KEY_REPORT_STALE_MS - 1, [['customer-old', 100]]),
    'w-bad': 'not json',
    'w-odd': JSON.stringify({at: 'yesterday', keys: [{key: 'x', waiting: 50}]}),
    'w-neg': report(REDIS_NOW, [['customer-2', -3], ['customer-0', 0], ['customer-3', 1]]),
  }

  it('merges the fresh reports over workers, most waiting first; stale and malformed ones, and counts below 1, do not count', () => {
    expect(streamWaitingKeys(timeReply(REDIS_NOW), [null, hash])).toEqual([
      {key: 'customer-7', waiting: 7},
      {key: 'customer-9', waiting: 4},
      {key: 'customer-2', waiting: 1},
      {key: 'customer-3', waiting: 1},
    ])
  })

  it('uses the TIME reply, whatever the local clock says', () => {
    // Seen from a Redis clock 10 s later, every report is stale.
    expect(streamWaitingKeys(timeReply(REDIS_NOW + 10_000), [null, hash])).toEqual([])
    expect(Math.abs(Date.now() - REDIS_NOW)).toBeGreaterThan(KEY_REPORT_STALE_MS)
  })

  it('is the error when either read failed (a role that may not read the reports)', () => {
    const refused = new Error('NOPERM this user has no permissions to access one of the keys used as arguments')
    expect(streamWaitingKeys(timeReply(REDIS_NOW), [refused, null])).toBe(refused)
    expect(streamWaitingKeys([refused, null], [null, hash])).toBe(refused)
    expect(streamWaitingKeys(timeReply(REDIS_NOW), [null, {}])).toEqual([])
  })

  it('parseKeyReports drops a count below 1 (merged, it would hide other workers\' messages)', () => {
    expect(parseKeyReports({a: report(1000, [['k', 3]]), b: report(1000, [['k', -2]])}, 1000)).toEqual([{key: 'k', waiting: 3}])
  })
})

describe('mergeBusiestKeys and the focused group\'s detail', () => {
  const streams = ['{orders:p0:a}', '{orders:p1:b}', '{orders:p2:c}']
  const focus: FocusRead = {topic: 'orders', group: 'g', partitioned: true, streams: streams.map((stream, partition) => ({stream, partition, retryIds: []}))}
  const part = (partition: number | null, waitingKeys: FocusPart['waitingKeys']): FocusPart => ({partition, consumers: [], oldestPending: [], retryInMs: new Map(), waitingKeys})

  it('ranks keys across partitions by how many wait (ties by partition, then key), at most 10', () => {
    const merged = mergeBusiestKeys([
      {partition: 2, keys: [{key: 'b', waiting: 9}, {key: 'a', waiting: 3}]},
      {partition: 0, keys: [{key: 'c', waiting: 3}, {key: 'z', waiting: 3}]},
    ])
    expect(merged).toEqual<BusiestKey[]>([
      {key: 'b', partition: 2, waiting: 9},
      {key: 'c', partition: 0, waiting: 3},
      {key: 'z', partition: 0, waiting: 3},
      {key: 'a', partition: 2, waiting: 3},
    ])
    const many = Array.from({length: 12}, (_, i) => ({key: `k${i}`, waiting: 100 - i}))
    expect(mergeBusiestKeys([{partition: null, keys: many}]).map((key) => key.key)).toEqual(many.slice(0, 10).map((key) => key.key))
  })

  it('a partitioned topic\'s detail has its partitions\' keys; a plain topic\'s, its stream\'s with no partition', () => {
    const detail = mergeFocusParts(focus, [part(0, [{key: 'x', waiting: 2}]), part(1, []), part(2, [{key: 'y', waiting: 5}])])
    expect(detail?.busiestKeys).toEqual([
      {key: 'y', partition: 2, waiting: 5},
      {key: 'x', partition: 0, waiting: 2},
    ])
    const plainFocus: FocusRead = {topic: 't', group: 'g', partitioned: false, streams: [{stream: 't', partition: null, retryIds: []}]}
    expect(mergeFocusParts(plainFocus, [part(null, [{key: 'x', waiting: 2}])])?.busiestKeys).toEqual([{key: 'x', partition: null, waiting: 2}])
  })

  it('top --json reads a group of a topic on the partitions that have it; rows without a group, and dead-letter rows, read nothing', () => {
    const partition = (index: number, groupExists: boolean): PartitionRow =>
      ({partition: index, stream: streams[index] as string, node: null, depth: 0, inRate: 0, groupExists, outRate: null, lag: 0, pending: 0, oldestPendingAgeMs: null, consumers: 0, activeConsumers: 0, deadLetters: 0, deadLetterInRate: 0})
    expect(keysTargetOf(row('orders', {partitions: 3, perPartition: [partition(0, true), partition(1, false), partition(2, true)]}))).toEqual({
      group: 'g',
      streams: [
        {stream: streams[0], partition: 0},
        {stream: streams[2], partition: 2},
      ],
    })
    expect(keysTargetOf(row('plain'))).toEqual({group: 'g', streams: [{stream: 'plain', partition: null}]})
    expect(keysTargetOf(row('plain', {group: null}))).toBeNull()
    expect(keysTargetOf(row('{orders}:dlq', {kind: 'dead-letter-stream'}))).toBeNull()
  })
})

describe('how the busiest keys are shown', () => {
  const keys: BusiestKey[] = [
    {key: 'customer-7', partition: 2, waiting: 1250},
    {key: 'customer-19', partition: 0, waiting: 7},
    {key: 'cust\u001b[31mred', partition: 1, waiting: 3},
  ]

  it('a KEY column as wide as the longest key shown, PART for a partitioned topic, WAITING; key names escaped', () => {
    const lines = busiestKeysSection(keys, 10, true, 100)
    expect(lines).toEqual([
      'BUSIEST KEYS      PART   WAITING',
      'customer-7           2     1,250',
      'customer-19          0         7',
      'cust\\u001b[31mred    1         3',
    ])
    expect(lines.join('\n')).not.toContain('\u001b')
    expect(busiestKeysSection([{key: 'k', partition: null, waiting: 2}], 10, false, 100)).toEqual(['BUSIEST KEYS   WAITING', 'k                    2'])
  })

  it('cuts long keys before WAITING leaves the screen, and says how many more when they do not all fit; nothing at all without keys', () => {
    const long = [{key: 'x'.repeat(200), partition: 0, waiting: 4}]
    const width = 60
    expect(keyColumnWidth(long, true, width)).toBe(width - 1 - 9 - 5)
    const [, line] = busiestKeysSection(long, 10, true, width)
    expect(line).toHaveLength(width)
    expect(line).toMatch(/x… +0 +4$/)
    // The columns are those of every key, shown or not: they do not move as keys come and go from view.
    expect(busiestKeysSection(keys, 2, true, 100)).toEqual(['BUSIEST KEYS      PART   WAITING', 'customer-7           2     1,250', '… 2 more keys (qctl top --json lists them)'])
    expect(busiestKeysSection([], 10, true, 100)).toEqual([])
  })

  it('GroupDetail shows them after the pending entries, before the per-partition table; no section when no key waits', () => {
    const perPartition = [0, 1, 2].map(
      (partition): PartitionRow => ({partition, stream: `{orders:p${partition}:a}`, node: null, depth: 10, inRate: 0, groupExists: true, outRate: 0, lag: 0, pending: 0, oldestPendingAgeMs: null, consumers: 1, activeConsumers: 1, deadLetters: 0, deadLetterInRate: 0}),
    )
    const orders = row('orders', {group: 'billing', partitions: 3, perPartition})
    const detail: FocusDetail = {topic: 'orders', group: 'billing', partitions: 3, consumers: [], oldestPending: [], retryInMs: new Map(), busiestKeys: keys}
    const frame = plain(render(<GroupDetail row={orders} detail={detail} height={40} width={100} now={0} />).lastFrame())
    const lines = frame.split('\n')
    const at = (pattern: RegExp): number => lines.findIndex((line) => pattern.test(line))
    expect(at(/^BUSIEST KEYS +PART +WAITING$/)).toBeGreaterThan(at(/^OLDEST PENDING/))
    expect(at(/^PARTITION +DEPTH/)).toBeGreaterThan(at(/^BUSIEST KEYS/))
    expect(frame).toMatch(/^customer-7 +2 +1,250$/m)
    expect(frame).toContain('cust\\u001b[31mred')
    const none = plain(render(<GroupDetail row={orders} detail={{...detail, busiestKeys: []}} height={40} width={100} now={0} />).lastFrame())
    expect(none).not.toContain('BUSIEST KEYS')
  })
})
