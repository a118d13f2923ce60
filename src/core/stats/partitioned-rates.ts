import {ackRate, counterRate, deadLetterRate} from './counter-rates.js'
import {pendingAgeMs} from './pending-age.js'
import type {GroupSnapshot, PartitionSnapshot} from './snapshot.js'

/**
 * A partitioned topic's rates: worked out per partition, each from its own stream's counters
 * between two snapshots, then summed. (A rate of the summed counters would turn one partition's
 * reset, or a partition added meanwhile, into a spike.) A sum is unknown (null) when a part is: the
 * first refresh, a reset, a partition or group that appeared meanwhile.
 */

/** One partition's figures in a row of `top` (the row's group there; `--json` perPartition, the detail view's table). */
export interface PartitionRow {
  partition: number
  stream: string
  /** On a Redis Cluster: the primary that owns the partition's slot; null on a single server (or a stream not read yet). */
  node: string | null
  depth: number
  inRate: number | null
  /**
   * The row's group exists on this partition. Where it does not (and for a row without a group),
   * `outRate` is null and `pending` 0; a missing group's `lag` is the partition's depth (nothing of
   * the group reads it), as the topic's lag counts it.
   */
  groupExists: boolean
  outRate: number | null
  lag: number | null
  pending: number
  oldestPendingAgeMs: number | null
  consumers: number
  activeConsumers: number | null
  deadLetters: number
  deadLetterInRate: number | null
}

/** One partition between two snapshots. */
interface PartitionFlow {
  partition: PartitionSnapshot
  before: PartitionSnapshot | undefined
  inRate: number | null
  deadLetterInRate: number | null
}

export interface PartitionFlows {
  /** The partitions' in-rates summed. */
  inRate: number | null
  /** The partitions' dead-letter in-rates summed. */
  deadLetterInRate: number | null
  partitions: PartitionFlow[]
}

/** The same partition (by its stream) in the earlier snapshot; partitions only ever get added at the end, so it is nearly always at its index. */
function earlierPartition(before: readonly PartitionSnapshot[] | undefined, partition: PartitionSnapshot): PartitionSnapshot | undefined {
  if (before === undefined) return undefined
  const same = before[partition.partition]
  if (same?.stream === partition.stream) return same
  for (const candidate of before) if (candidate.stream === partition.stream) return candidate
  return undefined
}

const plus = (sum: number | null, rate: number | null): number | null => (sum === null || rate === null ? null : sum + rate)

/** Every partition's in- and dead-letter rates since `before` (the topic's partitions in the earlier snapshot), and their sums. */
export function partitionFlows(before: readonly PartitionSnapshot[] | undefined, partitions: readonly PartitionSnapshot[], seconds: number): PartitionFlows {
  const flows: PartitionFlow[] = []
  let inRate: number | null = 0
  let deadLetterInRate: number | null = 0
  for (const partition of partitions) {
    const earlier = earlierPartition(before, partition)
    const flow = {partition, before: earlier, inRate: counterRate(earlier?.entriesAdded, partition.entriesAdded, seconds), deadLetterInRate: deadLetterRate(earlier, partition, seconds)}
    inRate = plus(inRate, flow.inRate)
    deadLetterInRate = plus(deadLetterInRate, flow.deadLetterInRate)
    flows.push(flow)
  }
  return {inRate, deadLetterInRate, partitions: flows}
}

function groupNamed(partition: PartitionSnapshot | undefined, name: string): GroupSnapshot | undefined {
  for (const group of partition?.groups ?? []) if (group.name === name) return group
  return undefined
}

/**
 * The group's acknowledgements per second on one partition (ackRate). Redis has no entries-read
 * counter for a group that never read (a partition that got nothing yet, under a running worker),
 * which would make the topic's out-rate unknown for as long as one partition stays idle; where the
 * group surely read nothing (no lag before, nothing added since) it acknowledged what left its
 * pending list.
 */
function partitionAckRate(before: PartitionSnapshot | undefined, partition: PartitionSnapshot, beforeGroup: GroupSnapshot | undefined, group: GroupSnapshot, seconds: number): number | null {
  const rate = ackRate(beforeGroup, group, seconds)
  if (rate !== null || before === undefined || beforeGroup === undefined || seconds <= 0) return rate
  const nothingToRead = beforeGroup.lag === 0 && before.entriesAdded !== null && before.entriesAdded === partition.entriesAdded
  return nothingToRead ? Math.max(0, (beforeGroup.pending - group.pending) / seconds) : null
}

/** Each partition's figures for group `name` (null: a row without a group). */
export function partitionRows(flows: PartitionFlows, name: string | null, seconds: number, now: number): PartitionRow[] {
  const rows: PartitionRow[] = []
  for (const {partition, before, inRate, deadLetterInRate} of flows.partitions) {
    const group = name === null ? undefined : groupNamed(partition, name)
    // Built field by field: the --json shape is documented, keep its order stable.
    rows.push({
      partition: partition.partition,
      stream: partition.stream,
      node: partition.node,
      depth: partition.length,
      inRate,
      groupExists: group !== undefined,
      outRate: group === undefined || name === null ? null : partitionAckRate(before, partition, groupNamed(before, name), group, seconds),
      lag: group !== undefined ? group.lag : name === null ? null : partition.length,
      pending: group?.pending ?? 0,
      oldestPendingAgeMs: group === undefined ? null : pendingAgeMs(group.oldestPendingId, group.oldestPendingIdleMs, now),
      consumers: group?.consumers ?? 0,
      activeConsumers: group === undefined ? 0 : group.activeConsumers,
      deadLetters: partition.deadLetters,
      deadLetterInRate,
    })
  }
  return rows
}

/** The group's out-rate over the partitions that have it (nothing is acknowledged where it does not exist). */
export function summedOutRate(rows: readonly PartitionRow[]): number | null {
  let sum: number | null = 0
  for (const row of rows) if (row.groupExists) sum = plus(sum, row.outRate)
  return sum
}
