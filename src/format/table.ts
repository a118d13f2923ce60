import Table from 'cli-table3'

import {shown, textWidth} from './terminal-text.js'

/**
 * The one table renderer of the human-readable outputs (lag, inspect, top --once, dlq list and the
 * dry-run plans). Pure, and linear in the cells: one pass to measure, one to write. cli-table3's
 * layout, used alone before, cost ~90% of `qctl lag` over thousands of topics and grew faster than the
 * rows: it now only draws the box of small tables (at most BOXED_MAX_ROWS rows), laid out here.
 *
 * Every cell goes through `shown` (text from Redis cannot drive the terminal or split a row) and
 * widths are measured on what is shown. Colour is applied after padding, so it never counts as width.
 */

export type Align = 'left' | 'right'

export interface TableColumn {
  title: string
  /** A shorter title, used when the table does not fit its width with the full one. */
  narrowTitle?: string
  align?: Align
  /** May be cut (ending in …) to fit the width: names and messages, never figures or IDs. */
  shrinks?: boolean
  /** Cut every cell to this many columns (the caller's own fitting, e.g. `dlq list`). */
  maxWidth?: number
}

/** A cell: its text, and optionally a colour applied to the padded-and-cut text. */
export type TableCell = string | {text: string; paint?: (text: string) => string}

export type TableLayout = 'boxed' | 'compact'

export interface TableOptions {
  /** Columns to fit; undefined (output not a terminal, no COLUMNS): nothing is cut. */
  width?: number | undefined
  /**
   * `boxed` (cli-table3's look, a rule between rows) is asked for on a wide terminal; it falls back
   * to `compact` (padded columns, one header, no rules) for more than BOXED_MAX_ROWS rows or when
   * it does not fit the width.
   */
  layout?: TableLayout
  /** Colour of the header line (bold, dim, ...). */
  head?: (text: string) => string
}

/** Above this many rows a table is compact: a rule between every row only makes a long table longer. */
export const BOXED_MAX_ROWS = 50
/** Spaces between columns of a compact table. */
export const COMPACT_GAP = 2
/** A shrinking column is never cut narrower than this (or its title, if shorter content allows). */
const MIN_SHRUNK_WIDTH = 8

const identity = (text: string): string => text

/** Cut to `width` columns, ending in … when cut. */
export function truncate(text: string, width: number): string {
  if (textWidth(text) <= width) return text
  if (width <= 0) return ''
  return `${[...text].slice(0, width - 1).join('')}…`
}

/** `last`: the line's last cell, left-aligned, is not padded (no trailing spaces, inside colour or not). */
const pad = (text: string, width: number, align: Align, last = false): string => {
  if (last && align === 'left') return text
  const fill = ' '.repeat(Math.max(0, width - textWidth(text)))
  return align === 'right' ? fill + text : text + fill
}

interface Prepared {
  text: string
  paint: (text: string) => string
}

const prepare = (cell: TableCell): Prepared =>
  typeof cell === 'string' ? {text: shown(cell), paint: identity} : {text: shown(cell.text), paint: cell.paint ?? identity}

/** Total width of a table with these column widths. */
const totalWidth = (widths: readonly number[], layout: TableLayout): number =>
  widths.reduce((sum, width) => sum + width, 0) + (layout === 'compact' ? COMPACT_GAP * (widths.length - 1) : 3 * widths.length + 1)

/**
 * Narrow the shrinking columns, widest first, until the table fits `width` (or they are at their
 * minimum: then it stays wider, cut no further).
 */
function shrink(widths: number[], minimums: readonly number[], shrinking: readonly number[], excess: number): void {
  let left = excess
  while (left > 0) {
    let widest = -1
    for (const index of shrinking) {
      if ((widths[index] as number) > (minimums[index] as number) && (widest === -1 || (widths[index] as number) > (widths[widest] as number))) widest = index
    }
    if (widest === -1) return
    widths[widest] = (widths[widest] as number) - 1
    left--
  }
}

interface Plan {
  layout: TableLayout
  titles: string[]
  widths: number[]
}

function planTable(columns: readonly TableColumn[], cells: readonly Prepared[][], options: TableOptions): Plan {
  const contentWidths: number[] = columns.map(() => 0)
  for (const row of cells) {
    for (let index = 0; index < columns.length; index++) {
      const width = textWidth(row[index]?.text ?? '')
      if (width > (contentWidths[index] as number)) contentWidths[index] = width
    }
  }
  const plan = (layout: TableLayout, narrow: boolean): Plan => {
    const titles = columns.map((column) => (narrow ? (column.narrowTitle ?? column.title) : column.title))
    const widths = columns.map((column, index) => {
      const content = Math.max(0, contentWidths[index] as number)
      const natural = Math.max(textWidth(titles[index] as string), content)
      return column.maxWidth === undefined ? natural : Math.min(natural, Math.max(column.maxWidth, 1))
    })
    return {layout, titles, widths}
  }
  const fits = (candidate: Plan): boolean => options.width === undefined || totalWidth(candidate.widths, candidate.layout) <= options.width
  if (options.layout === 'boxed' && cells.length <= BOXED_MAX_ROWS) {
    const boxed = plan('boxed', false)
    if (fits(boxed)) return boxed
  }
  const compact = plan('compact', false)
  if (fits(compact)) return compact
  const narrow = plan('compact', true)
  if (options.width !== undefined) {
    const shrinking = columns.flatMap((column, index) => (column.shrinks === true ? [index] : []))
    const minimums = narrow.widths.map((width, index) => Math.min(width, Math.max(MIN_SHRUNK_WIDTH, textWidth(narrow.titles[index] as string))))
    shrink(narrow.widths, minimums, shrinking, totalWidth(narrow.widths, 'compact') - options.width)
  }
  return narrow
}

/** The table's lines (no trailing spaces, no final newline). */
export function renderTable(columns: readonly TableColumn[], rows: readonly (readonly TableCell[])[], options: TableOptions = {}): string[] {
  const cells = rows.map((row) => columns.map((_, index) => prepare(row[index] ?? '')))
  const {layout, titles, widths} = planTable(columns, cells, options)
  const head = options.head ?? identity
  const compact = layout === 'compact'
  const lastIndex = columns.length - 1
  const cellOf = (cell: Prepared, index: number): string => {
    const width = widths[index] as number
    return cell.paint(pad(truncate(cell.text, width), width, columns[index]?.align ?? 'left', compact && index === lastIndex))
  }
  const headCells = titles.map((title, index) =>
    head(pad(truncate(title, widths[index] as number), widths[index] as number, columns[index]?.align ?? 'left', compact && index === lastIndex)),
  )
  const lines: string[] = []
  if (compact) {
    const gap = ' '.repeat(COMPACT_GAP)
    lines.push(headCells.join(gap).trimEnd())
    for (const row of cells) lines.push(row.map(cellOf).join(gap).trimEnd())
    return lines
  }
  // Boxed: at most BOXED_MAX_ROWS rows, where cli-table3's layout costs nothing worth measuring. The cells
  // come cut, shown and painted; cli-table3 only draws the box (colour-aware widths, no wrapping).
  const table = new Table({
    head: headCells,
    colWidths: widths.map((width) => width + 2),
    colAligns: columns.map((column) => column.align ?? 'left'),
    style: {head: [], border: [], 'padding-left': 1, 'padding-right': 1},
    wordWrap: false,
  })
  for (const row of cells) table.push(row.map(cellOf))
  return table.toString().split('\n')
}
