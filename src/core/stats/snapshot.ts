import type {BusiestKey} from './busiest-keys.js'
import type {ConsumerDetail, PendingDetail} from './details.js'

/**
 * A point-in-time reading of Redis's own stream counters, for `qctl top`: rates are the
 * differences between two snapshots, so they are right for any producer or consumer (qctl or
 * not, one worker or many).
 */
export interface GroupSnapshot {
  name: string
  /** Entries delivered to the group so far (XINFO GROUPS entries-read, Redis 7.0+); null if unknown. */
  entriesRead: number | null
  lag: number | null
  pending: number
  /** Of `pending`, the entries parked waiting out a retry backoff (qctl's parked consumer); null until known. */
  parkedPending: number | null
  oldestPendingId: string | null
  /** Since the oldest pending entry was last delivered (XPENDING idle time); null when nothing is pending. */
  oldestPendingIdleMs: number | null
  consumers: number
  /** Consumers that read in the last minute; null until known. */
  activeConsumers: number | null
}

export interface TopicSnapshot {
  topic: string
  length: number
  /** Entries ever added (XINFO STREAM entries-added); null if unknown. */
  entriesAdded: number | null
  deadLetters: number
  /** Entries ever added to the dead-letter stream; null if it does not exist. */
  deadLettersAdded: number | null
  /** Messages held in the schedule until due (publish --delay / --at); null when it could not be read. */
  scheduled: number | null
  /** Of `scheduled`, those past their due time and not appended (nothing moves them); null when unknown. */
  scheduledDue: number | null
  groups: GroupSnapshot[]
  /**
   * `topic`; `orphaned-dead-letters`: the topic was deleted, its dead-letter stream still holds
   * entries (a row with its dead letters); `dead-letter-stream`: a dead-letter stream read by
   * consumer groups of its own (an archiver), with a row per group.
   */
  kind: TopicKind
  /** On a Redis Cluster: the primary (`host:port`) that owns the topic's slot (none for a partitioned topic: see its partitions). */
  node?: string
  /**
   * A partitioned topic (`qctl topic create`): its partitions as read, in partition order. The
   * figures above are their merge (snapshot-partitioned.ts, by partitioned-stats.ts's rules); rates
   * are worked out per partition and summed (partitioned-rates.ts).
   */
  partitions?: PartitionSnapshot[]
}

/** One partition of a partitioned topic: its own stream (on a cluster, in its own slot, maybe on its own node). */
export interface PartitionSnapshot {
  partition: number
  stream: string
  /** On a Redis Cluster: the primary that owns the partition's slot; null on a single server. */
  node: string | null
  length: number
  entriesAdded: number | null
  deadLetters: number
  deadLettersAdded: number | null
  scheduled: number | null
  scheduledDue: number | null
  groups: GroupSnapshot[]
}

export type TopicKind = 'topic' | 'orphaned-dead-letters' | 'dead-letter-stream'

export interface Snapshot {
  /** When it was taken (ms since the epoch). */
  at: number
  /** On a Redis Cluster: its primaries (`host:port`) when the snapshot was taken. */
  clusterNodes?: string[]
  topics: TopicSnapshot[]
  /** Detail of the focused group, when one was asked for and exists. */
  focus: FocusDetail | null
}

/** The group whose consumers and oldest pending entries the screen shows in detail. */
export interface Focus {
  topic: string
  group: string
}

/** A pending entry of the detail; of a partitioned topic, with the partition it is in. */
export interface FocusPending extends PendingDetail {
  partition?: number
}

export interface FocusDetail extends Focus {
  /** Of a partitioned topic: merged by name over the partitions (pending summed, idle and inactive the least). */
  consumers: ConsumerDetail[]
  /** The oldest pending entries (by ID; of a partitioned topic, across its partitions), with their delivery counts. */
  oldestPending: FocusPending[]
  /**
   * Entries waiting out a retry backoff: pendingEntryKey -> ms until they may be delivered again
   * (from the group's due set, of a partitioned topic each partition's, as of this snapshot). Their
   * idle time counts since the failure, so IDLE can exceed AGE; the detail view says "retry in 12s".
   */
  retryInMs: Map<string, number>
  /**
   * The keys with the most messages waiting behind an earlier one of theirs, as the group's ordered
   * workers report them (busiest-keys.ts): over its workers and partitions, most first, at most
   * BUSIEST_KEYS_SHOWN; empty when no worker reports a waiting key (not an ordered group, its workers
   * stopped, nothing waits, or the role may not read the reports).
   */
  busiestKeys: BusiestKey[]
  /** Of a partitioned topic: how many partitions it has (the detail was read from all of them). */
  partitions?: number
}

/**
 * A pending entry's key in `retryInMs`: its ID, with its partition in front for a partitioned topic
 * (two partitions' streams may hold the same ID).
 */
export const pendingEntryKey = (entry: {id: string; partition?: number | undefined}): string => (entry.partition === undefined ? entry.id : `${entry.partition}/${entry.id}`)

/** Where `qctl top` gets its snapshots: Redis in the CLI, a canned sequence in tests. */
export interface SnapshotSource {
  /** One snapshot; with a focus, also that group's detail (in the same round trip). */
  refresh(focus: Focus | null): Promise<Snapshot>
}
