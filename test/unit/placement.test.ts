import {describe, expect, it} from 'vitest'

import {hashTag} from '../../src/core/keys.js'
import {MAX_PARTITIONS, placePartitions, type SlotLayout} from '../../src/core/partitions/placement.js'
import {keySlot, SLOT_COUNT} from '../../src/core/redis/key-slot.js'

/** A cluster whose primaries own contiguous ranges, split at `cuts` (as redis-cli --cluster create does, evenly or not). */
function layout(cuts: number[]): SlotLayout {
  const bounds = [0, ...cuts, SLOT_COUNT]
  return {
    primaries: bounds.slice(1).map((_end, index) => `127.0.0.1:${7000 + index}`),
    ownerOfSlot: (slot) => bounds.findIndex((start, index) => slot >= start && slot < (bounds[index + 1] ?? SLOT_COUNT)),
  }
}

const perPrimary = (streams: readonly string[], cluster: SlotLayout): number[] => {
  const counts = cluster.primaries.map(() => 0)
  for (const stream of streams) counts[cluster.ownerOfSlot(keySlot(stream))]! += 1
  return counts
}

describe('partition placement', () => {
  it('names each partition {TOPIC:pN:SALT}, a hash tag of its own, on a slot of its own', () => {
    const placed = placePartitions('orders', [], 64)
    expect(placed).toHaveLength(64)
    placed.forEach(({stream, slot}, index) => {
      expect(stream).toMatch(new RegExp(`^\\{orders:p${index}:[0-9a-z]+\\}$`))
      expect(hashTag(stream)).toBe(stream.slice(1, -1))
      expect(keySlot(stream)).toBe(slot)
    })
    expect(new Set(placed.map(({slot}) => slot)).size).toBe(64)
  })

  it('is deterministic for a topic and a layout', () => {
    expect(placePartitions('orders', [], 8)).toEqual(placePartitions('orders', [], 8))
    expect(placePartitions('orders', [], 8, layout([5461, 10923]))).toEqual(placePartitions('orders', [], 8, layout([5461, 10923])))
  })

  it('spreads partitions evenly over a cluster\'s primaries, even when the slot ranges are uneven', () => {
    for (const cuts of [[5461, 10923], [1000, 15000], [100, 200, 16000]]) {
      const cluster = layout(cuts)
      for (const count of [1, 2, 3, 8, 9, 16, 100]) {
        const counts = perPrimary(placePartitions(`t${count}`, [], count, cluster).map(({stream}) => stream), cluster)
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
      }
    }
  })

  it('starts different topics on different primaries (8 partitions on 3 primaries: the extra ones are not always on the first)', () => {
    const cluster = layout([5461, 10923])
    const heaviest = new Set<number>()
    for (let topic = 0; topic < 30; topic++) {
      const counts = perPrimary(placePartitions(`topic-${topic}`, [], 8, cluster).map(({stream}) => stream), cluster)
      heaviest.add(counts.indexOf(Math.min(...counts)))
    }
    expect(heaviest.size).toBe(3)
  })

  it('keeps existing partitions and balances the added ones when a topic grows', () => {
    const cluster = layout([5461, 10923])
    const first = placePartitions('orders', [], 4, cluster).map(({stream}) => stream)
    const added = placePartitions('orders', first, 10, cluster).map(({stream}) => stream)
    expect(added).toHaveLength(6)
    added.forEach((stream, index) => expect(stream).toMatch(new RegExp(`^\\{orders:p${index + 4}:`)))
    const counts = perPrimary([...first, ...added], cluster)
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
    expect(new Set([...first, ...added].map((stream) => keySlot(stream))).size).toBe(10)
  })

  it('on a single server spreads the slots so an evenly sliced cluster would spread them too', () => {
    const even = layout([5461, 10923])
    for (const count of [3, 8, 12, 32]) {
      const counts = perPrimary(placePartitions('orders', [], count).map(({stream}) => stream), even)
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(Math.max(1, Math.ceil(count / 6)))
    }
  })

  it('places the most partitions a topic may have', () => {
    const placed = placePartitions('big', [], MAX_PARTITIONS, layout([5461, 10923]))
    expect(new Set(placed.map(({slot}) => slot)).size).toBe(MAX_PARTITIONS)
  })
})

describe('partition placement on a single server, grown', () => {
  it('puts added partitions into the widest gaps', () => {
    const even = layout([5461, 10923])
    const first = placePartitions('orders', [], 3).map(({stream}) => stream)
    const grown = [...first, ...placePartitions('orders', first, 6).map(({stream}) => stream)]
    const counts = perPrimary(grown, even)
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
  })
})
