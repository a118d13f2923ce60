import {compareIdText} from '../dlq/stream-id.js'
import {deadLetterKey} from '../keys.js'
import type {TopicLayout} from '../partitions/metadata.js'
import type {GroupStats, TopicStats} from './topic-stats.js'

/*
 * A partitioned topic as one topic (`lag`, `inspect`, `top`): its partitions' streams were read like
 * topics of their own (one round trip per primary for all of them), and are summed here per consumer
 * group, by these rules:
 *
 * - lag, pending, replayed, length, dead letters: sums; a lag unknown in one partition is unknown for
 *   the topic (a gate never passes on a guess).
 * - the oldest pending entry: the oldest of the partitions' (stream IDs are times, so they compare
 *   across streams).
 * - consumers: the most any partition's group has (the same worker is a consumer in every partition
 *   it reads, so a sum would count it once per partition).
 * - a group missing on a partition that holds entries: nothing of that group reads them, which is
 *   what lag means; they count as its lag, and a warning names the partition.
 *
 * `top` merges its own readings by the same rules (mergeGroupFigures; snapshot-partitioned.ts).
 */

/**
 * A group's figures on one partition, as both `lag` (GroupStats) and `top` (GroupSnapshot) read them:
 * what the rules above merge. `activeConsumers` is null where it was not read (`top --once`'s first
 * reading).
 */
export interface PartitionGroupFigures {
  entriesRead: number | null
  lag: number | null
  pending: number
  oldestPendingId: string | null
  oldestPendingIdleMs: number | null
  consumers: number
  activeConsumers: number | null
}

/** One partition as the merge of a group sees it: its length, and the group there (undefined where it does not exist). */
export interface PartitionOfGroup<G> {
  partition: number
  length: number
  group: G | undefined
}

/**
 * One consumer group over a topic's partitions, by the rules above (shared by `lag`, `inspect` and
 * `top`, which each add their own fields): `present` the group on the partitions that have it,
 * `missing` the partitions without it that hold entries (counted as its lag, for the warning).
 * Entries read, lag and active consumers are unknown (null) for the topic when unknown on a partition.
 */
export function mergeGroupFigures<G extends PartitionGroupFigures>(partitions: ReadonlyArray<PartitionOfGroup<G>>): {figures: PartitionGroupFigures; present: G[]; missing: Array<{partition: number; length: number}>} {
  const figures: PartitionGroupFigures = {entriesRead: 0, lag: 0, pending: 0, oldestPendingId: null, oldestPendingIdleMs: null, consumers: 0, activeConsumers: 0}
  const present: G[] = []
  const missing: Array<{partition: number; length: number}> = []
  for (const {partition, length, group} of partitions) {
    if (group === undefined) {
      if (length > 0) missing.push({partition, length})
      figures.lag = figures.lag === null ? null : figures.lag + length
      continue
    }
    present.push(group)
    figures.lag = figures.lag === null || group.lag === null ? null : figures.lag + group.lag
    figures.entriesRead = figures.entriesRead === null || group.entriesRead === null ? null : figures.entriesRead + group.entriesRead
    figures.pending += group.pending
    figures.consumers = Math.max(figures.consumers, group.consumers)
    figures.activeConsumers = figures.activeConsumers === null || group.activeConsumers === null ? null : Math.max(figures.activeConsumers, group.activeConsumers)
    if (group.oldestPendingId !== null && (figures.oldestPendingId === null || compareIdText(group.oldestPendingId, figures.oldestPendingId) < 0)) {
      figures.oldestPendingId = group.oldestPendingId
      figures.oldestPendingIdleMs = group.oldestPendingIdleMs
    }
  }
  return {figures, present, missing}
}

/** The names of the groups any partition has, sorted. */
export function groupNamesOf(partitions: ReadonlyArray<{groups: ReadonlyArray<{name: string}>}>): string[] {
  const names = new Set<string>()
  for (const partition of partitions) for (const group of partition.groups) names.add(group.name)
  return [...names].sort()
}

/** A partitioned topic's statistics as one topic (`lag`, `inspect`); the per-partition stats stay in `partitions` (`lag --partitions`). */
export function mergePartitioned(layout: TopicLayout, byStream: ReadonlyMap<string, TopicStats>): TopicStats {
  const partitions = layout.streams.map((stream, partition): TopicStats => {
    const found = byStream.get(stream)
    return found === undefined ? emptyPartition(layout.topic, stream, partition) : {...found, topic: layout.topic, stream, partition}
  })
  const names = groupNamesOf(partitions)
  const warnings = partitions.flatMap((partition) => partition.warnings)
  const groups = names.map((name): GroupStats => {
    const {figures, present, missing} = mergeGroupFigures(
      partitions.map((partition) => ({partition: partition.partition ?? 0, length: partition.length, group: partition.groups.find((candidate) => candidate.name === name)})),
    )
    // What only `lag` has: where the lag came from, the last delivered ID, the replayed entries.
    let lagSource: GroupStats['lagSource'] = 'redis'
    let lastDeliveredId = ''
    let replayed = 0
    for (const group of present) {
      if (group.lagSource === 'unknown') lagSource = 'unknown'
      else if (group.lagSource === 'counted' && lagSource === 'redis') lagSource = 'counted'
      if (compareIdText(group.lastDeliveredId, lastDeliveredId) > 0) lastDeliveredId = group.lastDeliveredId
      replayed += group.replayed
    }
    if (figures.lag === null) lagSource = 'unknown'
    if (missing.length > 0) warnings.push(missingGroupWarning(layout, name, missing))
    return {
      name,
      lastDeliveredId,
      entriesRead: figures.entriesRead,
      lag: figures.lag,
      lagSource,
      pending: figures.pending,
      oldestPendingId: figures.oldestPendingId,
      oldestPendingIdleMs: figures.oldestPendingIdleMs,
      consumers: figures.consumers,
      activeConsumers: figures.activeConsumers ?? 0,
      replayed,
    }
  })
  const ids = (pick: (partition: TopicStats) => string | null, newest: boolean): string | null =>
    partitions
      .map(pick)
      .filter((id): id is string => id !== null)
      .reduce<string | null>((best, id) => (best === null || (compareIdText(id, best) > 0) === newest ? id : best), null)
  return {
    topic: layout.topic,
    stream: layout.topic,
    partition: null,
    partitions,
    length: partitions.reduce((sum, partition) => sum + partition.length, 0),
    firstId: ids((partition) => partition.firstId, false),
    lastId: ids((partition) => partition.lastId, true),
    lastGeneratedId: ids((partition) => partition.lastGeneratedId, true),
    entriesAdded: partitions.every((partition) => partition.entriesAdded !== null) ? partitions.reduce((sum, partition) => sum + (partition.entriesAdded ?? 0), 0) : null,
    deadLetterKey: deadLetterKey(layout.streams[0] as string),
    deadLetters: partitions.reduce((sum, partition) => sum + partition.deadLetters, 0),
    scheduled: sumKnown(partitions.map((partition) => partition.scheduled)),
    scheduledDue: sumKnown(partitions.map((partition) => partition.scheduledDue)),
    groups,
    warnings,
    node: null,
  }
}

/** One line for a group missing on partitions that hold entries (however many partitions); `lag` and `top` say the same. */
export function missingGroupWarning(layout: TopicLayout, group: string, partitions: ReadonlyArray<{partition: number | null; length: number}>): string {
  const entries = partitions.reduce((sum, partition) => sum + partition.length, 0)
  const which = partitions.map((partition) => partition.partition).join(', ')
  return `group "${group}" does not exist on ${partitions.length} of the ${layout.streams.length} partitions of "${layout.topic}" (${which}): their ${entries} entries are read by no worker of that group, and count as its lag (a worker of the group makes it on every partition when it starts, and on new ones within 5 s; qctl topic alter makes the groups it finds on the partitions it adds)`
}

/** A partition whose stream does not exist yet (nothing published to it, no group created). */
const emptyPartition = (topic: string, stream: string, partition: number): TopicStats => ({
  topic,
  stream,
  partition,
  length: 0,
  firstId: null,
  lastId: null,
  lastGeneratedId: null,
  entriesAdded: 0,
  deadLetterKey: deadLetterKey(stream),
  deadLetters: 0,
  scheduled: 0,
  scheduledDue: 0,
  groups: [],
  warnings: [],
  node: null,
})

/** A sum that is unknown (null) when any of its parts is. */
export const sumKnown = (values: ReadonlyArray<number | null>): number | null =>
  values.reduce<number | null>((sum, value) => (sum === null || value === null ? null : sum + value), 0)


/**
 * Statistics of a mix of plain and partitioned topics, in the order of `layouts`: `read` gets every
 * stream once (the partitions' with the plain topics', one reading), and partitioned topics come back
 * merged. A partitioned topic is always there (its metadata says it exists), even before any stream.
 */
export async function statsOfLayouts(layouts: readonly TopicLayout[], read: (streams: string[]) => Promise<TopicStats[]>): Promise<TopicStats[]> {
  const stats = await read(layouts.flatMap((layout) => layout.streams))
  const byStream = new Map(stats.map((topic) => [topic.stream, topic]))
  const result: TopicStats[] = []
  for (const layout of layouts) {
    if (layout.metadata !== undefined) result.push(mergePartitioned(layout, byStream))
    else {
      const found = byStream.get(layout.topic)
      if (found !== undefined) result.push(found)
    }
  }
  return result
}

/**
 * What the commands that read the whole database (`lag`, `top` without TOPIC) read: the plain
 * topics SCAN found (`found`, already without dead-letter and replay streams) and the partitioned
 * topics (their metadata), minus the partitions' own streams and anything derived from them,
 * sorted by name.
 */
export function layoutsOfFound(found: readonly string[], partitioned: readonly TopicLayout[]): TopicLayout[] {
  const partitionStreams = new Set(partitioned.flatMap((layout) => layout.streams))
  const partitionDeadLetters = new Set([...partitionStreams].map(deadLetterKey))
  const named = new Set(partitioned.map((layout) => layout.topic))
  const plain = found
    .filter((topic) => !partitionStreams.has(topic) && !partitionDeadLetters.has(topic) && !partitionDeadLetters.has(deadLetterKey(topic)) && !named.has(topic))
    .map((topic): TopicLayout => ({topic, streams: [topic], metadata: undefined}))
  return [...partitioned, ...plain].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))
}
