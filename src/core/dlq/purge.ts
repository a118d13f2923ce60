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
  onProgress?: ((progress: PurgeProgress) => void) | undefined
  errorContext?: RedisErrorContext | undefined
  /**
   * One purge over several dead-letter streams (a partitioned topic's partitions, one after the
   * other): what the streams done before purged, and the whole run's selection, so that progress and
   * errors count the whole run. The caller adds each stream's purged entries when its purgePlan returns.
   */
  run?: PurgeProgress | undefined
}

export interface PurgeProgress {
  purged: number
  total: number
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
  const run = hooks.run ?? {purged: 0, total: plan.ids.length}
  const overall = (): PurgeProgress => ({purged: run.purged + purged, total: run.total})
  for (let index = 0; index < plan.ids.length; index += PURGE_BATCH) {
    if (hooks.signal?.aborted === true) {
      throw new QctlError('INTERRUPTED', `interrupted: purged ${overall().purged} of ${run.total}; run the same command again to delete the rest`, {
        details: {...overall()},
      })
    }
    try {
      purged += await redis.xdel(plan.key, ...plan.ids.slice(index, index + PURGE_BATCH))
    } catch (error) {
      if (isWrongType(error)) throw await dlqErrorIn(redis, error, plan.key)
      throw failedDuring(error, plan.key, overall(), hooks.errorContext)
    }
    hooks.onProgress?.(overall())
  }
  return {
    dlq: plan.key,
    dryRun: false,
    cancelled: false,
    selected: plan.ids.length,
    purged,
    remaining: await dlqLength(redis, plan.key).catch((error: unknown) => {
      throw failedDuring(error, plan.key, overall(), hooks.errorContext)
    }),
    ids: [...plan.ids],
    notFound: plan.notFound,
    durationMs: Date.now() - started,
  }
}

/** A failure mid-run, saying how far the run got and that a rerun deletes the rest. */
function failedDuring(error: unknown, key: string, progress: PurgeProgress, context: RedisErrorContext | undefined): unknown {
  // Already typed (the dead-letter key is not a stream): it says it all.
  if (error instanceof QctlError) return error
  const typed = context === undefined ? undefined : classifyRedisError(error, context, {key})
  if (typed === undefined) return error
  const message = typed.message.replace(/^cannot connect to /, 'lost connection to ')
  // An XDEL without a reply may have deleted its entries: deleting them again is harmless.
  return new QctlError(typed.code, `${message}; purged ${progress.purged} of ${progress.total}; run the same command again to delete the rest`, {
    cause: error,
    details: {...progress},
  })
}
