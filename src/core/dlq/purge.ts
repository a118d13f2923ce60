import {QctlError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import {classifyRedisError, isWrongType, type RedisErrorContext} from '../redis/redis-errors.js'
import type {DlqPlan} from './plan.js'
import {dlqErrorIn, dlqLength} from './read.js'

/** The result of `qctl dlq purge` (its `--json` output). */
export interface PurgeResult {
  /** The dead-letter stream. */
  dlq: string
  dryRun: boolean
  /** Answered no at the confirmation prompt: nothing changed. */
  cancelled: boolean
  /** Entries selected. */
  selected: number
  /** Entries deleted (selected entries already gone are not counted). */
  purged: number
  /** Entries left in the dead-letter stream afterwards. */
  remaining: number
  /** The selected dead-letter IDs: deleted, or with dryRun, that would be deleted; empty when cancelled. */
  ids: string[]
  /** `--id` values not found in the dead-letter stream. */
  notFound: string[]
  durationMs: number
}

export interface PurgeHooks {
  signal?: AbortSignal | undefined
  onProgress?: ((progress: {purged: number; total: number}) => void) | undefined
  errorContext?: RedisErrorContext | undefined
}

/** IDs per XDEL. */
const PURGE_BATCH = 1000

export function unchangedPurge(plan: DlqPlan, flags: {dryRun: boolean; cancelled: boolean}): PurgeResult {
  return {
    dlq: plan.key,
    dryRun: flags.dryRun,
    cancelled: flags.cancelled,
    selected: plan.ids.length,
    purged: 0,
    remaining: plan.length,
    ids: flags.cancelled ? [] : [...plan.ids],
    notFound: plan.notFound,
    durationMs: 0,
  }
}

/**
 * Delete exactly the planned entries (captured before anything changed), so entries
 * dead-lettered while the purge runs survive it. Each XDEL is atomic; a rerun deletes what is left.
 */
export async function purgePlan(redis: RedisClient, plan: DlqPlan, hooks: PurgeHooks = {}): Promise<PurgeResult> {
  const started = Date.now()
  let purged = 0
  for (let index = 0; index < plan.ids.length; index += PURGE_BATCH) {
    if (hooks.signal?.aborted === true) {
      throw new QctlError('INTERRUPTED', `interrupted: purged ${purged} of ${plan.ids.length}; run the same command again to delete the rest`, {
        details: {purged, total: plan.ids.length},
      })
    }
    try {
      purged += await redis.xdel(plan.key, ...plan.ids.slice(index, index + PURGE_BATCH))
    } catch (error) {
      if (isWrongType(error)) throw await dlqErrorIn(redis, error, plan.key)
      throw failedDuring(error, plan, purged, hooks.errorContext)
    }
    hooks.onProgress?.({purged, total: plan.ids.length})
  }
  return {
    dlq: plan.key,
    dryRun: false,
    cancelled: false,
    selected: plan.ids.length,
    purged,
    remaining: await dlqLength(redis, plan.key).catch((error: unknown) => {
      throw failedDuring(error, plan, purged, hooks.errorContext)
    }),
    ids: [...plan.ids],
    notFound: plan.notFound,
    durationMs: Date.now() - started,
  }
}

/** A failure mid-run, saying how far the run got and that a rerun deletes the rest. */
function failedDuring(error: unknown, plan: DlqPlan, purged: number, context: RedisErrorContext | undefined): unknown {
  // Already typed (the dead-letter key is not a stream): it says it all.
  if (error instanceof QctlError) return error
  const typed = context === undefined ? undefined : classifyRedisError(error, context, {key: plan.key})
  if (typed === undefined) return error
  const message = typed.message.replace(/^cannot connect to /, 'lost connection to ')
  // An XDEL without a reply may have deleted its entries: deleting them again is harmless.
  return new QctlError(typed.code, `${message}; purged ${purged} of ${plan.ids.length}; run the same command again to delete the rest`, {
    cause: error,
    details: {purged, total: plan.ids.length},
  })
}
