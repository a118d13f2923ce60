import {describe, expect, it} from 'vitest'

import type {GroupSnapshot, Snapshot, TopicSnapshot} from '../../../src/core/stats/snapshot.js'
import {ackRate, counterRate, rateRows, trendOf} from '../../../src/core/stats/rates.js'

const group = (overrides: Partial<GroupSnapshot> = {}): GroupSnapshot => ({
  name: 'billing',
  entriesRead: 1000,
  lag: 0,
  pending: 10,
  oldestPendingId: null,
  oldestPendingIdleMs: null,
  consumers: 2,
  activeConsumers: 2,
  ...overrides,
})

const topic = (overrides: Partial<TopicSnapshot> = {}): TopicSnapshot => ({
  topic: 'orders',
  length: 1000,
  entriesAdded: 1000,
  deadLetters: 0,
  deadLettersAdded: null,
  groups: [group()],
  ...overrides,
})

const snapshot = (at: number, topics: TopicSnapshot[]): Snapshot => ({at, topics, focus: null})

describe('counterRate', () => {
  it.each([
    [100, 300, 2, 100],
    [100, 100, 1, 0],
    [null, 300, 1, null],
    [100, undefined, 1, null],
    [500, 20, 1, null],
    [100, 200, 0, null],
  ])('%s -> %s over %ss is %s per second (a counter that went down was reset: unknown)', (before, after, seconds, rate) => {
    expect(counterRate(before, after, seconds)).toBe(rate)
  })
})

describe('ackRate', () => {
  it('is entries read minus the growth of pending, per second, never negative', () => {
    expect(ackRate(group({entriesRead: 1000, pending: 10}), group({entriesRead: 1200, pending: 30}), 2)).toBe(90)
    expect(ackRate(group({entriesRead: 1000, pending: 50}), group({entriesRead: 1000, pending: 0}), 1)).toBe(50)
    expect(ackRate(group({entriesRead: 1000, pending: 0}), group({entriesRead: 1000, pending: 40}), 1)).toBe(0)
    expect(ackRate(undefined, group(), 1)).toBeNull()
    expect(ackRate(group({entriesRead: null}), group(), 1)).toBeNull()
  })
})

describe('trendOf', () => {
  it.each([
    [100, 20, 500, 'growing'],
    [20, 100, 500, 'draining'],
    [100, 100, 5, 'steady'],
    [0, 0, 0, 'idle'],
    [0, 0, 30, 'steady'],
    [null, null, null, 'idle'],
  ])('in %s, out %s, lag %s: %s', (inRate, outRate, lag, trend) => {
    expect(trendOf(inRate, outRate, lag)).toBe(trend)
  })
})

describe('rateRows', () => {
  it('derives in-rate, out-rate and the trend from two snapshots', () => {
    const before = snapshot(0, [topic({entriesAdded: 1000, deadLettersAdded: 4, groups: [group({entriesRead: 900, pending: 10, lag: 100})]})])
    const oldest = '1500-0'
    const after = snapshot(2000, [
      topic({entriesAdded: 1400, length: 1400, deadLetters: 6, deadLettersAdded: 6, groups: [group({entriesRead: 1000, pending: 10, lag: 400, oldestPendingId: oldest})]}),
    ])
    expect(rateRows(before, after)).toEqual([
      {
        topic: 'orders',
        group: 'billing',
        depth: 1400,
        inRate: 200,
        outRate: 50,
        lag: 400,
        lagGrowing: true,
        pending: 10,
        oldestPendingAgeMs: 500,
        consumers: 2,
        activeConsumers: 2,
        deadLetters: 6,
        deadLetterInRate: 1,
        deadLettersGrowing: true,
        trend: 'growing',
      },
    ])
  })

  it('gives null rates, not spikes, on the first snapshot, after a Redis restart, and for a group created meanwhile', () => {
    expect(rateRows(undefined, snapshot(1000, [topic()]))[0]).toMatchObject({inRate: null, outRate: null})
    const restarted = rateRows(snapshot(0, [topic({entriesAdded: 5000})]), snapshot(1000, [topic({entriesAdded: 10})]))
    expect(restarted[0]).toMatchObject({inRate: null})
    const newGroup = rateRows(snapshot(0, [topic({groups: []})]), snapshot(1000, [topic({entriesAdded: 1010})]))
    expect(newGroup[0]).toMatchObject({group: 'billing', inRate: 10, outRate: null})
  })

  it('marks lag and dead letters as growing only when they went up', () => {
    const steady = rateRows(snapshot(0, [topic({deadLettersAdded: 3})]), snapshot(1000, [topic({deadLettersAdded: 3})]))
    expect(steady[0]).toMatchObject({lagGrowing: false, deadLettersGrowing: false, deadLetterInRate: 0})
    const shrinking = rateRows(snapshot(0, [topic({groups: [group({lag: 50})]})]), snapshot(1000, [topic({groups: [group({lag: 20})]})]))
    expect(shrinking[0]?.lagGrowing).toBe(false)
    // Unknown lag (null) never counts as growing: no alarm without evidence.
    const unknown = rateRows(snapshot(0, [topic({groups: [group({lag: null})]})]), snapshot(1000, [topic({groups: [group({lag: 5})]})]))
    expect(unknown[0]?.lagGrowing).toBe(false)
  })

  it('shows a topic without groups as one row, and drops groups that were deleted', () => {
    const rows = rateRows(snapshot(0, [topic()]), snapshot(1000, [topic({groups: []})]))
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({group: null, outRate: null, pending: 0})
  })
})
