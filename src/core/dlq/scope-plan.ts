import {notFoundError, usageError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import type {DlqEntry} from './entry.js'
import {planSelection, type DlqPlan} from './plan.js'
import {dlqErrorIn, dlqLength} from './read.js'
import {refuseAmbiguous, scopeText, singleKey, type DlqPart, type DlqScope} from './scope.js'
import {mergeEntries} from './scope-list.js'
import type {Selection} from './selection.js'
import {compareIdText} from './stream-id.js'
import {mergeSummaries, SummaryCollector, type SelectionSummary} from './summary.js'

/** One dead-letter stream's plan within a scope. */
export interface PartPlan {
  part: DlqPart
  plan: DlqPlan
}

/**
 * What a replay or purge acts on over a scope (a plain topic's dead-letter stream, or a partitioned
 * topic's partitions' streams), captured before anything changes: each stream's own plan (each a
 * fixed selection: see planSelection), and the selection as a whole for the question and the dry run.
 */
export interface DlqScopePlan {
  topic: string
  partitioned: boolean
  /** The one dead-letter stream planned on (a plain topic's, or the one of `--partition`); null over several. */
  key: string | null
  parts: PartPlan[]
  /** Every selected dead-letter ID, oldest first over all the streams (equal IDs of two partitions are both listed). */
  ids: string[]
  /** Selected entries kept whole (at most `keepEntries` over all the streams), oldest first, each with its partition. */
  entries: DlqEntry[]
  summary: SelectionSummary
  /** `--id` values in none of the dead-letter streams. */
  notFound: string[]
  /** Entries in the dead-letter streams when the selection was made. */
  length: number
}

export interface ScopePlanRequest {
  /** What to select; its topic is replaced by each stream's (the partition's stream, which its entries record as dlq.topic). */
  selection: Selection
  /** At most N entries, the oldest over all the streams. */
  limit?: number | undefined
  /** Keep at most this many selected entries whole (for a dry run's listing). */
  keepEntries?: number | undefined
}

/**
 * Plan a replay or purge over a scope. One stream: planSelection, as before. Several (a partitioned
 * topic's partitions): planSelection on each, in parallel; `--id` values are first looked up in every
 * partition at once (one round trip per primary), each planned on the partition that holds it, and
 * refused (exit 2) when several do. `--limit N` takes the N oldest over all partitions: each
 * partition is planned with N, and those that hold more than their share of the N oldest are planned
 * again with their share (counts by group and error then describe exactly what will be acted on).
 */
export async function planScope(redis: RedisClient, scope: DlqScope, request: ScopePlanRequest): Promise<DlqScopePlan> {
  const {selection, limit} = request
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw usageError(`limit must be a whole number of at least 1, not ${limit}`)
  const keep = request.keepEntries ?? 0
  const single = scope.parts.length === 1
  const located = single || selection.ids === undefined ? undefined : await locateIds(redis, scope, selection.ids)
  const planPart = async (part: DlqPart, index: number, take: number | undefined): Promise<DlqPlan> => {
    const ids = located === undefined ? selection.ids : located.byPart[index] ?? []
    if (take === 0 || ids?.length === 0) return emptyPlan(part.key, await dlqLength(redis, part.key))
    return planSelection(redis, {key: part.key, selection: {...selection, topic: part.stream, partitionOf: selection.topic, ids}, limit: take, keepEntries: keep, partition: part.partition})
  }
  let plans = await Promise.all(scope.parts.map(async (part, index) => planPart(part, index, limit)))
  if (limit !== undefined && !single) {
    const shares = sharesOfOldest(plans, scope.parts, limit)
    plans = await Promise.all(
      plans.map(async (plan, index) => {
        const share = shares[index] ?? 0
        if (share >= plan.ids.length) return plan
        return share === 0 ? emptyPlan(plan.key, plan.length) : planPart(scope.parts[index] as DlqPart, index, share)
      }),
    )
  }
  const parts = scope.parts.map((part, index): PartPlan => ({part, plan: plans[index] as DlqPlan}))
  return {
    topic: scope.topic,
    partitioned: scope.partitioned,
    key: singleKey(scope),
    parts,
    ids: mergeIds(parts),
    entries: mergeEntries(
      plans.map((plan) => plan.entries),
      'oldest',
    ).slice(0, keep),
    summary: single ? (plans[0] as DlqPlan).summary : mergeSummaries(plans.map((plan) => plan.summary)),
    notFound: [...(located?.notFound ?? []), ...plans.flatMap((plan) => plan.notFound)],
    length: plans.reduce((sum, plan) => sum + plan.length, 0),
  }
}

const emptyPlan = (key: string, length: number): DlqPlan => ({key, ids: [], entries: [], summary: new SummaryCollector().summary(), notFound: [], length})

/** (id, partition) in ID order, equal IDs by partition: the order "oldest first" means over several streams. */
const byIdThenPartition = (a: {id: string; partition: number}, b: {id: string; partition: number}): number => compareIdText(a.id, b.id) || a.partition - b.partition

function tagged(parts: readonly PartPlan[]): Array<{id: string; partition: number; index: number}> {
  return parts.flatMap(({part, plan}, index) => plan.ids.map((id) => ({id, partition: part.partition ?? 0, index}))).sort(byIdThenPartition)
}

const mergeIds = (parts: readonly PartPlan[]): string[] => tagged(parts).map(({id}) => id)

/** How many of the `limit` oldest selected entries (over all the plans) each plan holds. */
function sharesOfOldest(plans: readonly DlqPlan[], parts: readonly DlqPart[], limit: number): number[] {
  const shares = plans.map(() => 0)
  const oldest = tagged(plans.map((plan, index) => ({part: parts[index] as DlqPart, plan}))).slice(0, limit)
  for (const {index} of oldest) shares[index] = (shares[index] ?? 0) + 1
  return shares
}

/**
 * Which partition holds each `--id`: every ID looked up in every partition's dead-letter stream in
 * one round trip (one per primary). An ID in several is refused (exit 2); one in none is `notFound`,
 * and when none is anywhere, NOT_FOUND (exit 6), as on a plain topic.
 */
async function locateIds(redis: RedisClient, scope: DlqScope, ids: readonly string[]): Promise<{byPart: string[][]; notFound: string[]}> {
  const lookups = scope.parts.flatMap((part, index) => ids.map((id) => ({part, index, id})))
  const replies = await pipelineByKey(redis, lookups, ({part}) => part.key, (pipeline, {part, id}) => pipeline.xrange(part.key, id, id))
  const holders = new Map<string, Array<{index: number; partition: number}>>(ids.map((id) => [id, []]))
  for (const [position, {part, index, id}] of lookups.entries()) {
    const [error, rows] = replies[position] ?? [new Error('no reply'), null]
    if (error !== null) throw await dlqErrorIn(redis, error, part.key)
    if ((rows as unknown[]).length > 0) holders.get(id)?.push({index, partition: part.partition ?? 0})
  }
  const byPart: string[][] = scope.parts.map(() => [])
  const notFound: string[] = []
  for (const [id, found] of holders) {
    refuseAmbiguous(scope, id, 'dead-letter ID', found.map(({partition}) => partition))
    const [holder] = found
    if (holder === undefined) notFound.push(id)
    else byPart[holder.index]?.push(id)
  }
  if (notFound.length === ids.length) {
    throw notFoundError(`${notFound.length === 1 ? `no entry ${notFound[0]}` : `none of the ${notFound.length} entries given with --id is`} in ${scopeText(scope)}`, {
      suggestion: 'list the entries with qctl dlq list TOPIC',
      details: {notFound},
    })
  }
  return {byPart, notFound}
}
