import type {DlqEntry} from './entry.js'
import {compareIdText} from './stream-id.js'

/**
 * What a selection of dead-letter entries holds, counted as it is read: how many per error name,
 * per group and per hour they were dead-lettered, and the first and last entries. A dry run over
 * 200,000 entries shows this instead of a 200,000-row table. Pure; constant work per entry.
 */
export interface SelectionSummary {
  count: number
  /** Most first (then by name). `null`: the entry records no error name. */
  byErrorName: Array<{errorName: string | null; count: number}>
  /** Most first (then by name). `null`: the entry records no group. */
  byGroup: Array<{group: string | null; count: number}>
  /** Oldest first: the hour (UTC, `2026-11-28T10`) the entries were dead-lettered in. */
  byHour: Array<{hour: string; count: number}>
  first: DlqEntry | null
  last: DlqEntry | null
}

type Counts = Map<string | null, number>

const add = (counts: Counts, key: string | null): void => {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

const byCount = (counts: Counts): Array<[string | null, number]> =>
  [...counts].sort(([a, x], [b, y]) => y - x || (a ?? '').localeCompare(b ?? ''))

export class SummaryCollector {
  private count = 0
  private readonly errorNames: Counts = new Map()
  private readonly groups: Counts = new Map()
  private readonly hours: Counts = new Map()
  private first: DlqEntry | null = null
  private last: DlqEntry | null = null

  /** Entries are added in the order they were selected (oldest first). */
  add(entry: DlqEntry): void {
    this.count++
    add(this.errorNames, entry.errorName)
    add(this.groups, entry.group)
    // deadLetteredAt is ISO 8601 (or '' for an ID that is no time): its first 13 characters are the hour.
    add(this.hours, entry.deadLetteredAt.slice(0, 13))
    this.first ??= entry
    this.last = entry
  }

  summary(): SelectionSummary {
    return {
      count: this.count,
      byErrorName: byCount(this.errorNames).map(([errorName, count]) => ({errorName, count})),
      byGroup: byCount(this.groups).map(([group, count]) => ({group, count})),
      byHour: [...this.hours].sort(([a], [b]) => ((a ?? '') < (b ?? '') ? -1 : 1)).map(([hour, count]) => ({hour: hour ?? '', count})),
      first: this.first,
      last: this.last,
    }
  }
}

/**
 * Several selections' summaries as one (a partitioned topic's partitions): counts added, the
 * first and last entries the oldest and newest of theirs (by ID; equal IDs: the lower partition
 * first). Pure; linear in the counts.
 */
export function mergeSummaries(summaries: readonly SelectionSummary[]): SelectionSummary {
  const sum = <K extends string | null>(rows: ReadonlyArray<{key: K; count: number}>): Map<K, number> => {
    const counts = new Map<K, number>()
    for (const {key, count} of rows) counts.set(key, (counts.get(key) ?? 0) + count)
    return counts
  }
  const errorNames = sum(summaries.flatMap((summary) => summary.byErrorName.map(({errorName, count}) => ({key: errorName, count}))))
  const groups = sum(summaries.flatMap((summary) => summary.byGroup.map(({group, count}) => ({key: group, count}))))
  const hours = sum(summaries.flatMap((summary) => summary.byHour.map(({hour, count}) => ({key: hour, count}))))
  const ends = (pick: (summary: SelectionSummary) => DlqEntry | null): DlqEntry[] =>
    summaries
      .map(pick)
      .filter((entry): entry is DlqEntry => entry !== null)
      .sort((a, b) => compareIdText(a.dlqId, b.dlqId) || (a.partition ?? 0) - (b.partition ?? 0))
  return {
    count: summaries.reduce((total, summary) => total + summary.count, 0),
    byErrorName: byCount(errorNames).map(([errorName, count]) => ({errorName, count})),
    byGroup: byCount(groups).map(([group, count]) => ({group, count})),
    byHour: [...hours].sort(([a], [b]) => (a < b ? -1 : 1)).map(([hour, count]) => ({hour, count})),
    first: ends((summary) => summary.first)[0] ?? null,
    last: ends((summary) => summary.last).at(-1) ?? null,
  }
}
