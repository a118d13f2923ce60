import type {ChalkInstance} from 'chalk'

import type {GateFailure, LagRow} from '../core/lag/lag.js'
import {formatAge, formatCount, formatDuration} from './numbers.js'
import {renderTable, type TableCell, type TableColumn, type TableOptions} from './table.js'
import {anyScheduled, SCHEDULED_COLUMN, scheduledCell} from './scheduled.js'
import {shown} from './terminal-text.js'

const gateLabels: Record<GateFailure['gate'], string> = {
  'max-lag': 'lag',
  'max-pending': 'pending',
  'max-pending-age': 'oldest pending age',
  'max-dlq': 'dead letters',
}

const gateValue = (failure: GateFailure): string =>
  failure.value === null ? 'unknown' : failure.gate === 'max-pending-age' ? formatAge(failure.value) : formatCount(failure.value)

const gateLimit = (failure: GateFailure): string => (failure.gate === 'max-pending-age' ? formatAge(failure.limit) : formatCount(failure.limit))

/** `orders/billing` (`orders[3]/billing` for one partition's row), shown safely (names come from Redis). */
export const rowName = (row: Pick<LagRow, 'topic' | 'group' | 'partition'>): string => {
  const topic = row.partition === null ? row.topic : `${row.topic}[${row.partition}]`
  return shown(row.group === null ? topic : `${topic}/${row.group}`)
}

/**
 * `orders/billing: lag 1,200 > --max-lag 1,000` (one per broken gate); for a row without a group,
 * `orders: no consumer group reads it, so --max-lag 0 cannot pass`.
 */
export const formatGateFailure = (row: LagRow, failure: GateFailure): string => {
  if (failure.reason === 'no-group') {
    const why = row.group === null ? 'no consumer group reads it' : `it has no consumer group "${shown(row.group)}"`
    return `${rowName(row)}: ${why}, so --${failure.gate} ${gateLimit(failure)} cannot pass`
  }
  return `${rowName(row)}: ${gateLabels[failure.gate]} ${gateValue(failure)} > --${failure.gate} ${gateLimit(failure)}`
}

export const formatLag = (row: LagRow): string => {
  if (!row.groupExists) return '-'
  if (row.lag === null) return 'unknown'
  return formatCount(row.lag)
}

const LAG_COLUMNS: readonly TableColumn[] = [
  {title: 'TOPIC', shrinks: true},
  {title: 'GROUP', shrinks: true},
  {title: 'LENGTH', align: 'right'},
  {title: 'LAG', align: 'right'},
  {title: 'PENDING', align: 'right'},
  {title: 'OLDEST PENDING', narrowTitle: 'OLDEST', align: 'right'},
  {title: 'CONSUMERS', narrowTitle: 'CONS', align: 'right'},
  {title: 'DLQ', align: 'right'},
]

const NODE_COLUMN: TableColumn = {title: 'NODE'}
const PARTITION_COLUMN: TableColumn = {title: 'PARTITION', narrowTitle: 'PART', align: 'right'}

/** A row's partition: its index (`lag --partitions`), `all 8` for a partitioned topic's row over all of them, `-` for a plain stream. */
const partitionCell = (row: LagRow): string => (row.partition !== null ? String(row.partition) : row.partitions > 1 ? `all ${row.partitions}` : '-')

const groupCell = (row: LagRow, style: ChalkInstance): TableCell => {
  if (row.group === null) return {text: '(no consumer group)', paint: style.dim}
  return row.groupExists ? row.group : {text: `${row.group} (missing)`, paint: style.dim}
}

/**
 * The `qctl lag` table (boxed on a wide terminal, compact when piped, narrow or long; names cut to
 * fit the width). Failing cells are red when colour is on; the gate list below carries the meaning.
 */
export function formatLagTable(rows: readonly LagRow[], style: ChalkInstance, options: TableOptions = {}): string {
  // On a Redis Cluster, a last column names the primary that owns each topic.
  const onCluster = rows.some((row) => row.node !== null)
  // A PARTITION column only when some topic is partitioned: plain streams' tables stay as they were.
  const partitioned = rows.some((row) => row.partition !== null || row.partitions > 1)
  const scheduled = anyScheduled(rows)
  const cells = rows.map((row): TableCell[] => {
    const failed = new Set(row.failedGates.map((failure) => failure.gate))
    const mark = (gate: GateFailure['gate'], text: string): TableCell => (failed.has(gate) ? {text, paint: style.red} : text)
    return [
      row.topic,
      ...(partitioned ? [partitionCell(row)] : []),
      groupCell(row, style),
      formatCount(row.length),
      mark('max-lag', formatLag(row)),
      row.groupExists ? mark('max-pending', formatCount(row.pending)) : '-',
      row.oldestPendingAgeMs === null ? '-' : mark('max-pending-age', formatAge(row.oldestPendingAgeMs)),
      row.groupExists ? `${row.activeConsumers}/${row.consumers}` : '-',
      mark('max-dlq', formatCount(row.deadLetters)),
      ...(scheduled ? [scheduledCell(row.scheduled, row.scheduledDue, style)] : []),
      ...(onCluster ? [row.node ?? '-'] : []),
    ]
  })
  const [topicColumn, ...rest] = LAG_COLUMNS
  const columns = [topicColumn as TableColumn, ...(partitioned ? [PARTITION_COLUMN] : []), ...rest, ...(scheduled ? [SCHEDULED_COLUMN] : []), ...(onCluster ? [NODE_COLUMN] : [])]
  return renderTable(columns, cells, {head: style.bold, ...options}).join('\n')
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
