import {hostname} from 'node:os'

import {usageError, type QctlError} from '../errors.js'
import {shortestBackoff, type BackoffPolicy} from './backoff.js'
import {defaultOf, optionSpec, type OptionSpec, type WorkerOptionSpec} from './option-schema.js'
import type {HandlerTracing} from '../trace/handler-tracing.js'
import type {Handler} from './types.js'

/** Defaults and bounds: WORKER_OPTIONS in option-schema.ts (the `qctl work` flags of the same names). */
export interface WorkerOptions {
  topic: string
  group: string
  handler: Handler
  /** Consumer name in the group (its default, `<hostname>-<pid>`, depends on the process). */
  consumer?: string | undefined
  /** Handler calls in flight at most. */
  concurrency?: number | undefined
  /** Deliveries before a failing entry is dead-lettered. */
  maxAttempts?: number | undefined
  backoff?: Partial<BackoffPolicy> | undefined
  /** Idle time after which a dead consumer's entries are taken over. */
  visibilityTimeoutMs?: number | undefined
  /** Abort `ctx.signal` and count a transient failure after this long. */
  handlerTimeoutMs?: number | undefined
  /** How long running handlers may finish after a stop. */
  shutdownTimeoutMs?: number | undefined
  /** Where a new group starts. */
  from?: 'start' | 'latest' | undefined
  /** Dead-letter stream key. */
  deadLetterTopic?: string | undefined
  /** Handle each key's messages one at a time, in stream order (leases on a partitioned topic). */
  ordered?: boolean | undefined
  /** With `ordered`: what a dead-lettered message does to its key's later messages. */
  onDeadLetter?: 'continue' | 'hold-key' | undefined
  /** With `ordered` on a partitioned topic: how long a partition lease lasts unless renewed. */
  leaseTimeoutMs?: number | undefined
  /** Stop once the group has nothing new, nothing pending and no retry waiting. */
  untilEmpty?: boolean | undefined
  /** Trim the streams it reads behind every group of each (src/core/trim/line.ts), every TRIM_ACKED_MS and on a clean exit. */
  trimAcked?: boolean | undefined
  /** Stop after this many entries are handled (processed or dead-lettered). */
  maxMessages?: number | undefined
  /** Entries held beyond the running handlers, read ahead so reads overlap handling. */
  prefetch?: number | undefined
  /** Longest wait of one blocking read (not a flag). Default 1 s (WORKER_DEFAULTS). */
  blockMs?: number | undefined
  /**
   * Remove consumers of the group that hold nothing and have been idle this long (workers that were
   * killed leave theirs behind); `false` turns it off (for consumers named by hand).
   */
  pruneConsumersAfterMs?: number | false | undefined
  /**
   * A span around each handler call (`openTelemetryTracing(api)`); `qctl work` sets it when the
   * handler's project has `@opentelemetry/api` (README, "Traces"). None by default.
   */
  tracing?: HandlerTracing | undefined
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
  ordered: boolean
  onDeadLetter: 'continue' | 'hold-key'
  leaseTimeoutMs: number
  untilEmpty: boolean
  trimAcked: boolean
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
  tracing: HandlerTracing | undefined
}

/** The defaults, from the option schema (option-schema.ts); the two below are not options of `qctl work`. */
export const WORKER_DEFAULTS = {
  backoff: {kind: defaultOf('backoff'), delayMs: defaultOf('backoffDelay'), maxMs: defaultOf('backoffMax'), jitter: 0.2} as BackoffPolicy,
  blockMs: 1000,
} as const

type NumericOption = Extract<WorkerOptionSpec, {kind: 'integer' | 'duration'}>['name']

/** A number option within the schema's bounds, else its default; the message names the flag. */
function bounded(name: NumericOption, value: number | undefined): number | undefined {
  const spec: OptionSpec = optionSpec(name)
  const chosen = value ?? (spec.default as number | undefined)
  const min = spec.min ?? 0
  if (chosen !== undefined && (!Number.isInteger(chosen) || chosen < min)) throw usageError(`--${spec.flag} must be an integer of at least ${min}, not ${String(value)}`)
  return chosen
}

/** `bounded` for an option the schema gives a default. */
function boundedWithDefault(name: NumericOption, value: number | undefined): number {
  const chosen = bounded(name, value)
  if (chosen === undefined) throw new Error(`worker option ${name} has no default in option-schema.ts`)
  return chosen
}

const atLeast = (value: number, min: number, option: string): number => {
  if (!Number.isInteger(value) || value < min) throw usageError(`${option} must be an integer of at least ${min}, not ${String(value)}`)
  return value
}

function onDeadLetterOf(value: string | undefined): 'continue' | 'hold-key' {
  const chosen = value ?? defaultOf('onDeadLetter')
  if (chosen !== 'continue' && chosen !== 'hold-key') throw usageError(`--on-dead-letter must be continue or hold-key, not ${String(value)}`)
  return chosen
}

const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value))

/**
 * The options that mean something only with `ordered`, and why, for the usage error of one given
 * without it (accepted and ignored, a user would believe their key order protected).
 */
export const NEEDS_ORDERED = {
  onDeadLetter: "it says what a dead-lettered message does to its key's later messages, which only --ordered keeps in order",
  leaseTimeout: 'partition leases are taken only by --ordered workers (on a partitioned topic)',
} as const satisfies Partial<Record<WorkerOptionSpec['name'], string>>

/** `--on-dead-letter needs --ordered: …`; `source` names where the value came from when not the flag. */
export const needsOrderedError = (name: keyof typeof NEEDS_ORDERED, source = `--${optionSpec(name).flag}`): QctlError =>
  usageError(`${source} needs --ordered: ${NEEDS_ORDERED[name]}`)

/** Fill in defaults and check bounds; messages name the CLI option. */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  if (options.topic === '') throw usageError('--topic must not be empty')
  if (options.group === '') throw usageError('--group must not be empty')
  if (typeof options.handler !== 'function') throw usageError('the handler must be a function')
  if (options.tracing !== undefined && typeof options.tracing.begin !== 'function') throw usageError('tracing must have a begin function (see openTelemetryTracing)')
  const backoff: BackoffPolicy = {...WORKER_DEFAULTS.backoff, ...options.backoff}
  if (backoff.kind !== 'exponential' && backoff.kind !== 'fixed') throw usageError(`--backoff must be exponential or fixed, not ${String(backoff.kind)}`)
  bounded('backoffDelay', backoff.delayMs)
  bounded('backoffMax', backoff.maxMs)
  const visibilityTimeoutMs = boundedWithDefault('visibilityTimeout', options.visibilityTimeoutMs)
  const prefetch = boundedWithDefault('prefetch', options.prefetch)
  const concurrency = boundedWithDefault('concurrency', options.concurrency)
  const ordered = options.ordered ?? defaultOf('ordered')
  if (!ordered && options.onDeadLetter !== undefined) throw needsOrderedError('onDeadLetter')
  if (!ordered && options.leaseTimeoutMs !== undefined) throw needsOrderedError('leaseTimeout')
  return {
    topic: options.topic,
    group: options.group,
    handler: options.handler,
    consumer: options.consumer ?? `${hostname()}-${process.pid}`,
    concurrency,
    maxAttempts: boundedWithDefault('maxAttempts', options.maxAttempts),
    backoff,
    visibilityTimeoutMs,
    handlerTimeoutMs: bounded('handlerTimeout', options.handlerTimeoutMs),
    shutdownTimeoutMs: boundedWithDefault('shutdownTimeout', options.shutdownTimeoutMs),
    from: options.from ?? defaultOf('from'),
    deadLetterTopic: options.deadLetterTopic,
    ordered,
    onDeadLetter: onDeadLetterOf(options.onDeadLetter),
    leaseTimeoutMs: boundedWithDefault('leaseTimeout', options.leaseTimeoutMs),
    untilEmpty: options.untilEmpty ?? defaultOf('untilEmpty'),
    trimAcked: options.trimAcked ?? defaultOf('trimAcked'),
    maxMessages: bounded('maxMessages', options.maxMessages),
    prefetch,
    // Two reads' worth of read-ahead: one batch waits while the next is fetched, so reads overlap
    // handling. Measured on 1M drains (no-op handler, concurrency 8): reads of 250 or 500 instead of
    // 100 were ~10% faster, 500 no faster than 250 and ~4 MB more peak RSS; hence --prefetch 500.
    maxReadCount: clamp(Math.ceil(prefetch / 2), 1, 500),
    blockMs: atLeast(options.blockMs ?? WORKER_DEFAULTS.blockMs, 10, 'blockMs'),
    heartbeatIntervalMs: Math.floor(visibilityTimeoutMs / 3),
    reclaimIntervalMs: clamp(Math.floor(visibilityTimeoutMs / 4), 50, 5000),
    duePollMs: clamp(Math.floor(shortestBackoff(backoff) / 4), 20, 1000),
    pruneConsumersAfterMs:
      options.pruneConsumersAfterMs === false ? undefined : boundedWithDefault('pruneConsumersAfter', options.pruneConsumersAfterMs),
    tracing: options.tracing,
  }
}
