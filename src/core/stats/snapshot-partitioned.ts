import type {TopicLayout} from '../partitions/metadata.js'
import {groupNamesOf, mergeGroupFigures, missingGroupWarning, sumKnown} from './partitioned-stats.js'
import type {GroupSnapshot, PartitionSnapshot, TopicSnapshot} from './snapshot.js'

/** A warning with what it is about: said once per key (a group missing on partitions says its growing entry count once). */
export interface KeyedWarning {
  key: string
  text: string
}

/**
 * A reading's rows with its partitioned topics merged: the streams read that are partitions of
 * `layouts` become their topic's `partitions`, and the topic one row of figures merged by
 * partitioned-stats.ts's rules (as `lag` shows it). Every layout gets a topic, its streams read or
 * not (its metadata says it exists). `nodeOf`: on a cluster, the primary each stream was read from.
 */
export function withPartitionedTopics(read: TopicSnapshot[], layouts: readonly TopicLayout[], nodeOf?: ReadonlyMap<string, string>): {topics: TopicSnapshot[]; warnings: KeyedWarning[]} {
  if (layouts.length === 0) return {topics: read, warnings: []}
  const partitionStreams = new Set<string>()
  for (const layout of layouts) for (const stream of layout.streams) partitionStreams.add(stream)
  const byStream = new Map<string, TopicSnapshot>()
  const topics: TopicSnapshot[] = []
  for (const topic of read) {
    if (topic.kind !== 'dead-letter-stream' && partitionStreams.has(topic.topic)) byStream.set(topic.topic, topic)
    else topics.push(topic)
  }
  const warnings: KeyedWarning[] = []
  for (const layout of layouts) {
    const merged = partitionedSnapshot(layout, byStream, nodeOf)
    topics.push(merged.topic)
    for (const warning of merged.warnings) warnings.push(warning)
  }
  return {topics, warnings}
}

/** One partitioned topic from its partitions' readings (by stream name). */
export function partitionedSnapshot(layout: TopicLayout, byStream: ReadonlyMap<string, TopicSnapshot>, nodeOf?: ReadonlyMap<string, string>): {topic: TopicSnapshot; warnings: KeyedWarning[]} {
  const partitions = layout.streams.map((stream, partition) => partitionOf(byStream.get(stream), stream, partition, nodeOf?.get(stream) ?? null))
  const groups: GroupSnapshot[] = []
  const warnings: KeyedWarning[] = []
  for (const name of groupNamesOf(partitions)) {
    const {figures, present, missing} = mergeGroupFigures(partitions.map((partition) => ({partition: partition.partition, length: partition.length, group: groupNamed(partition, name)})))
    // What only `top` has: the retries parked waiting out their backoff (for the stall rule).
    let parkedPending: number | null = 0
    for (const group of present) parkedPending = parkedPending === null || group.parkedPending === null ? null : parkedPending + group.parkedPending
    groups.push({name, ...figures, parkedPending})
    if (missing.length > 0) warnings.push({key: `${layout.topic}\u0000${name}`, text: missingGroupWarning(layout, name, missing)})
  }
  let length = 0
  let deadLetters = 0
  let entriesAdded: number | null = 0
  let deadLettersAdded: number | null = 0
  for (const partition of partitions) {
    length += partition.length
    deadLetters += partition.deadLetters
    entriesAdded = entriesAdded === null || partition.entriesAdded === null ? null : entriesAdded + partition.entriesAdded
    deadLettersAdded = deadLettersAdded === null || partition.deadLettersAdded === null ? null : deadLettersAdded + partition.deadLettersAdded
  }
  const scheduled = sumKnown(partitions.map((partition) => partition.scheduled))
  const scheduledDue = sumKnown(partitions.map((partition) => partition.scheduledDue))
  return {topic: {topic: layout.topic, length, entriesAdded, deadLetters, deadLettersAdded, scheduled, scheduledDue, groups, kind: 'topic', partitions}, warnings}
}

function groupNamed(partition: PartitionSnapshot, name: string): GroupSnapshot | undefined {
  for (const group of partition.groups) if (group.name === name) return group
  return undefined
}

/**
 * A partition as read. Without a row its stream does not exist yet (nothing published to it, no
 * group created): empty, nothing ever added (so its first entries count as added, not as a reset). A
 * stream gone with dead letters left came back as an orphan row: its dead letters, nothing else.
 */
function partitionOf(read: TopicSnapshot | undefined, stream: string, partition: number, node: string | null): PartitionSnapshot {
  if (read === undefined || read.kind === 'orphaned-dead-letters') {
    return {partition, stream, node, length: 0, entriesAdded: 0, deadLetters: read?.deadLetters ?? 0, deadLettersAdded: null, scheduled: read?.scheduled ?? 0, scheduledDue: read?.scheduledDue ?? 0, groups: []}
  }
  return {
    partition,
    stream,
    node: read.node ?? node,
    length: read.length,
    entriesAdded: read.entriesAdded,
    deadLetters: read.deadLetters,
    deadLettersAdded: read.deadLettersAdded,
    scheduled: read.scheduled,
    scheduledDue: read.scheduledDue,
    groups: read.groups,
  }
}
