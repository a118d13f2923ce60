import type {GroupSnapshot, Snapshot, TopicSnapshot} from '../../core/stats/snapshot.js'

/** Whether a queue is absorbing a burst or catching up; carried by a mark, never by colour alone. */
export type Trend = 'growing' | 'draining' | 'steady' | 'idle'

export interface RateRow {
  topic: string
  group: string | null
  depth: number
  /** Entries added per second; null when it cannot be known (first snapshot, counters reset). */
  inRate: number | null
  /** Entries acknowledged per second by the group: delivered minus the growth of pending. */
  outRate: number | null
  lag: number | null
  pending: number
  consumers: number
  activeConsumers: number | null
  deadLetters: number
  deadLetterInRate: number | null
  trend: Trend
}

/** Below this many entries per second a rate counts as zero for the trend. */
const IDLE_RATE = 0.5

/** A per-second rate of a counter between two readings; null if unknown or reset (went down: a restart). */
export function counterRate(before: number | null | undefined, after: number | null | undefined, seconds: number): number | null {
  if (before === null || before === undefined || after === null || after === undefined || seconds <= 0) return null
  if (after < before) return null
  return (after - before) / seconds
}

/**
 * Acknowledged per second: entries the group read, minus what is still pending of them. Null when
 * a counter is unknown or reset, and never negative (pending can grow faster than reads only
 * through claims, which move entries rather than add them).
 */
export function ackRate(before: GroupSnapshot | undefined, after: GroupSnapshot, seconds: number): number | null {
  if (before === undefined) return null
  const read = counterRate(before.entriesRead, after.entriesRead, seconds)
  if (read === null) return null
  return Math.max(0, read - (after.pending - before.pending) / seconds)
}

export function trendOf(inRate: number | null, outRate: number | null, lag: number | null): Trend {
  const incoming = inRate ?? 0
  const outgoing = outRate ?? 0
  if (incoming < IDLE_RATE && outgoing < IDLE_RATE) return (lag ?? 0) > 0 ? 'steady' : 'idle'
  if (incoming > outgoing * 1.1 + IDLE_RATE) return 'growing'
  if (outgoing > incoming * 1.1 + IDLE_RATE) return 'draining'
  return 'steady'
}

const byTopic = (snapshot: Snapshot | undefined): Map<string, TopicSnapshot> => new Map((snapshot?.topics ?? []).map((topic) => [topic.topic, topic]))

/**
 * Rows for the screen from two snapshots (the earlier one may be missing: rates are then null).
 * A group or topic that appeared or vanished between the two gets null rates, not a spike.
 */
export function rateRows(previous: Snapshot | undefined, current: Snapshot): RateRow[] {
  const seconds = previous === undefined ? 0 : (current.at - previous.at) / 1000
  const earlier = byTopic(previous)
  const rows: RateRow[] = []
  for (const topic of current.topics) {
    const before = earlier.get(topic.topic)
    const inRate = counterRate(before?.entriesAdded, topic.entriesAdded, seconds)
    const deadLetterInRate = counterRate(before?.deadLettersAdded ?? (before === undefined ? undefined : 0), topic.deadLettersAdded ?? 0, seconds)
    const base = {topic: topic.topic, depth: topic.length, inRate, deadLetters: topic.deadLetters, deadLetterInRate}
    if (topic.groups.length === 0) {
      rows.push({...base, group: null, outRate: null, lag: null, pending: 0, consumers: 0, activeConsumers: 0, trend: trendOf(inRate, 0, null)})
      continue
    }
    for (const group of topic.groups) {
      const outRate = ackRate(before?.groups.find((candidate) => candidate.name === group.name), group, seconds)
      rows.push({
        ...base,
        group: group.name,
        outRate,
        lag: group.lag,
        pending: group.pending,
        consumers: group.consumers,
        activeConsumers: group.activeConsumers,
        trend: trendOf(inRate, outRate, group.lag),
      })
    }
  }
  return rows
}
