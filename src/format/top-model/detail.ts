import type {PartitionRow, RateRow} from '../../core/stats/rates.js'
import {formatCount} from '../numbers.js'
import {formatRate, rowLabel} from './cells.js'
import {padCell} from './layout.js'

/**
 * The lines of `top`'s detail view that are not the group's consumers or pending entries: its title,
 * and a partitioned topic's table of the focused group per partition. Pure: plain text, the screen
 * lays it out.
 */

/** `orders/billing  (8 partitions)`; `orders/billing  (cluster node host:port)` for a plain topic on a cluster. */
export function detailTitle(row: RateRow): string {
  if (row.perPartition !== null) return `${rowLabel(row)}  (${formatCount(row.partitions)} partition${row.partitions === 1 ? '' : 's'})`
  return `${rowLabel(row)}${row.node === null ? '' : `  (cluster node ${row.node})`}`
}

const NODE_WIDTH = 21

const pad = (text: string, width: number, right = false): string => padCell(text, width, right ? 'right' : 'left')

/** The head of the per-partition table; NODE only on a cluster. */
export function partitionHead(onCluster: boolean): string {
  return `${pad('PARTITION', 9)} ${onCluster ? `${pad('NODE', NODE_WIDTH)} ` : ''}${pad('DEPTH', 9, true)} ${pad('LAG', 9, true)} ${pad('PENDING', 9, true)} ${pad('IN/s', 8, true)} ${pad('OUT/s', 8, true)}`
}

/**
 * One partition of the focused group: where the group does not exist on it, its entries count as
 * lag (nothing of the group reads them) and the line says `no group`.
 */
export function partitionLine(partition: PartitionRow, onCluster: boolean): string {
  const lag = partition.lag === null ? '?' : formatCount(partition.lag)
  const pending = partition.groupExists ? formatCount(partition.pending) : '-'
  const out = partition.groupExists ? formatRate(partition.outRate) : '-'
  const node = onCluster ? `${pad(partition.node ?? '-', NODE_WIDTH)} ` : ''
  const note = partition.groupExists ? '' : '  no group'
  return `${pad(String(partition.partition), 9)} ${node}${pad(formatCount(partition.depth), 9, true)} ${pad(lag, 9, true)} ${pad(pending, 9, true)} ${pad(formatRate(partition.inRate), 8, true)} ${pad(out, 8, true)}${note}`
}

/**
 * The lines of the per-partition table that fit `lines` (head not counted), in partition order; when
 * they do not all fit, the last says how many more (`qctl lag --partitions` lists them all).
 */
export function partitionLines(partitions: readonly PartitionRow[], lines: number, onCluster: boolean): string[] {
  return fittedLines(partitions, lines, (partition) => partitionLine(partition, onCluster), (more) => `… ${formatCount(more)} more partitions (qctl lag --partitions lists them all)`)
}

/** The lines of `items` that fit `lines` (at least one); when they do not all fit, the last is `more(how many are left out)`. */
export function fittedLines<T>(items: readonly T[], lines: number, lineOf: (item: T) => string, more: (count: number) => string): string[] {
  const room = Math.max(1, lines)
  if (items.length <= room) return items.map(lineOf)
  const shownCount = room - 1
  return [...items.slice(0, shownCount).map(lineOf), more(items.length - shownCount)]
}

/**
 * Lines for the body of a section that takes up to a third of the detail view (the per-partition
 * table, the busiest keys): at least one, no more than it has; none when it has nothing.
 */
export const sectionLines = (count: number, height: number): number => (count === 0 ? 0 : Math.min(count, Math.max(1, Math.floor((height - 7) / 3))))
