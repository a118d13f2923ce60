import type {RedisClient} from '../redis/client.js'
import {purgePlan, unchangedPurge, type PurgeHooks, type PurgeProgress, type PurgeResult} from './purge.js'
import type {DlqScopePlan} from './scope-plan.js'

/** One partition's part of a purge (`partitions` in `qctl dlq purge --json`). */
export interface PartitionPurge {
  partition: number
  /** Its dead-letter stream. */
  dlq: string
  selected: number
  purged: number
  /** Entries left in its dead-letter stream afterwards. */
  remaining: number
}

/**
 * The result of `qctl dlq purge` (its `--json` output): PurgeResult over a scope. Counts are sums over
 * the partitions; `ids` are listed partition by partition, in `partitions`' order.
 */
export interface DlqPurgeResult extends Omit<PurgeResult, 'dlq'> {
  topic: string
  /** The dead-letter stream when there was one (a plain topic's, or the one of `--partition`); null over several partitions. */
  dlq: string | null
  partitioned: boolean
  /** Per partition; null for a plain topic. */
  partitions: PartitionPurge[] | null
}

export function unchangedScopePurge(plan: DlqScopePlan, flags: {dryRun: boolean; cancelled: boolean}): DlqPurgeResult {
  return combine(
    plan,
    plan.parts.map((part) => unchangedPurge(part.plan, flags)),
    flags,
    0,
  )
}

/**
 * Delete exactly the planned entries of every partition, one partition after the other, each with
 * purgePlan (XDELs of IDs fixed before anything changed). An interrupted purge deleted some entries
 * and kept the rest, in every partition; running it again deletes what is left.
 */
export async function purgeScope(redis: RedisClient, plan: DlqScopePlan, hooks: Omit<PurgeHooks, 'run'> = {}): Promise<DlqPurgeResult> {
  const started = Date.now()
  const run: PurgeProgress = {purged: 0, total: plan.parts.reduce((sum, part) => sum + part.plan.ids.length, 0)}
  const results: PurgeResult[] = []
  for (const {plan: partPlan} of plan.parts) {
    if (partPlan.ids.length === 0) {
      results.push(unchangedPurge(partPlan, {dryRun: false, cancelled: false}))
      continue
    }
    const result = await purgePlan(redis, partPlan, {...hooks, run})
    run.purged += result.purged
    results.push(result)
  }
  return combine(plan, results, {dryRun: false, cancelled: false}, Date.now() - started)
}

function combine(plan: DlqScopePlan, results: readonly PurgeResult[], flags: {dryRun: boolean; cancelled: boolean}, durationMs: number): DlqPurgeResult {
  const sum = (pick: (result: PurgeResult) => number): number => results.reduce((total, result) => total + pick(result), 0)
  return {
    dlq: plan.key,
    dryRun: flags.dryRun,
    cancelled: flags.cancelled,
    selected: sum((result) => result.selected),
    purged: sum((result) => result.purged),
    remaining: sum((result) => result.remaining),
    ids: results.flatMap((result) => result.ids),
    notFound: plan.notFound,
    durationMs,
    topic: plan.topic,
    partitioned: plan.partitioned,
    partitions: plan.partitioned
      ? results.map((result, index) => ({
          partition: plan.parts[index]?.part.partition ?? 0,
          dlq: result.dlq,
          selected: result.selected,
          purged: result.purged,
          remaining: result.remaining,
        }))
      : null,
  }
}
