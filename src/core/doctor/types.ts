import {defaultOf} from '../worker/option-schema.js'

/**
 * What `qctl doctor` reports (its `--json` is a DoctorResult; documented in the README, "qctl doctor").
 * Every finding says how bad it is, where (topic, partition, group, consumer, key, node), what was
 * seen (message and evidence) and the command that fixes it.
 */

export type Severity = 'error' | 'warn' | 'info'

/** The checks, in the order findings are listed; `--skip` takes these names. */
export const CHECK_IDS = [
  'stuck-consumer',
  'unreclaimed-pending',
  'never-acknowledged',
  'leftover-consumer',
  'unknown-lag',
  'unbounded-stream',
  'growing-dlq',
  'overdue-scheduled',
  'orphan-retry-records',
  'wrong-type',
  'bad-metadata',
  'server-settings',
] as const

export type CheckId = (typeof CHECK_IDS)[number]

export type Evidence = Record<string, string | number | boolean | null | string[]>

export interface Finding {
  check: CheckId
  severity: Severity
  /** The topic the key belongs to (a partitioned topic's name for its partitions and their keys); null for the server's settings. */
  topic: string | null
  /** The partition of a partitioned topic the key belongs to; null for a plain topic's keys. */
  partition: number | null
  group: string | null
  consumer: string | null
  /** The Redis key the finding is about; null for the server's settings. */
  key: string | null
  /** The server (`host:port`; on a Redis Cluster, the primary that owns the key). */
  node: string | null
  /** What is wrong, with its figures, in one line. */
  message: string
  /** The same figures, for scripts (names per check: README). */
  evidence: Evidence
  /** The command that fixes it (HANDLER: your handler module). */
  fix: string
}

export interface DoctorThresholds {
  /** The visibility timeout the workers use: entries idle twice as long, or consumers holding some silent that long, are stuck. */
  visibilityTimeoutMs: number
  /** Consumers that hold nothing and were idle this long are leftovers. */
  leftoverAfterMs: number
  /** A stream never trimmed that holds more entries than this grows without bound. */
  maxUntrimmed: number
  /** A dead-letter stream that received at least `dlqGrowth` entries within this window grows. */
  dlqWindowMs: number
  dlqGrowth: number
  /** Pending entries (the oldest) and retry records read per group or hash, at most. */
  sample: number
}

export const DEFAULT_THRESHOLDS: DoctorThresholds = {
  visibilityTimeoutMs: defaultOf('visibilityTimeout'),
  leftoverAfterMs: defaultOf('pruneConsumersAfter'),
  maxUntrimmed: 100_000,
  dlqWindowMs: 60 * 60_000,
  dlqGrowth: 1,
  sample: 100,
}

/** Idle past this (twice the visibility timeout), an entry or a consumer holding entries is stuck: a running worker takes such entries within a visibility timeout and a quarter. */
export const stuckAfterMs = (thresholds: DoctorThresholds): number => 2 * thresholds.visibilityTimeoutMs

/** What became of a leftover consumer under `--fix`. */
export interface FixOutcome {
  topic: string
  partition: number | null
  key: string
  group: string
  consumer: string
  /** `kept`: the check inside Redis found it no longer a leftover (see `reason`). */
  outcome: 'removed' | 'would-remove' | 'kept'
  /** Why it was kept: it holds pending entries now, it was active since the look, or it is gone. */
  reason: 'holds-pending' | 'active' | 'gone' | null
  /** Its pending entries when kept for holding some. */
  pending: number | null
}

export interface FixReport {
  dryRun: boolean
  /** Declined at the prompt: nothing removed. */
  cancelled: boolean
  removed: number
  kept: number
  consumers: FixOutcome[]
}

export interface DoctorResult {
  /** The server's product and version (`redis 7.0.15`), null when it will not say. */
  server: string | null
  /** The servers looked at: the one server, or every primary of a Redis Cluster. */
  nodes: string[]
  looked: {topics: number; partitionedTopics: number; streams: number; groups: number; consumers: number; retryHashes: number; schedules: number}
  thresholds: DoctorThresholds & {stuckAfterMs: number}
  skipped: CheckId[]
  findings: Finding[]
  counts: Record<Severity, number>
  failOn: 'warn' | 'error'
  /** A finding at or above `failOn` that `--fix` did not fix: exit 8. */
  failed: boolean
  /** Null without `--fix`. */
  fix: FixReport | null
  tookMs: number
}
