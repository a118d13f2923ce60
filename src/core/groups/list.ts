import type {TopicStats} from '../stats/topic-stats.js'

/** One row of `qctl group list`: a consumer group of a topic (of one partition with --partitions). */
export interface GroupListRow {
  topic: string
  /** The row's partition (`--partitions`); null for a plain topic, or a partitioned topic's row over all its partitions. */
  partition: number | null
  /** How many partitions the topic has: 1 for a plain stream. */
  partitions: number
  group: string
  /** False on a partition's row (`--partitions`) where the group does not exist. */
  groupExists: boolean
  /** Entries in the stream (all partitions'). */
  length: number
  /** Entries not yet delivered to the group (with its replay stream's); null when unknown (never a false 0) and where the group does not exist. */
  lag: number | null
  lagSource: 'redis' | 'counted' | 'unknown' | null
  /** Delivered, not yet acknowledged (retries waiting out their backoff included). */
  pending: number
  consumers: number
  /** Consumers seen within the last minute (`lag`'s active window). */
  liveConsumers: number
  /**
   * The group's last-delivered ID: its position; over all partitions the newest of the partitions'
   * (each partition has its own: `--partitions`). Null where the group does not exist.
   */
  lastDeliveredId: string | null
  /** The group's entries-read counter (summed over partitions); null when Redis does not know it. */
  entriesRead: number | null
  /** Entries replayed to the group (`qctl dlq replay`) not yet acknowledged: counted in lag and pending. */
  replayed: number
  /** On a Redis Cluster, the primary that owns the stream; null on a single server and for a row over partitions. */
  node: string | null
}

const byName = new Intl.Collator().compare

/**
 * The rows of `group list`, from the statistics `lag` reads (stats/topic-stats.ts, merged over
 * partitions by partitioned-stats.ts): a row per topic and group, sorted by topic then group (then
 * partition); a topic without groups has none. With `perPartition`, a partitioned topic gets a row
 * per partition for each of its groups, `groupExists: false` where the group is missing. Pure.
 */
export function groupListRows(stats: readonly TopicStats[], perPartition = false): GroupListRow[] {
  const rows: GroupListRow[] = []
  for (const topic of stats) {
    const partitions = topic.partitions?.length ?? 1
    const shown = perPartition && topic.partitions !== undefined ? topic.partitions : [topic]
    const names = topic.groups.map((group) => group.name)
    for (const part of shown) {
      for (const name of names) {
        const group = part.groups.find((candidate) => candidate.name === name)
        // Built field by field: the --json shape is documented, keep its order stable.
        rows.push({
          topic: topic.topic,
          partition: part.partition,
          partitions,
          group: name,
          groupExists: group !== undefined,
          length: part.length,
          lag: group?.lag ?? null,
          lagSource: group === undefined ? null : group.lagSource,
          pending: group?.pending ?? 0,
          consumers: group?.consumers ?? 0,
          liveConsumers: group?.activeConsumers ?? 0,
          lastDeliveredId: group === undefined || group.lastDeliveredId === '' ? null : group.lastDeliveredId,
          entriesRead: group?.entriesRead ?? null,
          replayed: group?.replayed ?? 0,
          node: part.node,
        })
      }
    }
  }
  return rows.sort((a, b) => byName(a.topic, b.topic) || byName(a.group, b.group) || (a.partition ?? -1) - (b.partition ?? -1))
}
