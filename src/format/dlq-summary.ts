import type {DlqPlan} from '../core/dlq/plan.js'
import type {SelectionSummary} from '../core/dlq/summary.js'
import {formatDlqTable, type TableLayout} from './dlq.js'
import {formatCount} from './numbers.js'
import {shown} from './terminal-text.js'

/** Error names and groups listed by name; the rest are counted together. */
export const SUMMARY_TOP = 10
/** Hours listed one by one; over this many, days instead; over this many days, the first and last ones. */
export const SUMMARY_PERIODS = 48

/**
 * What a `--dry-run` of replay or purge shows people above its one-line summary: every selected
 * entry as a table when the plan kept them all (a small selection), otherwise the summary (counts
 * by error name, group and hour, the first and last entries). Time linear in what is shown, not in
 * the selection: a 200,000-entry dry run prints a few dozen lines.
 */
export function formatDryRun(plan: Pick<DlqPlan, 'ids' | 'entries' | 'summary'>, layout: TableLayout): string[] {
  if (plan.ids.length === 0) return []
  if (plan.entries.length >= plan.ids.length) return formatDlqTable(plan.entries, layout)
  return formatSelectionSummary(plan.summary, layout)
}

interface Row {
  label: string
  count: number
}

/** Rows of `count  label`, the counts right-aligned; beyond `top` rows, the rest as one "others" row. */
function countRows(rows: readonly Row[], top: number, others: string): string[] {
  const kept = rows.length > top ? rows.slice(0, top - 1) : [...rows]
  const rest = rows.slice(kept.length).reduce((sum, row) => sum + row.count, 0)
  if (rest > 0) kept.push({label: `(${formatCount(rows.length - kept.length)} ${others})`, count: rest})
  const width = Math.max(...kept.map((row) => formatCount(row.count).length))
  return kept.map((row) => `  ${formatCount(row.count).padStart(width)}  ${row.label}`)
}

/** Hours when there are few; days when there are many; with very many days, the first and last ones. */
function periodRows(byHour: SelectionSummary['byHour']): {title: string; lines: string[]} {
  let periods = byHour.map(({hour, count}) => ({label: hour === '' ? '(no time)' : `${hour.replace('T', ' ')}:00`, count}))
  let title = 'By hour dead-lettered (UTC):'
  if (periods.length > SUMMARY_PERIODS) {
    const days = new Map<string, number>()
    for (const {hour, count} of byHour) days.set(hour.slice(0, 10), (days.get(hour.slice(0, 10)) ?? 0) + count)
    periods = [...days].map(([day, count]) => ({label: day === '' ? '(no time)' : day, count}))
    title = 'By day dead-lettered (UTC):'
  }
  const width = Math.max(...periods.map((period) => formatCount(period.count).length))
  const line = (period: Row): string => `  ${period.label.padEnd(16)}  ${formatCount(period.count).padStart(width)}`
  if (periods.length <= SUMMARY_PERIODS) return {title, lines: periods.map(line)}
  const half = SUMMARY_PERIODS / 2
  const skipped = periods.slice(half, -half)
  const skippedCount = skipped.reduce((sum, period) => sum + period.count, 0)
  return {title, lines: [...periods.slice(0, half).map(line), `  … ${formatCount(skipped.length)} more days, ${formatCount(skippedCount)} entries …`, ...periods.slice(-half).map(line)]}
}

/** The summary of a large selection, for people. Names from Redis go through `shown`. */
export function formatSelectionSummary(summary: SelectionSummary, layout: TableLayout): string[] {
  const {style} = layout
  const errors = summary.byErrorName.map(({errorName, count}) => ({label: errorName === null ? '(no error name)' : shown(errorName), count}))
  const groups = summary.byGroup.map(({group, count}) => ({label: group === null ? '(no group)' : shown(group), count}))
  const periods = periodRows(summary.byHour)
  const ends = [summary.first, summary.last].filter((entry) => entry !== null)
  return [
    style.bold(`${formatCount(summary.count)} entries selected (a summary; --json lists every ID):`),
    style.dim('By error name:'),
    ...countRows(errors, SUMMARY_TOP, 'other error names'),
    style.dim('By group:'),
    ...countRows(groups, SUMMARY_TOP, 'other groups'),
    style.dim(periods.title),
    ...periods.lines,
    style.dim('First and last selected:'),
    ...formatDlqTable(ends, layout),
    '',
  ]
}
