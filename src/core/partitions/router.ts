import {usageError} from '../errors.js'
import {partitionOfKey} from './partition-hash.js'
import type {TopicLayout} from './metadata.js'

/**
 * Which partition each published message goes to (README, "Partitioned topics"):
 * - a message with a key: `murmur2(key) mod N` (partition-hash.ts), so all of a key's messages share
 *   one partition and keep their order;
 * - a message without one: the partition of its batch, and the next batch the next partition
 *   (round robin per batch, Kafka's "sticky" spreading: one script call per batch stays one), starting
 *   from a random partition so that many short publishes do not all land on partition 0;
 * - `--partition P`: every message to P.
 */
export class PartitionRouter {
  private nextKeyless: number

  constructor(
    readonly count: number,
    private readonly forced: number | undefined = undefined,
    start = Math.floor(Math.random() * count),
  ) {
    this.nextKeyless = start % count
  }

  /** The partition of a keyed message. */
  ofKey(key: string): number {
    return this.forced ?? (this.count === 1 ? 0 : partitionOfKey(key, this.count))
  }

  /** The partition for the keyless messages of the next batch. */
  keylessForNextBatch(): number {
    if (this.forced !== undefined) return this.forced
    const partition = this.nextKeyless
    this.nextKeyless = (this.nextKeyless + 1) % this.count
    return partition
  }
}

/** The router of a resolved topic; `--partition` is checked against it (exit 2 when out of range, or given for a plain stream other than 0). */
export function routerFor(layout: TopicLayout, forced: number | undefined): PartitionRouter {
  const count = layout.streams.length
  if (forced !== undefined && (!Number.isInteger(forced) || forced < 0 || forced >= count)) {
    throw usageError(
      layout.metadata === undefined
        ? `--partition ${forced}: topic "${layout.topic}" is a plain stream, not a partitioned topic (its only partition is 0)`
        : `--partition ${forced}: topic "${layout.topic}" has ${count} partitions (0 … ${count - 1})`,
    )
  }
  return new PartitionRouter(count, forced)
}
