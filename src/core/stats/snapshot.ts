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
  oldestPendingId: string | null
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
}

export interface Snapshot {
  /** When it was taken (ms since the epoch). */
  at: number
  topics: TopicSnapshot[]
}
