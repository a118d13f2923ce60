import {describe, expect, it} from 'vitest'

import {KeyedQueue} from '../../src/core/worker/start-queue.js'
import type {Lane} from '../../src/core/worker/session.js'
import type {Tracked} from '../../src/core/worker/tracked.js'

/** KeyedQueue (--ordered): one entry per key at a time, a key's waiting entries bounded in memory, the rest spilled by ID. */

const lane = (partition: number | null): Lane => ({partition}) as unknown as Lane
const laneP0 = lane(0)
const laneP1 = lane(1)
let seq = 0
const entry = (key: string | undefined, on: Lane = laneP0): Tracked => ({id: `${++seq}-0`, key, lane: on}) as unknown as Tracked

/** Start and finish entries one at a time as they become ready: the order they ran in. */
function drain(queue: KeyedQueue): string[] {
  const ran: string[] = []
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    ran.push(next.id)
    queue.done(next)
  }
  return ran
}

describe('KeyedQueue', () => {
  it('starts one entry per key, in arrival order per key, others meanwhile', () => {
    const queue = new KeyedQueue()
    const [a1, b1, a2, none, a3] = [entry('a'), entry('b'), entry('a'), entry(undefined), entry('a')]
    for (const tracked of [a1, b1, a2, none, a3]) expect(queue.push(tracked!)).toBe('queued')
    expect(queue.length).toBe(5)
    expect(queue.shift()).toBe(a1)
    expect(queue.shift()).toBe(b1)
    expect(queue.shift()).toBe(none)
    // a2 waits for a1.
    expect(queue.shift()).toBeUndefined()
    queue.done(a1!)
    expect(queue.shift()).toBe(a2)
    queue.done(a2!)
    expect(queue.shift()).toBe(a3)
  })

  it('keeps at most perKey of a key waiting in memory and spills the rest by ID, other keys unaffected', () => {
    const queue = new KeyedQueue(2, 100)
    const hot = Array.from({length: 6}, () => entry('hot'))
    // One ready (the key's first) and two waiting in memory; the other three spilled.
    expect(hot.map((tracked) => queue.push(tracked))).toEqual(['queued', 'queued', 'queued', 'spilled', 'spilled', 'spilled'])
    expect(queue.push(entry('cold'))).toBe('queued')
    expect(queue.spilled).toBe(3)
    expect(queue.spillRoom).toBe(97)
    expect(queue.length).toBe(4)
    expect(queue.busiestKeys(5)).toEqual([{key: 'hot', waiting: 5, partition: 0}])
    expect(queue.spilledEntries()).toEqual(hot.slice(3))
  })

  it('reads spilled entries back in order, never more than perKey waiting in memory; a key\'s new entries go behind its spilled ones', () => {
    const perKey = 3
    const queue = new KeyedQueue(perKey, 100)
    const hot = Array.from({length: 20}, () => entry('hot'))
    for (const tracked of hot.slice(0, 12)) queue.push(tracked)
    expect(queue.spilled).toBe(8)
    // Run as the dispatcher does: one at a time, refilling (synchronously here) whenever the key wants it,
    // and publishing more of the key as it goes.
    const ran: Tracked[] = []
    let published = 12
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      ran.push(next)
      queue.done(next)
      if (published < hot.length) expect(queue.push(hot[published++]!)).toBe('spilled')
      for (const key of queue.refillWanted()) {
        const batch = queue.refillBatch(key, 10)
        // One batch of a key at a time.
        expect(queue.refillBatch(key, 10)).toEqual([])
        for (const tracked of batch) expect(queue.restore(tracked)).toBe(true)
      }
      // In memory: the key's ready entry and at most perKey waiting behind it.
      expect(queue.length).toBeLessThanOrEqual(perKey + 1)
    }
    expect(ran).toEqual(hot)
    expect([queue.length, queue.spilled]).toEqual([0, 0])
  })

  it('a spilled entry found deleted leaves the spill without joining memory; a failed read-back is wanted again', () => {
    const queue = new KeyedQueue(1, 100)
    const hot = Array.from({length: 4}, () => entry('hot'))
    for (const tracked of hot) queue.push(tracked)
    // One waiting in memory: no room to read any back yet.
    expect(queue.refillWanted()).toEqual([])
    expect(queue.refillBatch('hot', 2)).toEqual([])
    queue.done(queue.shift()!)
    expect(queue.refillWanted()).toEqual(['hot'])
    const batch = queue.refillBatch('hot', 2)
    expect(batch).toEqual([hot[2]])
    queue.refillFailed(batch)
    expect(queue.refillWanted()).toEqual(['hot'])
    const again = queue.refillBatch('hot', 2)
    expect(again).toEqual([hot[2]])
    expect(queue.restore(hot[2]!, false)).toBe(true)
    expect(queue.spilled).toBe(1)
    expect(queue.refillBatch('hot', 2)).toEqual([hot[3]])
    expect(queue.restore(hot[3]!)).toBe(true)
    expect(drain(queue)).toEqual([hot[1]!.id, hot[3]!.id])
  })

  it('remove and clear take spilled entries too; a removed one is not restored', () => {
    const queue = new KeyedQueue(1, 100)
    const onP0 = Array.from({length: 3}, () => entry('k', laneP0))
    const onP1 = Array.from({length: 3}, () => entry('j', laneP1))
    for (const tracked of [...onP0, ...onP1]) queue.push(tracked)
    const first = queue.shift()!
    expect(first).toBe(onP0[0])
    queue.done(first)
    const batch = queue.refillBatch('k', 1)
    expect(batch).toEqual([onP0[2]])
    const removed = queue.remove((tracked) => tracked.lane === laneP0)
    expect(new Set(removed)).toEqual(new Set(onP0.slice(1)))
    expect(queue.restore(batch[0]!)).toBe(false)
    expect(queue.busiestKeys(5)).toEqual([{key: 'j', waiting: 2, partition: 1}])
    expect(new Set(queue.clear())).toEqual(new Set(onP1))
    expect([queue.length, queue.spilled]).toEqual([0, 0])
  })

  it('spills no more than spillLimit for keys not spilled yet: past it, entries wait in memory', () => {
    const queue = new KeyedQueue(1, 2)
    const a = Array.from({length: 4}, () => entry('a'))
    expect(a.map((tracked) => queue.push(tracked))).toEqual(['queued', 'queued', 'spilled', 'spilled'])
    expect(queue.spillRoom).toBe(0)
    const b = Array.from({length: 3}, () => entry('b'))
    expect(b.map((tracked) => queue.push(tracked))).toEqual(['queued', 'queued', 'queued'])
    // Key a has spilled entries: its next one is spilled too, past the limit, or it would overtake them.
    expect(queue.push(entry('a'))).toBe('spilled')
  })
})
