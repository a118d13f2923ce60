import type {RateRow} from '../../core/stats/rates.js'

/** Columns of the `top` table, in display order, with the width each needs. */
export const COLUMNS = [
  {key: 'name', title: 'TOPIC/GROUP', width: 28, align: 'left'},
  // Only while a partitioned topic is on screen (tableLayout's withParts): its partition count, `-` for a plain stream.
  {key: 'parts', title: 'PARTS', width: 5, align: 'right'},
  {key: 'trend', title: 'TREND', width: 10, align: 'left'},
  {key: 'depth', title: 'DEPTH', width: 9, align: 'right'},
  {key: 'in', title: 'IN/s', width: 8, align: 'right'},
  {key: 'out', title: 'OUT/s', width: 8, align: 'right'},
  {key: 'lag', title: 'LAG', width: 9, align: 'right'},
  {key: 'pending', title: 'PENDING', width: 9, align: 'right'},
  {key: 'age', title: 'OLDEST', width: 8, align: 'right'},
  {key: 'consumers', title: 'CONS', width: 6, align: 'right'},
  {key: 'dlq', title: 'DLQ', width: 8, align: 'right'},
  {key: 'dlqIn', title: 'DLQ IN/s', width: 9, align: 'right'},
  // Only while a topic on screen holds scheduled messages (tableLayout's withScheduled): `12`, `12 (3 due)`.
  {key: 'scheduled', title: 'SCHEDULED', width: 12, align: 'right'},
  {key: 'inSpark', title: 'IN (1m)', width: 20, align: 'left'},
  // "same scale": a row's IN and OUT bars share one scale, so they compare (see cells.ts sparkPoints).
  {key: 'outSpark', title: 'OUT (1m, same scale)', width: 20, align: 'left'},
] as const

export type ColumnKey = (typeof COLUMNS)[number]['key']

const COLUMN_OF = new Map<ColumnKey, (typeof COLUMNS)[number]>(COLUMNS.map((column) => [column.key, column]))

export const columnOf = (key: ColumnKey): (typeof COLUMNS)[number] => COLUMN_OF.get(key) ?? COLUMNS[0]

/** `text` cut (with an ellipsis) or padded to exactly `width` characters. */
export function padCell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`
  return align === 'right' ? cut.padStart(width) : cut.padEnd(width)
}

/**
 * One line of the table: each cell cut or padded to its column's width, one space apart.
 *
 * A plain loop, as in all of top's per-frame and per-refresh code: a callback made per call (an
 * arrow passed to map, find or sort) gets hot within one frame and is garbage after it, so V8
 * compiled a fresh copy of it on every frame, on its compiler threads (measured with --trace-opt).
 */
export function lineOf(cells: ReadonlyArray<readonly [ColumnKey, string]>, nameWidth: number = columnOf('name').width): string {
  let line = ''
  for (const [index, [key, text]] of cells.entries()) {
    const {width, align} = columnOf(key)
    line += `${index === 0 ? '' : ' '}${padCell(text, key === 'name' ? nameWidth : width, align)}`
  }
  return line
}

/** The header line for the given columns. */
export const headLine = (keys: readonly ColumnKey[], nameWidth?: number): string => lineOf(keys.map((key) => [key, columnOf(key).title]), nameWidth)

/** Width of a sparkline column. */
export const SPARK_WIDTH = 20

/** What goes first when the terminal is narrow: sparklines, then the least essential figures. */
const DROP_ORDER: ColumnKey[] = ['outSpark', 'inSpark', 'parts', 'dlqIn', 'scheduled', 'age', 'consumers', 'depth', 'pending']

/** The name column shrinks to this before columns are dropped, and grows to the other bound when there is room. */
const NAME_MIN = 12
const NAME_MAX = 48

export interface TableLayout {
  /** Columns shown, in display order. */
  columns: ColumnKey[]
  /** Width of the TOPIC/GROUP column: what the other columns leave, within bounds. */
  nameWidth: number
}

const isSpark = (key: ColumnKey): boolean => key === 'inSpark' || key === 'outSpark'

/**
 * The columns that fit `width` characters (one space between columns) and how wide names may be.
 * `longestName` (the widest TOPIC/GROUP label, as shown): while sparklines are on screen, names are
 * never cut; the sparklines go first to make room (up to NAME_MAX). Without sparklines the name
 * column may shrink to NAME_MIN before figures go. `withParts`: some row is of a partitioned topic, so
 * the PARTS column is wanted (a screen of plain streams never shows it); `withScheduled`: some topic
 * holds scheduled messages, so the SCHEDULED column is.
 */
export function tableLayout(width: number, longestName = NAME_MIN, withParts = false, withScheduled = false): TableLayout {
  const shown = new Set<ColumnKey>(COLUMNS.map((column) => column.key))
  if (!withParts) shown.delete('parts')
  if (!withScheduled) shown.delete('scheduled')
  const others = (): number => [...shown].filter((key) => key !== 'name').reduce((sum, key) => sum + columnOf(key).width + 1, 0)
  const wholeNames = Math.max(NAME_MIN, Math.min(NAME_MAX, longestName))
  for (const key of DROP_ORDER) {
    const sparklinesShown = shown.has('inSpark') || shown.has('outSpark')
    if (others() + (sparklinesShown ? wholeNames : NAME_MIN) <= width) break
    if (!sparklinesShown && isSpark(key)) continue
    shown.delete(key)
  }
  const columns = COLUMNS.filter((column) => shown.has(column.key)).map((column) => column.key)
  return {columns, nameWidth: Math.max(NAME_MIN, Math.min(NAME_MAX, width - others()))}
}

export type SortKey = 'lag' | 'in' | 'out' | 'name'

export const SORT_CYCLE: SortKey[] = ['lag', 'in', 'out', 'name']

export const nextSort = (current: SortKey): SortKey => SORT_CYCLE[(SORT_CYCLE.indexOf(current) + 1) % SORT_CYCLE.length] ?? 'lag'

const nameOf = (row: RateRow): string => `${row.topic}/${row.group ?? ''}`

const figureOf = (row: RateRow, key: SortKey): number => {
  const value = key === 'lag' ? row.lag : key === 'in' ? row.inRate : key === 'out' ? row.outRate : null
  return value ?? -1
}

const byName = (a: RateRow, b: RateRow): number => nameOf(a).localeCompare(nameOf(b))

const byFigure =
  (key: SortKey) =>
  (a: RateRow, b: RateRow): number =>
    figureOf(b, key) - figureOf(a, key) || byName(a, b)

/** One comparator per key, made once (see lineOf: a comparator made per call was recompiled every frame). */
const COMPARATORS: Record<SortKey, (a: RateRow, b: RateRow) => number> = {lag: byFigure('lag'), in: byFigure('in'), out: byFigure('out'), name: byName}

/** Rows sorted for display: biggest first for figures (unknown last), then by name for ties. */
export const sortRows = (rows: readonly RateRow[], key: SortKey): RateRow[] => [...rows].sort(COMPARATORS[key])
