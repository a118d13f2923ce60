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
  groups: GroupSnapshot[]
  /**
   * `topic`; `orphaned-dead-letters`: the topic was deleted, its dead-letter stream still holds
   * entries (a row with its dead letters); `dead-letter-stream`: a dead-letter stream read by
   * consumer groups of its own (an archiver), with a row per group.
   */
  kind: TopicKind
  /** On a Redis Cluster: the primary (`host:port`) that owns the topic's slot. */
  node?: string
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

export interface FocusDetail extends Focus {
  consumers: ConsumerDetail[]
  /** The oldest pending entries (by ID), with their delivery counts. */
  oldestPending: PendingDetail[]
  /**
   * Entries waiting out a retry backoff: ID -> ms until they may be delivered again (from the
   * group's due set, as of this snapshot). Their idle time counts since the failure, so IDLE can
   * exceed AGE; the detail view says "retry in 12s".
   */
  retryInMs: Map<string, number>
}

/** Where `qctl top` gets its snapshots: Redis in the CLI, a canned sequence in tests. */
export interface SnapshotSource {
  /** One snapshot; with a focus, also that group's detail (in the same round trip). */
  refresh(focus: Focus | null): Promise<Snapshot>
}
