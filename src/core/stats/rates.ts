import type {GroupSnapshot, Snapshot, TopicKind, TopicSnapshot} from './snapshot.js'
import {ackRate, counterRate, deadLetterRate} from './counter-rates.js'
import {partitionFlows, partitionRows, summedOutRate, type PartitionRow} from './partitioned-rates.js'
import {pendingAgeMs} from './pending-age.js'

export {ackRate, counterRate} from './counter-rates.js'
export type {PartitionRow} from './partitioned-rates.js'

/**
 * Whether a queue is absorbing a burst or catching up; carried by a mark, never by colour alone.
 * `stalled` overrides the others: work is waiting and nothing will do it (see StallReason).
 */
export type Trend = 'growing' | 'draining' | 'steady' | 'idle' | 'stalled'

/**
 * Why a group with work waiting (lag or pending above 0) is stalled: no consumer active in the last
 * minute, or consumers active but nothing acknowledged for STALL_AFTER_MS.
 */
export type StallReason = 'no-active-consumer' | 'no-acks'

/** How long a group with work waiting may acknowledge nothing before it counts as stalled. */
export const STALL_AFTER_MS = 30_000

/** When each row (by rowKey) last made progress: acknowledged something, or had nothing waiting. */
export type Progress = ReadonlyMap<string, number>

/** A row's identity across refreshes (topic and group). */
export const rowKey = (row: {topic: string; group: string | null}): string => `${row.topic}\u0000${row.group ?? ''}`

export interface RateRow {
  topic: string
  group: string | null
  /** What the row's stream is: a topic, a deleted topic's dead letters, or a dead-letter stream read by groups of its own. */
  kind: TopicKind
  depth: number
  /** Entries added per second; null when it cannot be known (first snapshot, counters reset). */
  inRate: number | null
  /** Entries acknowledged per second by the group: delivered minus the growth of pending. */
  outRate: number | null
  lag: number | null
  /** The lag went up since the previous snapshot: the group is falling behind. */
  lagGrowing: boolean
  pending: number
  /** Time since the oldest pending entry was published (from its ID); null when nothing is pending or not yet known. */
  oldestPendingAgeMs: number | null
  consumers: number
  activeConsumers: number | null
  deadLetters: number
  deadLetterInRate: number | null
  /** Entries were dead-lettered since the previous snapshot. */
  deadLettersGrowing: boolean
  /** The topic's messages held until due (publish --delay / --at), in no stream yet; null when the schedule could not be read. */
  scheduled: number | null
  /** Of `scheduled`, those past their due time and not appended: nothing (no worker of the topic, no `schedule run`) moves them. */
  scheduledDue: number | null
  trend: Trend
  /** Why the trend is `stalled`; null otherwise. */
  stall: StallReason | null
  /** On a Redis Cluster: the primary (`host:port`) that owns the topic's hash slot; null on a single server, and for a partitioned topic (see perPartition). */
  node: string | null
  /** How many partitions the topic has: 1 for a plain stream. */
  partitions: number
  /**
   * A partitioned topic's figures per partition, for the row's group (partitioned-rates.ts); the
   * row's are their merge (sums, the oldest pending, the most consumers) and its rates their sums.
   * Null for a plain stream.
   */
  perPartition: PartitionRow[] | null
}

/** Below this many entries per second a rate counts as zero for the trend. */
const IDLE_RATE = 0.5

export function trendOf(inRate: number | null, outRate: number | null, lag: number | null): Trend {
  const incoming = inRate ?? 0
  const outgoing = outRate ?? 0
  if (incoming < IDLE_RATE && outgoing < IDLE_RATE) return (lag ?? 0) > 0 ? 'steady' : 'idle'
  if (incoming > outgoing * 1.1 + IDLE_RATE) return 'growing'
  if (outgoing > incoming * 1.1 + IDLE_RATE) return 'draining'
  return 'steady'
}

/**
 * Whether a group is stalled: work waiting, and no active consumer (parked retries need one too),
 * or no acknowledgement since `lastProgressAt` while entries other than parked retries wait. An unknown consumer count (a group seen for the first time) is not a stall.
 */
export function stallOf(group: Pick<GroupSnapshot, 'lag' | 'pending' | 'parkedPending' | 'activeConsumers'>, lastProgressAt: number, now: number): StallReason | null {
  if ((group.lag ?? 0) <= 0 && group.pending <= 0) return null
  if (group.activeConsumers === 0) return 'no-active-consumer'
  // Retries waiting out their backoff are waiting by design: only other work makes silence a stall.
  const unparked = group.pending - (group.parkedPending ?? 0)
  if (((group.lag ?? 0) > 0 || unparked > 0) && now - lastProgressAt >= STALL_AFTER_MS) return 'no-acks'
  return null
}

/** When a group last made progress, as of `current`: now if it acknowledged or has nothing waiting. */
function lastProgressOf(key: string, group: GroupSnapshot, outRate: number | null, progress: Progress, watchedSince: number, now: number): number {
  if ((outRate ?? 0) > 0 || ((group.lag ?? 0) <= 0 && group.pending <= 0)) return now
  return progress.get(key) ?? watchedSince
}

/** The progress after a refresh, for the next one: rows with work waiting and no acknowledgement keep their time. */
export function progressAfter(progress: Progress, rows: readonly RateRow[], now: number): Map<string, number> {
  const next = new Map<string, number>()
  for (const row of rows) {
    if (row.group === null) continue
    const key = rowKey(row)
    const waiting = (row.lag ?? 0) > 0 || row.pending > 0
    next.set(key, (row.outRate ?? 0) > 0 || !waiting ? now : (progress.get(key) ?? now))
  }
  return next
}

// Loops rather than callbacks made per call: this runs on every refresh (see lineOf in layout.ts).
function byTopic(snapshot: Snapshot | undefined): Map<string, TopicSnapshot> {
  const topics = new Map<string, TopicSnapshot>()
  for (const topic of snapshot?.topics ?? []) topics.set(topic.topic, topic)
  return topics
}

function groupNamed(topic: TopicSnapshot | undefined, name: string): GroupSnapshot | undefined {
  for (const group of topic?.groups ?? []) if (group.name === name) return group
  return undefined
}

/**
 * Rows for the screen from two snapshots (the earlier one may be missing: rates are then null).
 * A group or topic that appeared or vanished between the two gets null rates, not a spike.
 * `progress` (from `progressAfter`) says since when a group has acknowledged nothing; without it,
 * since the earlier snapshot (what was watched).
 */
export function rateRows(previous: Snapshot | undefined, current: Snapshot, progress: Progress = new Map()): RateRow[] {
  const seconds = previous === undefined ? 0 : (current.at - previous.at) / 1000
  const watchedSince = previous?.at ?? current.at
  const earlier = byTopic(previous)
  const rows: RateRow[] = []
  for (const topic of current.topics) {
    const before = earlier.get(topic.topic)
    // A partitioned topic's rates are its partitions', summed (partitioned-rates.ts).
    const flows = topic.partitions === undefined ? null : partitionFlows(before?.partitions, topic.partitions, seconds)
    const inRate = flows === null ? counterRate(before?.entriesAdded, topic.entriesAdded, seconds) : flows.inRate
    const deadLetterInRate = flows === null ? deadLetterRate(before, topic, seconds) : flows.deadLetterInRate
    const deadLettersGrowing = (deadLetterInRate ?? 0) > 0
    const partitions = topic.partitions?.length ?? 1
    if (topic.groups.length === 0) {
      rows.push({
        topic: topic.topic,
        group: null,
        kind: topic.kind,
        depth: topic.length,
        inRate,
        outRate: null,
        lag: null,
        lagGrowing: false,
        pending: 0,
        oldestPendingAgeMs: null,
        consumers: 0,
        activeConsumers: 0,
        deadLetters: topic.deadLetters,
        deadLetterInRate,
        deadLettersGrowing,
        scheduled: topic.scheduled,
        scheduledDue: topic.scheduledDue,
        trend: trendOf(inRate, 0, null),
        stall: null,
        node: topic.node ?? null,
        partitions,
        perPartition: flows === null ? null : partitionRows(flows, null, seconds, current.at),
      })
      continue
    }
    for (const group of topic.groups) {
      const earlierGroup = groupNamed(before, group.name)
      const perPartition = flows === null ? null : partitionRows(flows, group.name, seconds, current.at)
      const outRate = perPartition === null ? ackRate(earlierGroup, group, seconds) : summedOutRate(perPartition)
      const lagBefore = earlierGroup?.lag ?? null
      const key = rowKey({topic: topic.topic, group: group.name})
      const stall = stallOf(group, lastProgressOf(key, group, outRate, progress, watchedSince, current.at), current.at)
      rows.push({
        topic: topic.topic,
        group: group.name,
        kind: topic.kind,
        depth: topic.length,
        inRate,
        outRate,
        lag: group.lag,
        lagGrowing: group.lag !== null && lagBefore !== null && group.lag > lagBefore,
        pending: group.pending,
        oldestPendingAgeMs: pendingAgeMs(group.oldestPendingId, group.oldestPendingIdleMs, current.at),
        consumers: group.consumers,
        activeConsumers: group.activeConsumers,
        deadLetters: topic.deadLetters,
        deadLetterInRate,
        deadLettersGrowing,
        scheduled: topic.scheduled,
        scheduledDue: topic.scheduledDue,
        trend: stall === null ? trendOf(inRate, outRate, group.lag) : 'stalled',
        stall,
        node: topic.node ?? null,
        partitions,
        perPartition,
      })
    }
  }
  return rows
}
