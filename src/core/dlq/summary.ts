import type {DlqEntry} from './entry.js'

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
