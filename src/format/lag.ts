import type {ChalkInstance} from 'chalk'
import Table from 'cli-table3'

import type {GateFailure, LagRow} from '../core/lag/lag.js'
import {formatAge, formatCount} from './numbers.js'

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

/** `orders/billing: lag 1,200 > --max-lag 1,000` (one per broken gate). */
export const formatGateFailure = (row: LagRow, failure: GateFailure): string =>
  `${rowName(row)}: ${gateLabels[failure.gate]} ${gateValue(failure)} > --${failure.gate} ${gateLimit(failure)}`

export const formatLag = (row: LagRow): string => {
  if (row.group === null) return '-'
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
      row.group ?? style.dim('(no consumer group)'),
      formatCount(row.length),
      mark('max-lag', formatLag(row)),
      row.group === null ? '-' : mark('max-pending', formatCount(row.pending)),
      row.oldestPendingAgeMs === null ? '-' : mark('max-pending-age', formatAge(row.oldestPendingAgeMs)),
      row.group === null ? '-' : `${row.activeConsumers}/${row.consumers}`,
      mark('max-dlq', formatCount(row.deadLetters)),
    ])
  }
  return table.toString()
}
