import type {RedisClient} from '../redis/client.js'
import {replayPlan, unchangedReplay, type ReplayHooks, type ReplayOptions, type ReplayResult, type ReplayRun, type ReplayTarget} from './replay.js'
import type {DlqScopePlan, PartPlan} from './scope-plan.js'

/** A replay target with the partition whose replay stream (or stream, with `--to-topic`) it is; null for a plain topic. */
export interface ScopedReplayTarget extends ReplayTarget {
  partition: number | null
}

/** One partition's part of a replay (`partitions` in `qctl dlq replay --json`). */
export interface PartitionReplay {
  partition: number
  /** Its dead-letter stream. */
  dlq: string
  selected: number
  replayed: number
  skipped: number
  /** Entries left in its dead-letter stream afterwards. */
  remaining: number
}

/**
 * The result of `qctl dlq replay` (its `--json` output): ReplayResult over a scope. Counts are sums
 * over the partitions; `ids` are listed partition by partition, in `partitions`' order (so each
 * partition's `replayed`, or with dryRun `selected`, says which are its).
 */
export interface DlqReplayResult extends Omit<ReplayResult, 'dlq' | 'targets'> {
  /** The dead-letter stream when there was one (a plain topic's, or the one of `--partition`); null over several partitions. */
  dlq: string | null
  targets: ScopedReplayTarget[]
  partitioned: boolean
  /** Per partition; null for a plain topic. */
  partitions: PartitionReplay[] | null
}

/** Where entries go, apart from the topic: each partition's are sent to that partition's own streams. */
export type ScopeReplayOptions = Omit<ReplayOptions, 'topic'>

const optionsFor = (part: PartPlan, options: ScopeReplayOptions): ReplayOptions => ({...options, topic: part.part.stream})

/** A run that changed nothing (dry run, declined, nothing selected); a dry run says where each partition's entries would go. */
export function unchangedScopeReplay(plan: DlqScopePlan, options: ScopeReplayOptions, flags: {dryRun: boolean; cancelled: boolean}): DlqReplayResult {
  return combine(
    plan,
    plan.parts.map((part) => unchangedReplay(part.plan, optionsFor(part, options), flags)),
    {...options, ...flags},
    0,
  )
}

/**
 * Replay every planned entry, each to the partition it came from: the replay stream of its group on
 * that partition (`replayKey(partition stream, group)`), or with `toTopic` the partition's stream
 * itself (never re-routed by key). The partitions are replayed one after the other, each with
 * replayPlan (one atomic step per entry, single-slot on a cluster), under one `--rate` schedule. So an
 * interrupted run loses and duplicates nothing in any partition, and running it again continues.
 */
export async function replayScope(redis: RedisClient, plan: DlqScopePlan, options: ScopeReplayOptions, hooks: ReplayHooks = {}): Promise<DlqReplayResult> {
  const started = Date.now()
  const run: ReplayRun = {scheduled: 0, replayed: 0, skipped: 0, total: plan.parts.reduce((sum, part) => sum + part.plan.ids.length, 0)}
  const results: ReplayResult[] = []
  for (const part of plan.parts) {
    if (part.plan.ids.length === 0) {
      results.push(unchangedReplay(part.plan, optionsFor(part, options), {dryRun: false, cancelled: false}))
      continue
    }
    const result = await replayPlan(redis, part.plan, optionsFor(part, options), {...hooks, run})
    run.replayed += result.replayed
    run.skipped += result.skipped
    results.push(result)
  }
  return combine(plan, results, {...options, dryRun: false, cancelled: false}, Date.now() - started)
}

/** Per-partition results as one. */
function combine(plan: DlqScopePlan, results: readonly ReplayResult[], options: ScopeReplayOptions & {dryRun: boolean; cancelled: boolean}, durationMs: number): DlqReplayResult {
  const sum = (pick: (result: ReplayResult) => number): number => results.reduce((total, result) => total + pick(result), 0)
  const partitionOf = (index: number): number | null => plan.parts[index]?.part.partition ?? null
  return {
    dlq: plan.key,
    topic: plan.topic,
    toTopic: options.toTopic === true,
    targets: results.flatMap((result, index) => result.targets.map((target) => ({...target, partition: partitionOf(index)}))),
    withoutGroup: sum((result) => result.withoutGroup),
    dryRun: options.dryRun,
    cancelled: options.cancelled,
    selected: sum((result) => result.selected),
    replayed: sum((result) => result.replayed),
    skipped: sum((result) => result.skipped),
    remaining: sum((result) => result.remaining),
    ids: results.flatMap((result) => result.ids),
    notFound: plan.notFound,
    durationMs,
    partitioned: plan.partitioned,
    partitions: plan.partitioned
      ? results.map((result, index) => ({
          partition: partitionOf(index) ?? 0,
          dlq: result.dlq,
          selected: result.selected,
          replayed: result.replayed,
          skipped: result.skipped,
          remaining: result.remaining,
        }))
      : null,
  }
}
