import type {GroupStats, TopicStats} from '../stats/topic-stats.js'
import type {DeadLettersByGroup} from './dead-letters-by-group.js'
import {pendingAgeMs} from '../stats/pending-age.js'
import {idMs} from '../stats/xinfo.js'

/** One row of `qctl lag`: a topic and one of its consumer groups (or `group: null` when it has none). */
export interface LagRow {
  topic: string
  /** The row's partition (`lag --partitions`); null for a plain topic, or a partitioned topic's row over all its partitions. */
  partition: number | null
  /** How many partitions the topic has: 1 for a plain stream. */
  partitions: number
  group: string | null
  /**
   * False for a topic without consumer groups (`group` null) and for a group named with `--group`
   * that the topic does not have: group gates fail on such a row (nothing reads the entries).
   */
  groupExists: boolean
  length: number
  /** Entries not yet delivered to the group; null when unknown (never a false 0). */
  lag: number | null
  lagSource: 'redis' | 'counted' | 'unknown' | null
  /** Delivered, not yet acknowledged (includes retries waiting out their backoff). */
  pending: number
  /**
   * Entries replayed to the group (`qctl dlq replay`) that it has not acknowledged yet, in its replay
   * stream: already counted in `lag` and `pending`, so gates see them.
   */
  replayed: number
  oldestPendingId: string | null
  /** When the oldest pending entry was published (ISO, from its ID). */
  oldestPendingAt: string | null
  /** How long it has waited: since it was published, or since its last delivery when its ID is in the future (see pendingAgeMs). */
  oldestPendingAgeMs: number | null
  consumers: number
  activeConsumers: number
  /**
   * Dead letters of this row's group: those it dead-lettered, plus those that name no group (written
   * by other programs) or a group the topic no longer has, which could be anyone's. With --group,
   * only the named group's and those naming none. The topic's total when it has one group or none.
   */
  deadLetters: number
  /** Every entry in the topic's dead-letter stream. */
  topicDeadLetters: number
  /**
   * The topic's messages held until due (publish --delay / --at), in no stream yet: not in `length`
   * or `lag`. Null when qctl may not read the schedule (ACL).
   */
  scheduled: number | null
  /** Of `scheduled`, those already due (by Redis's clock) but not appended: no running worker or `qctl schedule run` moves them. */
  scheduledDue: number | null
  failedGates: GateFailure[]
  /** What is wrong with the topic's keys but did not stop the reading (its dead-letter key is not a stream). */
  warnings: string[]
  /** On a Redis Cluster: the primary (`host:port`) that owns the topic's hash slot; null on a single server. */
  node: string | null
}

export type GateName = 'max-lag' | 'max-pending' | 'max-pending-age' | 'max-dlq'

export interface GateFailure {
  gate: GateName
  limit: number
  /** The value that broke the gate; null for an unknown lag, or when there is no group to measure. */
  value: number | null
  /** Set when the gate could not be checked: no consumer group reads the topic (or not the one named with --group). */
  reason?: 'no-group'
}

export interface Gates {
  maxLag?: number | undefined
  maxPending?: number | undefined
  maxPendingAgeMs?: number | undefined
  maxDlq?: number | undefined
}

export const hasGates = (gates: Gates): boolean =>
  gates.maxLag !== undefined || gates.maxPending !== undefined || gates.maxPendingAgeMs !== undefined || gates.maxDlq !== undefined

/** Groups were named (lag --group). */
const named = (onlyGroups: readonly string[] | undefined): onlyGroups is readonly string[] => onlyGroups !== undefined && onlyGroups.length > 0

/** The groups a topic gets rows for: the named ones (stats undefined where missing), else its own, else one row without a group. */
function rowGroups(topic: TopicStats, onlyGroups: readonly string[] | undefined): Array<{name: string | null; stats: GroupStats | undefined}> {
  if (named(onlyGroups)) {
    return [...new Set(onlyGroups)].map((name) => ({name, stats: topic.groups.find((group) => group.name === name)}))
  }
  if (topic.groups.length === 0) return [{name: null, stats: undefined}]
  return topic.groups.map((group) => ({name: group.name, stats: group}))
}

/**
 * The streams whose dead letters must be counted by group (deadLettersByGroup, keyed by stream): only
 * where that differs from the total; for a partitioned topic, those of its partitions that have some.
 */
export const topicsToCountByGroup = (stats: readonly TopicStats[], onlyGroups?: readonly string[]): string[] =>
  stats
    .filter((topic) => topic.deadLetters > 0 && (named(onlyGroups) || topic.groups.length > 1))
    .flatMap((topic) => (topic.partitions === undefined ? [topic.stream] : topic.partitions.filter((partition) => partition.deadLetters > 0).map((partition) => partition.stream)))

/** A topic's counts by group: its stream's, or the sum of its partitions'. */
function countsOf(topic: TopicStats, deadLettersOf: ReadonlyMap<string, DeadLettersByGroup> | undefined): DeadLettersByGroup | undefined {
  if (deadLettersOf === undefined) return undefined
  if (topic.partitions === undefined) return deadLettersOf.get(topic.stream)
  const parts = topic.partitions.map((partition) => deadLettersOf.get(partition.stream)).filter((part) => part !== undefined)
  if (parts.length === 0) return undefined
  const merged: DeadLettersByGroup = {byGroup: new Map(), unattributed: 0}
  for (const part of parts) {
    merged.unattributed += part.unattributed
    for (const [group, count] of part.byGroup) merged.byGroup.set(group, (merged.byGroup.get(group) ?? 0) + count)
  }
  return merged
}

/** The dead letters a row of `group` shows (see LagRow.deadLetters). */
function groupDeadLetters(topic: TopicStats, group: string | null, counts: DeadLettersByGroup | undefined, onlyGroups: readonly string[] | undefined): number {
  if (group === null || counts === undefined) return topic.deadLetters
  let total = (counts.byGroup.get(group) ?? 0) + counts.unattributed
  if (!named(onlyGroups)) {
    // Dead letters of a group since destroyed: nobody's row would show them, so every row does.
    const groups = new Set(topic.groups.map((existing) => existing.name))
    for (const [other, count] of counts.byGroup) if (!groups.has(other)) total += count
  }
  return total
}

/**
 * Rows sorted by topic then group; pure (takes `now`). With `onlyGroups` (lag --group), a row for
 * each of those groups per topic, `groupExists: false` for one the topic does not have.
 * `deadLettersOf`: the counts by group of topicsToCountByGroup (otherwise rows show the topic's total).
 */
export function lagRows(
  stats: readonly TopicStats[],
  now: number,
  onlyGroups?: readonly string[],
  deadLettersOf?: ReadonlyMap<string, DeadLettersByGroup>,
  perPartition = false,
): LagRow[] {
  const rows: LagRow[] = []
  // With --partitions, a partitioned topic's rows are its partitions' (each a topic of its own here).
  const shown = stats.flatMap((topic) => {
    const partitions = topic.partitions?.length ?? 1
    if (!perPartition || topic.partitions === undefined) return [{topic, partitions, groups: onlyGroups}]
    // Every partition gets a row for each of the topic's groups: one missing on a partition says so (and fails the group gates).
    const groups = named(onlyGroups) || topic.groups.length === 0 ? onlyGroups : topic.groups.map((group) => group.name)
    return topic.partitions.map((partition) => ({topic: partition, partitions, groups}))
  })
  for (const {topic, partitions, groups} of shown) {
    for (const {name, stats: group} of rowGroups(topic, groups)) {
      const oldestMs = idMs(group?.oldestPendingId ?? null)
      // Built field by field: the --json shape is documented, keep its order stable.
      rows.push({
        topic: topic.topic,
        partition: topic.partition,
        partitions,
        group: name,
        groupExists: group !== undefined,
        length: topic.length,
        lag: group?.lag ?? null,
        lagSource: group?.lagSource ?? null,
        pending: group?.pending ?? 0,
        replayed: group?.replayed ?? 0,
        oldestPendingId: group?.oldestPendingId ?? null,
        oldestPendingAt: oldestMs === null ? null : new Date(oldestMs).toISOString(),
        oldestPendingAgeMs: pendingAgeMs(group?.oldestPendingId ?? null, group?.oldestPendingIdleMs ?? null, now),
        consumers: group?.consumers ?? 0,
        activeConsumers: group?.activeConsumers ?? 0,
        deadLetters: groupDeadLetters(topic, name, countsOf(topic, deadLettersOf), onlyGroups),
        topicDeadLetters: topic.deadLetters,
        scheduled: topic.scheduled,
        scheduledDue: topic.scheduledDue,
        failedGates: [],
        warnings: topic.warnings,
        node: topic.node,
      })
    }
  }
  return rows.sort((a, b) => byName(a.topic, b.topic) || (a.partition ?? -1) - (b.partition ?? -1) || byName(a.group ?? '', b.group ?? ''))
}

/** The order of `localeCompare`, with one collator made once: `localeCompare` per call was a tenth of `lag` over 10,000 topics. */
const byName = new Intl.Collator().compare

/**
 * Which gates each row breaks. An unknown lag breaks --max-lag, and a row without a group breaks every
 * group gate: a gate must never pass on a guess.
 */
export function gateFailures(row: LagRow, gates: Gates): GateFailure[] {
  const failures: GateFailure[] = []
  if (!row.groupExists) {
    // Nothing reads the topic (or not the named group): a group gate cannot pass by not looking.
    const unchecked: Array<[GateName, number | undefined]> = [
      ['max-lag', gates.maxLag],
      ['max-pending', gates.maxPending],
      ['max-pending-age', gates.maxPendingAgeMs],
    ]
    for (const [gate, limit] of unchecked) if (limit !== undefined) failures.push({gate, limit, value: null, reason: 'no-group'})
  } else {
    if (gates.maxLag !== undefined && (row.lag === null || row.lag > gates.maxLag)) failures.push({gate: 'max-lag', limit: gates.maxLag, value: row.lag})
    if (gates.maxPending !== undefined && row.pending > gates.maxPending) failures.push({gate: 'max-pending', limit: gates.maxPending, value: row.pending})
    if (gates.maxPendingAgeMs !== undefined && (row.oldestPendingAgeMs ?? 0) > gates.maxPendingAgeMs) {
      failures.push({gate: 'max-pending-age', limit: gates.maxPendingAgeMs, value: row.oldestPendingAgeMs})
    }
  }
  if (gates.maxDlq !== undefined && row.deadLetters > gates.maxDlq) failures.push({gate: 'max-dlq', limit: gates.maxDlq, value: row.deadLetters})
  return failures
}

export const withGates = (rows: readonly LagRow[], gates: Gates): LagRow[] => rows.map((row) => ({...row, failedGates: gateFailures(row, gates)}))

/** Named topics that do not exist (not among the stats read: topicStats leaves out missing keys). */
export const missingTopics = (named: readonly string[], stats: readonly TopicStats[]): string[] => {
  const found = new Set(stats.map((topic) => topic.topic))
  return [...new Set(named)].filter((topic) => !found.has(topic))
}
