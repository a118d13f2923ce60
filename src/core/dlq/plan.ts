import {notFoundError, usageError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import type {DlqEntry} from './entry.js'
import {dlqLength, getDlqEntries, lastDlqId, scanDlq} from './read.js'
import {matchesSelection, rangeOf, type Selection} from './selection.js'
import {compareIdText} from './stream-id.js'
import {SummaryCollector, type SelectionSummary} from './summary.js'

/** A dry run lists up to this many entries in a table; more are summarised (SelectionSummary). */
export const DRY_RUN_TABLE_ROWS = 50

export interface PlanRequest {
  /** The dead-letter stream. */
  key: string
  selection: Selection
  /** Take only the first N selected entries (oldest first). */
  limit?: number | undefined
  /**
   * Keep the selected entries in full (for a dry run's listing): all (true), or at most this many
   * (the first selected), or none (false, the default: only their IDs).
   */
  keepEntries?: boolean | number
  /** The partition whose dead-letter stream `key` is (recorded in the entries kept); null for a plain topic. */
  partition?: number | null | undefined
}

/** What a replay or purge will act on, captured before anything changes. */
export interface DlqPlan {
  key: string
  /** Selected dead-letter entry IDs, oldest first. */
  ids: string[]
  /** The selected entries in full, as many as `keepEntries` asked for (first selected first). */
  entries: DlqEntry[]
  /** Counts by error name, group and hour, and the first and last entries of the selection. */
  summary: SelectionSummary
  /** `--id` values that have no entry in the dead-letter stream. */
  notFound: string[]
  /** Entries in the dead-letter stream when the selection was made. */
  length: number
}

/**
 * Capture the selection: the IDs of matching entries that exist now. Entries added after this
 * starts are never selected (the scan stops at the newest ID seen at the start), so a replay or
 * purge acts on a fixed set, and entries dead-lettered meanwhile (even by the replay's own
 * workers) survive it. With `selection.ids`, NOT_FOUND (exit 6) when none of them exists; those
 * missing among others are listed in `notFound`.
 */
export async function planSelection(redis: RedisClient, request: PlanRequest): Promise<DlqPlan> {
  const {key, selection, limit} = request
  const partition = request.partition ?? null
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw usageError(`limit must be a whole number of at least 1, not ${limit}`)
  const keep = request.keepEntries === true ? Number.POSITIVE_INFINITY : request.keepEntries === false || request.keepEntries === undefined ? 0 : request.keepEntries
  const collector = new SummaryCollector()
  const plan: DlqPlan = {key, ids: [], entries: [], summary: collector.summary(), notFound: [], length: await dlqLength(redis, key)}
  const take = (entry: DlqEntry): boolean => {
    if (!matchesSelection(entry, selection)) return true
    plan.ids.push(entry.dlqId)
    collector.add(entry)
    if (plan.entries.length < keep) plan.entries.push(entry)
    return limit === undefined || plan.ids.length < limit
  }

  if (selection.ids !== undefined) {
    const {entries, missing} = await getDlqEntries(redis, key, selection.ids, partition)
    plan.notFound = missing
    if (entries.length === 0) {
      throw notFoundError(`${missing.length === 1 ? `no entry ${missing[0]}` : `none of the ${missing.length} entries given with --id is`} in the dead-letter stream ${key}`, {
        suggestion: 'list the entries with qctl dlq list TOPIC',
        details: {notFound: missing},
      })
    }
    for (const entry of entries) if (!take(entry)) break
    return {...plan, summary: collector.summary()}
  }

  const newest = await lastDlqId(redis, key)
  if (newest === undefined) return plan
  const range = rangeOf(selection)
  const end = range.end === '+' || compareIdText(newest, range.end) < 0 ? newest : range.end
  await scanDlq(redis, key, {start: range.start, end}, take, partition)
  return {...plan, summary: collector.summary()}
}
