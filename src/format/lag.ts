import type {ChalkInstance} from 'chalk'
import Table from 'cli-table3'

import type {GateFailure, LagRow} from '../core/lag/lag.js'
import {formatAge, formatCount, formatDuration} from './numbers.js'

const gateLabels: Record<GateFailure['gate'], string> = {
  'max-lag': 'lag',
  'max-pending': 'pending',
  'max-pending-age': 'oldest pending age',
  'max-dlq': 'dead letters',
}

const gateValue = (failure: GateFailure): string =>
  failure.value === null ? 'unknown' : failure.gate === 'max-pending-age' ? formatAge(failure.value) : formatCount(failure.value)

const gateLimit = (failure: GateFailure): string => (failure.gate === 'max-pending-age' ? formatAge(failure.limit) : formatCount(failure.limit))

export const rowName = (row: Pick<LagRow, 'topic' | 'group'>): string => (row.group === null ? row.topic : `${row.topic}/${row.group}`)

/**
 * `orders/billing: lag 1,200 > --max-lag 1,000` (one per broken gate); for a row without a group,
 * `orders: no consumer group reads it, so --max-lag 0 cannot pass`.
 */
export const formatGateFailure = (row: LagRow, failure: GateFailure): string => {
  if (failure.reason === 'no-group') {
    const why = row.group === null ? 'no consumer group reads it' : `it has no consumer group "${row.group}"`
    return `${rowName(row)}: ${why}, so --${failure.gate} ${gateLimit(failure)} cannot pass`
  }
  return `${rowName(row)}: ${gateLabels[failure.gate]} ${gateValue(failure)} > --${failure.gate} ${gateLimit(failure)}`
}

export const formatLag = (row: LagRow): string => {
  if (!row.groupExists) return '-'
  if (row.lag === null) return 'unknown'
  return formatCount(row.lag)
}

/** The `qctl lag` table. Failing cells are red when colour is on; the gate list below carries the meaning. */
export function formatLagTable(rows: readonly LagRow[], style: ChalkInstance): string {
  const table = new Table({
    head: ['TOPIC', 'GROUP', 'LENGTH', 'LAG', 'PENDING', 'OLDEST PENDING', 'CONSUMERS', 'DLQ'],
    style: {head: [], border: []},
    colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
  })
  for (const row of rows) {
    const failed = new Set(row.failedGates.map((failure) => failure.gate))
    const mark = (gate: GateFailure['gate'], text: string): string => (failed.has(gate) ? style.red(text) : text)
    table.push([
      row.topic,
      row.group === null ? style.dim('(no consumer group)') : row.groupExists ? row.group : `${row.group} ${style.dim('(missing)')}`,
      formatCount(row.length),
      mark('max-lag', formatLag(row)),
      row.groupExists ? mark('max-pending', formatCount(row.pending)) : '-',
      row.oldestPendingAgeMs === null ? '-' : mark('max-pending-age', formatAge(row.oldestPendingAgeMs)),
      row.groupExists ? `${row.activeConsumers}/${row.consumers}` : '-',
      mark('max-dlq', formatCount(row.deadLetters)),
    ])
  }
  return table.toString()
}

/** The --wait progress line (on a terminal): time left, the first gate still failing and how many more. */
export function formatWaiting(rows: readonly LagRow[], leftMs: number): string {
  const failures = rows.flatMap((row) => row.failedGates.map((failure) => formatGateFailure(row, failure)))
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''
  return `waiting, ${formatAge(Math.max(0, leftMs))} left: ${failures[0] ?? 'checking'}${more}`
}

/** Said once the wait has run out with gates still failing (before each is named). */
export const formatGaveUp = (waitMs: number, failing: number): string =>
  `gave up waiting after ${formatDuration(waitMs)} (--wait): ${failing} gate${failing === 1 ? '' : 's'} still failing`
