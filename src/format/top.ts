import type {ChalkInstance} from 'chalk'

import {cellText, hasPartitioned, hasScheduled, paintOf, toneOf} from './top-model/cells.js'
import {COLUMNS, type ColumnKey} from './top-model/layout.js'
import type {RateRow} from '../core/stats/rates.js'
import {formatDuration} from './numbers.js'
import {renderTable, type TableCell, type TableColumn, type TableOptions} from './table.js'

/**
 * The columns of the one-shot table: everything but the sparklines, which need a minute of history;
 * PARTS only when a partitioned topic is shown, SCHEDULED only when a topic holds scheduled messages.
 */
const ONCE_COLUMNS = COLUMNS.filter((column) => column.key !== 'inSpark' && column.key !== 'outSpark')
const tableColumns = (columns: typeof ONCE_COLUMNS): TableColumn[] => columns.map((column) => ({title: column.title, align: column.align, shrinks: column.key === 'name'}))

/**
 * `qctl top --once` (and top off a terminal): one table of the rates measured over one interval.
 * Topic and group names come from Redis: the table shows them through the one sanitiser.
 */
export function formatTopSnapshot(rows: readonly RateRow[], intervalMs: number, style: ChalkInstance, options: TableOptions = {}): string {
  if (rows.length === 0) return 'No streams found.'
  const parts = hasPartitioned(rows)
  const scheduled = hasScheduled(rows)
  const columns = ONCE_COLUMNS.filter((column) => (column.key !== 'parts' || parts) && (column.key !== 'scheduled' || scheduled))
  const cells = rows.map((row): TableCell[] => {
    const paint = paintOf(toneOf(row), style)
    return columns.map((column) => ({text: cellText(row, column.key as ColumnKey), paint}))
  })
  return `Rates measured over ${formatDuration(intervalMs)}:\n${renderTable(tableColumns(columns), cells, {head: style.bold, ...options}).join('\n')}`
}
