import {describe, expect, it} from 'vitest'

import type {EnvelopeEntry} from '../../src/core/envelope/read-envelope.js'
import {plainTopic, type TopicLayout} from '../../src/core/partitions/metadata.js'
import {partitionOfKey} from '../../src/core/partitions/partition-hash.js'
import {KeptIds} from '../../src/core/publish/kept-ids.js'

const entry = (id: string | undefined, partition?: number | null, key?: string): EnvelopeEntry => ({fields: ['data', 'x'], key, id, partition})

const partitioned = (count: number): TopicLayout => ({
  topic: 'orders',
  streams: Array.from({length: count}, (_, i) => `{orders:p${i}:a}`),
  metadata: {format: 1, partitions: count, streams: [], hash: 'murmur2', createdAt: 0, updatedAt: 0, version: 1},
})

const problemOf = (kept: KeptIds, value: EnvelopeEntry): string => {
  const placed = kept.place(value)
  if (placed.ok) throw new Error('placed')
  return placed.problem
}

describe('KeptIds (publish --envelope --keep-ids)', () => {
  it('a plain topic: everything to its stream, IDs increasing over the whole input', () => {
    const kept = new KeptIds(plainTopic('orders'))
    expect(kept.place(entry('5-0', 2))).toEqual({ok: true, partition: 0, id: '5-0'})
    expect(kept.place(entry('5-1', null))).toEqual({ok: true, partition: 0, id: '5-1'})
    expect(problemOf(kept, entry('5-1'))).toBe('--keep-ids: ID 5-1 is not above 5-1, the ID of an earlier line for "orders": a stream\'s IDs increase (publish without --keep-ids to give the entries new IDs)')
    expect(problemOf(kept, entry('4-9'))).toContain('ID 4-9 is not above 5-1')
    // A refused line does not move the mark.
    expect(kept.place(entry('6-0')).ok).toBe(true)
  })

  it.each([
    [undefined, '--keep-ids: the envelope has no "id"'],
    ['1700000000000', '--keep-ids: "id" "1700000000000" is not an entry ID (<ms>-<seq>, as Redis writes it)'],
    ['0-0', '--keep-ids: the ID 0-0 cannot be stored (Redis stores IDs above 0-0)'],
  ])('id %j is refused', (id, problem) => {
    expect(problemOf(new KeptIds(plainTopic('orders')), entry(id))).toBe(problem)
  })

  it('a partitioned topic: each entry stays in its partition, which must exist and be its key\'s; IDs increase per partition', () => {
    const kept = new KeptIds(partitioned(3))
    const key = 'customer-1'
    const own = partitionOfKey(key, 3)
    const other = (own + 1) % 3
    expect(kept.place(entry('5-0', own, key))).toEqual({ok: true, partition: own, id: '5-0'})
    expect(kept.place(entry('5-0', other))).toEqual({ok: true, partition: other, id: '5-0'})
    expect(kept.place(entry('4-0', other)).ok).toBe(false)
    expect(problemOf(kept, entry('9-0', other, key))).toBe(
      `--keep-ids: the key "customer-1" belongs to partition ${own} of "orders" (3 partitions), not to partition ${other} the envelope comes from: the envelopes must come from a topic with as many partitions`,
    )
    expect(problemOf(kept, entry('9-0', 3))).toBe('--keep-ids: partition 3 does not exist in "orders" (3 partitions): the envelopes must come from a topic with as many partitions')
    for (const partition of [null, undefined]) {
      expect(problemOf(kept, entry('9-0', partition))).toBe(
        '--keep-ids: "orders" is partitioned and the envelope names no partition (it comes from a plain topic): an entry keeps its ID only in its own partition; publish without --keep-ids to route by key',
      )
    }
  })
})
