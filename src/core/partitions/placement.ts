/**
 * Where the partitions of a topic live: each partition's stream is named with a hash tag of its own
 * (keys.ts, partitionStreamKey), and the tag's salt is chosen so the partitions' slots spread out.
 *
 * - On a Redis Cluster, each new partition goes to the primary that holds the fewest of the topic's
 *   partitions (ties broken in an order rotated by the topic's own slot, so the first partitions of
 *   different topics do not all land on one node), on a slot of its own.
 * - On a single server, a new topic's slots are spaced evenly over the slot space (rotated the same
 *   way), so that the partitions would spread over an evenly sliced cluster too; partitions added
 *   later go to the middle of the widest gap left between the topic's slots.
 *
 * Salts are tried in order (`0`, `1`, … in base 36), so the choice is deterministic for a layout.
 */

import {partitionStreamKey} from '../keys.js'
import {keySlot, SLOT_COUNT} from '../redis/key-slot.js'

/** The most partitions a topic may have (a worker reads them all in one call on a single server). */
export const MAX_PARTITIONS = 1024

/** The cluster's primaries and the slots each owns; undefined on a single server. */
export interface SlotLayout {
  /** Primary addresses, in a stable order. */
  primaries: readonly string[]
  /** The primary owning each slot (an index into `primaries`), or -1 for a slot no primary serves. */
  ownerOfSlot: (slot: number) => number
}

/** Salts tried per partition before settling for any unused slot (never reached in practice). */
const MAX_TRIES = 1_000_000

/** A partition's stream name, and its slot. */
export interface PlacedPartition {
  stream: string
  slot: number
}

/**
 * Name partitions `from` … `to - 1` of `topic`, given the streams it has (`existing`, partitions
 * 0 … from-1), so that every partition has its own slot and the slots spread (see above).
 */
export function placePartitions(topic: string, existing: readonly string[], to: number, layout?: SlotLayout): PlacedPartition[] {
  const rotation = keySlot(topic)
  const usedSlots = new Set(existing.map((stream) => keySlot(stream)))
  const perPrimary = layout === undefined ? [] : layout.primaries.map(() => 0)
  if (layout !== undefined) {
    for (const stream of existing) {
      const owner = layout.ownerOfSlot(keySlot(stream))
      if (owner >= 0) perPrimary[owner] = (perPrimary[owner] ?? 0) + 1
    }
  }
  const placed: PlacedPartition[] = []
  for (let index = existing.length; index < to; index++) {
    const accepts = layout === undefined ? near(targetSlot(rotation, index, to, existing.length, usedSlots), to) : onPrimary(layout, leastLoaded(perPrimary, rotation, index))
    const partition = findSalt(topic, index, (slot) => !usedSlots.has(slot) && accepts(slot)) ?? findSalt(topic, index, (slot) => !usedSlots.has(slot))
    if (partition === undefined) throw new Error(`no free hash slot for partition ${index} of ${topic}`)
    usedSlots.add(partition.slot)
    placed.push(partition)
    if (layout !== undefined) {
      const owner = layout.ownerOfSlot(partition.slot)
      if (owner >= 0) perPrimary[owner] = (perPrimary[owner] ?? 0) + 1
    }
  }
  return placed
}

/** The first salt (0, 1, … in base 36) whose stream name's slot `accepts`. */
function findSalt(topic: string, index: number, accepts: (slot: number) => boolean): PlacedPartition | undefined {
  for (let n = 0; n < MAX_TRIES; n++) {
    const stream = partitionStreamKey(topic, index, n.toString(36))
    const slot = keySlot(stream)
    if (accepts(slot)) return {stream, slot}
  }
  return undefined
}

/**
 * Single server: where partition `index` should be. A new topic (nothing existed before this call)
 * gets evenly spaced slots; a grown one, the middle of the widest circular gap between the slots used.
 */
function targetSlot(rotation: number, index: number, count: number, existing: number, usedSlots: ReadonlySet<number>): number {
  if (existing === 0) return Math.floor(rotation + ((index + 0.5) * SLOT_COUNT) / count) % SLOT_COUNT
  const slots = [...usedSlots].sort((a, b) => a - b)
  let widest = {start: rotation, length: SLOT_COUNT}
  slots.forEach((slot, at) => {
    const next = at + 1 < slots.length ? (slots[at + 1] as number) : (slots[0] as number) + SLOT_COUNT
    if (next - slot > widest.length || widest.length === SLOT_COUNT) widest = {start: slot, length: next - slot}
  })
  return Math.floor(widest.start + widest.length / 2) % SLOT_COUNT
}

/** Slots within a small window around `centre` (circular): a few salts find one. */
function near(centre: number, count: number): (slot: number) => boolean {
  const half = Math.max(1, Math.floor(SLOT_COUNT / (8 * Math.max(count, 1))))
  return (slot) => {
    const distance = Math.abs(slot - centre)
    return Math.min(distance, SLOT_COUNT - distance) <= half
  }
}

/** Cluster: the primary with the fewest of the topic's partitions, ties in an order rotated by the topic. */
function leastLoaded(perPrimary: readonly number[], rotation: number, index: number): number {
  const count = perPrimary.length
  let best = -1
  for (let step = 0; step < count; step++) {
    const candidate = (rotation + index + step) % count
    if (best === -1 || (perPrimary[candidate] as number) < (perPrimary[best] as number)) best = candidate
  }
  return best
}

const onPrimary =
  (layout: SlotLayout, primary: number): ((slot: number) => boolean) =>
  (slot) =>
    primary === -1 || layout.ownerOfSlot(slot) === primary
