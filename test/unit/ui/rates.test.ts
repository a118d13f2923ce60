import {describe, expect, it} from 'vitest'

import type {GroupSnapshot, Snapshot, TopicSnapshot} from '../../../src/core/stats/snapshot.js'
import {ackRate, counterRate, progressAfter, rateRows, stallOf, STALL_AFTER_MS, trendOf} from '../../../src/core/stats/rates.js'

const group = (overrides: Partial<GroupSnapshot> = {}): GroupSnapshot => ({
  name: 'billing',
  entriesRead: 1000,
  lag: 0,
  pending: 10,
  parkedPending: 0,
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
  scheduled: 0,
  scheduledDue: 0,
  groups: [group()],
  kind: 'topic',
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
        kind: 'topic',
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
        scheduled: 0,
        scheduledDue: 0,
        trend: 'growing',
        stall: null,
        node: null,
        partitions: 1,
        perPartition: null,
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

describe('stalled', () => {
  it('is work waiting (lag or pending) with no active consumer, or with nothing acknowledged for a while', () => {
    const g = (lag: number | null, pending: number, activeConsumers: number | null, parkedPending: number | null = 0) => ({lag, pending, parkedPending, activeConsumers})
    expect(stallOf(g(66, 10, 0), 0, 1000)).toBe('no-active-consumer')
    expect(stallOf(g(0, 3, 0), 0, 1000)).toBe('no-active-consumer')
    expect(stallOf(g(5, 0, 1), 0, STALL_AFTER_MS)).toBe('no-acks')
    expect(stallOf(g(5, 0, 1), 0, STALL_AFTER_MS - 1)).toBeNull()
    // Nothing waiting: an idle queue without consumers is idle, not stalled.
    expect(stallOf(g(0, 0, 0), 0, 10 * STALL_AFTER_MS)).toBeNull()
    // Consumers not yet known (a group seen for the first time): no alarm without evidence.
    expect(stallOf(g(5, 5, null), 0, 1000)).toBeNull()
    // Retries parked for their backoff wait by design while a worker lives; with none alive, nobody will retry them.
    expect(stallOf(g(0, 2, 1, 2), 0, 10 * STALL_AFTER_MS)).toBeNull()
    expect(stallOf(g(0, 3, 1, 2), 0, 10 * STALL_AFTER_MS)).toBe('no-acks')
    expect(stallOf(g(0, 2, 0, 2), 0, 1000)).toBe('no-active-consumer')
  })

  it('overrides the rate trend in rateRows (the issue\'s "= steady" backlog with CONS 0/2), with its reason', () => {
    const dead = group({lag: 66, pending: 10, consumers: 2, activeConsumers: 0})
    const [stalled] = rateRows(snapshot(0, [topic({groups: [dead]})]), snapshot(1000, [topic({groups: [dead]})]))
    expect(stalled).toMatchObject({trend: 'stalled', stall: 'no-active-consumer', inRate: 0, outRate: 0})
  })

  it('counts "nothing acknowledged" from the last progress the screen saw, carried between refreshes', () => {
    const stuck = group({lag: 5, pending: 1, activeConsumers: 1})
    const at = (ms: number) => snapshot(ms, [topic({groups: [stuck]})])
    let progress = progressAfter(new Map(), rateRows(undefined, at(0)), 0)
    let previous = at(0)
    for (let ms = 1000; ms < STALL_AFTER_MS; ms += 1000) {
      const rows = rateRows(previous, at(ms), progress)
      expect(rows[0]?.trend, `at ${ms}ms`).not.toBe('stalled')
      progress = progressAfter(progress, rows, ms)
      previous = at(ms)
    }
    expect(rateRows(previous, at(STALL_AFTER_MS), progress)[0]).toMatchObject({trend: 'stalled', stall: 'no-acks'})
    // One acknowledgement resets it.
    const acked = snapshot(STALL_AFTER_MS, [topic({groups: [group({...stuck, entriesRead: stuck.entriesRead! + 1, pending: 0})]})])
    expect(rateRows(previous, acked, progress)[0]).toMatchObject({stall: null})
  })
})
