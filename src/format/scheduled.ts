import type {ChalkInstance} from 'chalk'

import {formatCount} from './numbers.js'
import type {TableCell, TableColumn} from './table.js'

/* The scheduled messages of a topic (publish --delay / --at) as `lag`, `inspect` and `top` show them. */

export const SCHEDULED_COLUMN: TableColumn = {title: 'SCHEDULED', narrowTitle: 'SCHED', align: 'right'}

/**
 * Messages held until due: `12`, `12 (3 due)` when some are past their time (nothing appends them),
 * `?` when the schedule could not be read; yellow when colour is on.
 */
export const scheduledCell = (scheduled: number | null, due: number | null, style: ChalkInstance): TableCell => {
  const text = scheduledText(scheduled, due)
  return (due ?? 0) > 0 ? {text, paint: style.yellow} : text
}

/** The cell's text: `12`, `12 (3 due)`, `?`. */
export const scheduledText = (scheduled: number | null, due: number | null): string => {
  if (scheduled === null) return '?'
  if (due === null || due === 0) return formatCount(scheduled)
  return `${formatCount(scheduled)} (${formatCount(due)} due)`
}

/** Whether a table needs the SCHEDULED column: only when some topic holds scheduled messages (tables of topics without stay as they were). */
export const anyScheduled = (rows: ReadonlyArray<{scheduled: number | null}>): boolean => rows.some((row) => (row.scheduled ?? 0) > 0)
