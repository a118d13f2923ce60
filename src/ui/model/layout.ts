import type {RateRow} from './rates.js'

/** Columns of the `top` table, in display order, with the width each needs. */
export const COLUMNS = [
  {key: 'name', title: 'TOPIC/GROUP', width: 28},
  {key: 'trend', title: 'TREND', width: 10},
  {key: 'depth', title: 'DEPTH', width: 9},
  {key: 'in', title: 'IN/s', width: 8},
  {key: 'out', title: 'OUT/s', width: 8},
  {key: 'lag', title: 'LAG', width: 9},
  {key: 'pending', title: 'PENDING', width: 9},
  {key: 'age', title: 'OLDEST', width: 8},
  {key: 'consumers', title: 'CONS', width: 6},
  {key: 'dlq', title: 'DLQ', width: 8},
  {key: 'dlqIn', title: 'DLQ IN/s', width: 9},
  {key: 'inSpark', title: 'IN (1m)', width: 22},
  {key: 'outSpark', title: 'OUT (1m)', width: 22},
] as const

export type ColumnKey = (typeof COLUMNS)[number]['key']

/** What goes first when the terminal is narrow: sparklines, then the least essential figures. */
const DROP_ORDER: ColumnKey[] = ['outSpark', 'inSpark', 'dlqIn', 'age', 'consumers', 'depth', 'pending']

/** The columns that fit `width` characters (one space between columns), in display order. */
export function visibleColumns(width: number): ColumnKey[] {
  const shown = new Set<ColumnKey>(COLUMNS.map((column) => column.key))
  const used = (): number => COLUMNS.filter((column) => shown.has(column.key)).reduce((sum, column) => sum + column.width + 1, 0)
  for (const key of DROP_ORDER) {
    if (used() <= width) break
    shown.delete(key)
  }
  return COLUMNS.filter((column) => shown.has(column.key)).map((column) => column.key)
}

export type SortKey = 'lag' | 'in' | 'out' | 'name'

export const SORT_CYCLE: SortKey[] = ['lag', 'in', 'out', 'name']

export const nextSort = (current: SortKey): SortKey => SORT_CYCLE[(SORT_CYCLE.indexOf(current) + 1) % SORT_CYCLE.length] ?? 'lag'

const nameOf = (row: RateRow): string => `${row.topic}/${row.group ?? ''}`

/** Rows sorted for display: biggest first for figures (unknown last), then by name for ties. */
export function sortRows(rows: readonly RateRow[], key: SortKey): RateRow[] {
  const figure = (row: RateRow): number => {
    const value = key === 'lag' ? row.lag : key === 'in' ? row.inRate : key === 'out' ? row.outRate : null
    return value ?? -1
  }
  return [...rows].sort((a, b) => (key === 'name' ? 0 : figure(b) - figure(a)) || nameOf(a).localeCompare(nameOf(b)))
}
