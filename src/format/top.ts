import type {ChalkInstance} from 'chalk'
import Table from 'cli-table3'

import {cellText, paintOf, toneOf} from './top-model/cells.js'
import {COLUMNS, type ColumnKey} from './top-model/layout.js'
import type {RateRow} from '../core/stats/rates.js'
import {formatDuration} from './numbers.js'

/** The columns of the one-shot table: everything but the sparklines, which need a minute of history. */
const ONCE_COLUMNS = COLUMNS.filter((column) => column.key !== 'inSpark' && column.key !== 'outSpark')

/** `qctl top --once` (and top off a terminal): one table of the rates measured over one interval. */
export function formatTopSnapshot(rows: readonly RateRow[], intervalMs: number, style: ChalkInstance): string {
  if (rows.length === 0) return 'No streams found.'
  const table = new Table({
    head: ONCE_COLUMNS.map((column) => column.title),
    style: {head: [], border: []},
    colAligns: ONCE_COLUMNS.map((column) => column.align),
  })
  for (const row of rows) {
    const paint = paintOf(toneOf(row), style)
    table.push(ONCE_COLUMNS.map((column) => paint(cellText(row, column.key as ColumnKey))))
  }
  return `Rates measured over ${formatDuration(intervalMs)}:\n${table.toString()}`
}
