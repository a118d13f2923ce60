import {hostname} from 'node:os'

import {usageError} from '../errors.js'
import {shortestBackoff, type BackoffPolicy} from './backoff.js'
import type {Handler} from './types.js'

export interface WorkerOptions {
  topic: string
  group: string
  handler: Handler
  /** Default: `<hostname>-<pid>`. */
  consumer?: string | undefined
  /** Handler calls in flight at most. Default 1. */
  concurrency?: number | undefined
  /** Deliveries before a failing entry is dead-lettered. Default 5. */
  maxAttempts?: number | undefined
  backoff?: Partial<BackoffPolicy> | undefined
  /** Idle time after which a dead consumer's entries are taken over. Default 30 s. */
  visibilityTimeoutMs?: number | undefined
  /** Abort `ctx.signal` and count a transient failure after this long. Default: none. */
  handlerTimeoutMs?: number | undefined
  /** How long running handlers may finish after a stop. Default 30 s. */
  shutdownTimeoutMs?: number | undefined
  /** Where a new group starts. Default `start`. */
  from?: 'start' | 'latest' | undefined
  /** Dead-letter stream key. Default: derived from the topic (keys.ts). */
  deadLetterTopic?: string | undefined
  /** Stop once the group has nothing new, nothing pending and no retry waiting. */
  untilEmpty?: boolean | undefined
  /** Stop after this many entries are handled (processed or dead-lettered). */
  maxMessages?: number | undefined
  /** Entries held beyond the running handlers, read ahead so reads overlap handling. Default 100. */
  prefetch?: number | undefined
  /** Longest wait of one blocking read. Default 1 s. */
  blockMs?: number | undefined
  /**
   * Remove consumers of the group that hold nothing and have been idle this long (workers that were
   * killed leave theirs behind). Default 1 hour; `false` turns it off (for consumers named by hand).
   */
  pruneConsumersAfterMs?: number | false | undefined
}

export interface ResolvedWorkerOptions {
  topic: string
  group: string
  handler: Handler
  consumer: string
  concurrency: number
  maxAttempts: number
  backoff: BackoffPolicy
  visibilityTimeoutMs: number
  handlerTimeoutMs: number | undefined
  shutdownTimeoutMs: number
  from: 'start' | 'latest'
  deadLetterTopic: string | undefined
  untilEmpty: boolean
  maxMessages: number | undefined
  /** The most entries read ahead beyond the running handlers (the read-ahead adapts below it: see ReadAhead). */
  prefetch: number
  /** COUNT of the largest read. */
  maxReadCount: number
  blockMs: number
  /** How often held entries are renewed: well inside the visibility timeout. */
  heartbeatIntervalMs: number
  /** How often the group's consumers are checked for entries to take over (dead workers) and for pruning. */
  reclaimIntervalMs: number
  /** Longest sleep of the due-retry loop when nothing is due sooner (retries parked by other workers are found within it). */
  duePollMs: number
  /** See WorkerOptions; undefined when off. */
  pruneConsumersAfterMs: number | undefined
}

export const WORKER_DEFAULTS = {
  concurrency: 1,
  maxAttempts: 5,
  backoff: {kind: 'exponential', delayMs: 1000, maxMs: 5 * 60_000, jitter: 0.2} as BackoffPolicy,
  visibilityTimeoutMs: 30_000,
  shutdownTimeoutMs: 30_000,
  prefetch: 500,
  blockMs: 1000,
  pruneConsumersAfterMs: 60 * 60_000,
} as const

const positiveInteger = (value: number | undefined, fallback: number, option: string, min = 1): number => {
  const chosen = value ?? fallback
  if (!Number.isInteger(chosen) || chosen < min) throw usageError(`${option} must be an integer of at least ${min}, not ${String(value)}`)
  return chosen
}

const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value))

/** Fill in defaults and check bounds; messages name the CLI option. */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  if (options.topic === '') throw usageError('--topic must not be empty')
  if (options.group === '') throw usageError('--group must not be empty')
  if (typeof options.handler !== 'function') throw usageError('the handler must be a function')
  const backoff: BackoffPolicy = {...WORKER_DEFAULTS.backoff, ...options.backoff}
  if (backoff.kind !== 'exponential' && backoff.kind !== 'fixed') throw usageError(`--backoff must be exponential or fixed, not ${String(backoff.kind)}`)
  positiveInteger(backoff.delayMs, 0, '--backoff-delay', 0)
  positiveInteger(backoff.maxMs, 0, '--backoff-max', 0)
  const visibilityTimeoutMs = positiveInteger(options.visibilityTimeoutMs, WORKER_DEFAULTS.visibilityTimeoutMs, '--visibility-timeout', 100)
  const prefetch = positiveInteger(options.prefetch, WORKER_DEFAULTS.prefetch, '--prefetch', 0)
  const concurrency = positiveInteger(options.concurrency, WORKER_DEFAULTS.concurrency, '--concurrency')
  return {
    topic: options.topic,
    group: options.group,
    handler: options.handler,
    consumer: options.consumer ?? `${hostname()}-${process.pid}`,
    concurrency,
    maxAttempts: positiveInteger(options.maxAttempts, WORKER_DEFAULTS.maxAttempts, '--max-attempts'),
    backoff,
    visibilityTimeoutMs,
    handlerTimeoutMs: options.handlerTimeoutMs === undefined ? undefined : positiveInteger(options.handlerTimeoutMs, 0, '--handler-timeout'),
    shutdownTimeoutMs: positiveInteger(options.shutdownTimeoutMs, WORKER_DEFAULTS.shutdownTimeoutMs, '--shutdown-timeout', 0),
    from: options.from ?? 'start',
    deadLetterTopic: options.deadLetterTopic,
    untilEmpty: options.untilEmpty ?? false,
    maxMessages: options.maxMessages === undefined ? undefined : positiveInteger(options.maxMessages, 0, '--max-messages'),
    prefetch,
    // Two reads' worth of read-ahead: one batch waits while the next is fetched, so reads overlap
    // handling. Measured on 1M drains (no-op handler, concurrency 8): reads of 250 or 500 instead of
    // 100 were ~10% faster, 500 no faster than 250 and ~4 MB more peak RSS; hence --prefetch 500.
    maxReadCount: clamp(Math.ceil(prefetch / 2), 1, 500),
    blockMs: positiveInteger(options.blockMs, WORKER_DEFAULTS.blockMs, 'blockMs', 10),
    heartbeatIntervalMs: Math.floor(visibilityTimeoutMs / 3),
    reclaimIntervalMs: clamp(Math.floor(visibilityTimeoutMs / 4), 50, 5000),
    duePollMs: clamp(Math.floor(shortestBackoff(backoff) / 4), 20, 1000),
    pruneConsumersAfterMs:
      options.pruneConsumersAfterMs === false ? undefined : positiveInteger(options.pruneConsumersAfterMs, WORKER_DEFAULTS.pruneConsumersAfterMs, '--prune-consumers-after', 1000),
  }
}
