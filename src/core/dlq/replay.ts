import type {Redis} from 'ioredis'

import {QctlError, usageError} from '../errors.js'
import {keyTypeOf, notAStreamText} from '../redis/key-type.js'
import {classifyRedisError, isErrorReply, isWrongType, type RedisErrorContext} from '../redis/redis-errors.js'
import {callScript, type ScriptSpec} from '../scripts.js'
import {sleep} from '../sleep.js'
import {pacing} from './pacing.js'
import type {DlqPlan} from './plan.js'
import {dlqLength} from './read.js'

const REPLAY: ScriptSpec = {name: 'qctlReplay', file: 'replay-2.lua', keys: 2}

/** The result of `qctl dlq replay` (its `--json` output). */
export interface ReplayResult {
  /** The dead-letter stream. */
  dlq: string
  /** The topic entries were (or would be) replayed to. */
  topic: string
  dryRun: boolean
  /** Answered no at the confirmation prompt: nothing changed. */
  cancelled: boolean
  /** Entries selected. */
  selected: number
  /** Entries moved back onto the topic. */
  replayed: number
  /** Selected, but gone when their turn came (replayed or purged by someone else meanwhile). */
  skipped: number
  /** Entries left in the dead-letter stream afterwards. */
  remaining: number
  /** The new topic entry IDs, in replay order; with dryRun, the dead-letter IDs that would move. */
  ids: string[]
  /** `--id` values not found in the dead-letter stream. */
  notFound: string[]
  durationMs: number
}

export interface ReplayProgress {
  replayed: number
  skipped: number
  total: number
}

export interface ReplayOptions {
  topic: string
  /** Entries per second at most; unlimited when undefined. */
  ratePerSecond?: number | undefined
}

export interface ReplayHooks {
  /** Stop after the batch in flight: the run ends with an INTERRUPTED error saying how far it got. */
  signal?: AbortSignal | undefined
  onProgress?: ((progress: ReplayProgress) => void) | undefined
  /** To name the server in connection errors. */
  errorContext?: RedisErrorContext | undefined
  now?: () => Date
}

/** A result for a run that changed nothing (dry run, declined, nothing selected). */
export function unchangedReplay(plan: DlqPlan, topic: string, flags: {dryRun: boolean; cancelled: boolean}): ReplayResult {
  return {
    dlq: plan.key,
    topic,
    dryRun: flags.dryRun,
    cancelled: flags.cancelled,
    selected: plan.ids.length,
    replayed: 0,
    skipped: 0,
    remaining: plan.length,
    ids: flags.dryRun ? [...plan.ids] : [],
    notFound: plan.notFound,
    durationMs: 0,
  }
}

const progressText = (progress: ReplayProgress): string =>
  `replayed ${progress.replayed} of ${progress.total}${progress.skipped > 0 ? ` (${progress.skipped} already gone)` : ''}`

const CONTINUE = 'run the same command again to continue with what is left (nothing is replayed twice)'

/**
 * Move the planned entries back onto the topic, oldest first, each in one atomic step
 * (src/lua/replay-2.lua): the original fields are added to the topic with a replay record in
 * their headers and the dead-letter entry is deleted, or nothing happens. Killed at any moment,
 * every entry is either on the topic or still in the dead-letter stream, never both, never
 * neither; running again continues with what is left.
 */
export async function replayPlan(redis: Redis, plan: DlqPlan, options: ReplayOptions, hooks: ReplayHooks = {}): Promise<ReplayResult> {
  const started = Date.now()
  const pace = pacing(options.ratePerSecond)
  const now = hooks.now ?? (() => new Date())
  const progress: ReplayProgress = {replayed: 0, skipped: 0, total: plan.ids.length}
  const newIds: string[] = []
  for (let index = 0; index < plan.ids.length; index += pace.batch) {
    await sleep(started + pace.startAtMs(index) - Date.now(), hooks.signal)
    if (hooks.signal?.aborted === true) {
      throw new QctlError('INTERRUPTED', `interrupted: ${progressText(progress)}; ${CONTINUE}`, {details: {...progress}})
    }
    const batch = plan.ids.slice(index, index + pace.batch)
    const at = now().toISOString()
    // Sent together on one connection: Redis runs them in this order, each atomically.
    const replies = await Promise.allSettled(batch.map(async (id) => callScript(redis, REPLAY, [plan.key, options.topic, id, at])))
    let failure: unknown
    let unanswered = 0
    for (const reply of replies) {
      if (reply.status === 'rejected') {
        failure ??= reply.reason
        // No reply (a timeout, a lost connection): the entry moved or not, atomically; a rerun sees which.
        if (!isErrorReply(reply.reason)) unanswered++
      } else if (typeof reply.value === 'string') {
        newIds.push(reply.value)
        progress.replayed++
      } else progress.skipped++
    }
    if (failure !== undefined) throw failedDuring(await wrongType(redis, failure, options.topic), progress, hooks.errorContext, options.topic, unanswered)
    hooks.onProgress?.({...progress})
  }
  return {
    dlq: plan.key,
    topic: options.topic,
    dryRun: false,
    cancelled: false,
    selected: plan.ids.length,
    replayed: progress.replayed,
    skipped: progress.skipped,
    remaining: await dlqLength(redis, plan.key).catch((error: unknown) => {
      throw failedDuring(error, progress, hooks.errorContext, options.topic, 0)
    }),
    ids: newIds,
    notFound: plan.notFound,
    durationMs: Date.now() - started,
  }
}

/** The dead-letter stream was read as a stream already: a WRONGTYPE here is about the topic. */
async function wrongType(redis: Redis, error: unknown, topic: string): Promise<unknown> {
  if (!isWrongType(error)) return error
  const type = await keyTypeOf(redis, topic)
  return usageError(`topic ${notAStreamText(topic, type)}, so nothing can be replayed onto it`, {cause: error, details: {key: topic, type: type ?? null}})
}

/** A failure mid-run, saying how far the run got and that a rerun continues. */
function failedDuring(error: unknown, progress: ReplayProgress, context: RedisErrorContext | undefined, topic: string, unanswered: number): unknown {
  const typed = error instanceof QctlError ? error : context === undefined ? undefined : classifyRedisError(error, context, {key: topic})
  if (typed === undefined) return error
  // Nothing moved yet and rerunning would not help: the error alone says it all.
  if (progress.replayed + progress.skipped === 0 && ['USAGE', 'NO_PERMISSION', 'AUTH_FAILED'].includes(typed.code)) return typed
  const message = typed.message.replace(/^cannot connect to /, 'lost connection to ')
  const inDoubt = unanswered === 0 ? '' : `, and ${unanswered} more may have moved (sent without a reply)`
  return new QctlError(typed.code, `${message}; ${progressText(progress)}${inDoubt}; ${CONTINUE}`, {
    cause: error,
    details: {...progress, inDoubt: unanswered},
    suggestion: typed.suggestion,
  })
}
