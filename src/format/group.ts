import type {ChalkInstance} from 'chalk'

import type {GroupCreateResult} from '../core/groups/create.js'
import {losses, type GroupDeleteResult} from '../core/groups/delete.js'
import type {GroupListRow} from '../core/groups/list.js'
import type {SeekResult} from '../core/groups/seek.js'
import type {LiveConsumer} from '../core/groups/topic-groups.js'
import {formatCount, plural} from './numbers.js'
import {renderTable, type TableCell, type TableColumn, type TableOptions} from './table.js'
import {shown} from './terminal-text.js'

/** The human output of the `qctl group` commands. Pure; names from Redis go through `shown`. */

const PARTITION_COLUMN: TableColumn = {title: 'PARTITION', narrowTitle: 'PART', align: 'right'}

const LIST_COLUMNS: readonly TableColumn[] = [
  {title: 'TOPIC', shrinks: true},
  {title: 'GROUP', shrinks: true},
  {title: 'LAG', align: 'right'},
  {title: 'PENDING', align: 'right'},
  {title: 'CONSUMERS', narrowTitle: 'CONS', align: 'right'},
  {title: 'LAST DELIVERED', narrowTitle: 'POSITION'},
]

/** A row's partition: its index, `all N` for a row over a partitioned topic's partitions, `-` for a plain stream. */
const partitionCell = (row: {partition: number | null; partitions: number}): string => (row.partition !== null ? String(row.partition) : row.partitions > 1 ? `all ${row.partitions}` : '-')

export function formatGroupList(rows: readonly GroupListRow[], style: ChalkInstance, options: TableOptions = {}): string[] {
  if (rows.length === 0) return ['No consumer groups found.']
  const partitioned = rows.some((row) => row.partition !== null || row.partitions > 1)
  const onCluster = rows.some((row) => row.node !== null)
  const columns = [LIST_COLUMNS[0] as TableColumn, ...(partitioned ? [PARTITION_COLUMN] : []), ...LIST_COLUMNS.slice(1), ...(onCluster ? [{title: 'NODE'}] : [])]
  const cells = rows.map((row): TableCell[] => {
    const group: TableCell = row.groupExists ? row.group : {text: `${row.group} (missing)`, paint: style.dim}
    return [
      row.topic,
      ...(partitioned ? [partitionCell(row)] : []),
      group,
      !row.groupExists ? '-' : row.lag === null ? 'unknown' : formatCount(row.lag),
      formatCount(row.pending),
      `${row.liveConsumers}/${row.consumers}`,
      row.lastDeliveredId ?? '-',
      ...(onCluster ? [row.node ?? '-'] : []),
    ]
  })
  return renderTable(columns, cells, {head: style.bold, ...options})
}

/** `billing of orders`, names shown safely. */
const groupOf = (result: {group: string; topic: string}): string => `group ${shown(result.group)} of ${shown(result.topic)}`

const where = (partition: {partition: number | null}): string => (partition.partition === null ? '' : `partition ${partition.partition}: `)

export function formatCreateSummary(result: GroupCreateResult): string[] {
  const made = result.partitions.filter((partition) => partition.created)
  const existed = result.partitions.filter((partition) => partition.existed)
  const toDeliver = made.reduce((sum, partition) => sum + (partition.lag ?? 0), 0)
  const count = result.partitioned ? ` on ${made.length === result.partitions.length ? 'every partition' : plural(made.length, 'partition')}` : ''
  if (made.length === 0) return [`${groupOf(result)} already exists${result.partitioned ? ' on every partition' : ''}: left as it is`]
  const head = `${result.dryRun ? 'dry run: would make' : 'made'} ${groupOf(result)}${count} from ${result.from}: ${plural(toDeliver, 'entry', 'entries')} to deliver`
  const lines = [head]
  if (result.partitioned || existed.length > 0) {
    for (const partition of result.partitions) {
      lines.push(
        partition.created
          ? `  ${where(partition)}at ${partition.position ?? '-'}, ${plural(partition.lag ?? 0, 'entry', 'entries')} to deliver`
          : `  ${where(partition)}already there (at ${partition.position ?? '-'}): left as it is`,
      )
    }
  }
  if (!result.dryRun && result.replayGroupsCreated > 0) lines.push(`made on ${plural(result.replayGroupsCreated, 'replay stream')} too, as qctl work makes it`)
  return lines
}

const SEEK_COLUMNS: readonly TableColumn[] = [
  {title: 'FROM'},
  {title: 'TO'},
  {title: 'DELIVERED AGAIN', narrowTitle: 'AGAIN', align: 'right'},
  {title: 'SKIPPED', align: 'right'},
  {title: 'LAG AFTER', narrowTitle: 'LAG', align: 'right'},
  {title: 'PENDING', align: 'right'},
]

const liveText = (consumers: readonly LiveConsumer[]): string => {
  const names = [...new Set(consumers.map((consumer) => shown(consumer.name)))]
  return `${plural(names.length, 'live consumer')} (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})`
}

/** What becomes of the pending entries, said every time. */
function pendingFate(result: SeekResult): string {
  if (result.pending === 0) return 'nothing was pending'
  if (!result.dropPending) return `${plural(result.pending, 'pending entry', 'pending entries')} kept: they stay pending and will still be acknowledged or retried`
  if (result.dryRun || result.cancelled) return `${plural(result.pending, 'pending entry', 'pending entries')} would be dropped (acknowledged, their retry state removed)`
  return `${plural(result.pendingDropped, 'pending entry', 'pending entries')} dropped (acknowledged, their retry state removed)`
}

export function formatSeekSummary(result: SeekResult, style: ChalkInstance, options: TableOptions = {}): string[] {
  const target = result.toGroup === null ? (result.to ?? '?') : `the position of group ${shown(result.toGroup)}`
  const moves = `${plural(result.redelivered, 'entry', 'entries')} delivered again, ${formatCount(result.skipped)} skipped`
  const rows = result.partitions.map((partition): TableCell[] => [
    ...(result.partitioned ? [String(partition.partition)] : []),
    partition.from ?? '-',
    partition.groupExists ? (partition.to ?? '-') : {text: '(no group)', paint: style.dim},
    formatCount(partition.redelivered),
    formatCount(partition.skipped),
    partition.lagAfter === null ? '-' : formatCount(partition.lagAfter),
    formatCount(partition.pending),
  ])
  const table = renderTable(result.partitioned ? [PARTITION_COLUMN, ...SEEK_COLUMNS] : SEEK_COLUMNS, rows, {head: style.bold, ...options})
  if (result.cancelled) return ['cancelled: nothing changed']
  if (result.dryRun) {
    const refused = result.liveConsumers.length > 0 ? [`refused without --force: ${liveText(result.liveConsumers)} seen within the last minute`] : []
    return [`dry run: ${groupOf(result)} would move to ${target}: ${moves}; ${pendingFate(result)}`, ...table, ...refused]
  }
  return [...table, `moved ${groupOf(result)} to ${target}: ${moves}; ${pendingFate(result)}`]
}

export function formatSeekQuestion(result: SeekResult): string {
  const what = [
    ...(result.skipped > 0 ? [`skip ${plural(result.skipped, 'entry', 'entries')} not delivered yet`] : []),
    ...(result.dropPending && result.pending > 0 ? [`drop ${plural(result.pending, 'pending entry', 'pending entries')}`] : []),
  ]
  return `Move ${groupOf(result)}: ${what.join(' and ')}?`
}

/** ` and 3 keys of its state`, or nothing when it has none. */
const stateKeys = (count: number): string => (count === 0 ? '' : ` and ${plural(count, 'key')} of its state`)

export function formatGroupDeleteQuestion(plan: GroupDeleteResult): string {
  const lost = losses(plan)
  return `Delete ${groupOf(plan)}${plan.partitioned ? ` on ${plural(plan.partitions.filter((partition) => partition.groupExists).length, 'partition')}` : ''}${stateKeys(plan.keys.length)}${lost.length > 0 ? `, losing ${lost.join('; ')}` : ''}?`
}

export function formatGroupDeleteSummary(result: GroupDeleteResult): string[] {
  const lost = losses(result)
  if (result.cancelled) return ['cancelled: nothing deleted']
  if (result.dryRun) {
    const partitions = result.partitions.filter((partition) => partition.groupExists)
    const refusal = lost.length > 0 ? [`${result.force ? 'would lose' : 'refused without --force, which would lose'}: ${lost.join('; ')}`] : ['nothing pending: nothing would be lost']
    return [
      `dry run: would delete ${groupOf(result)}${result.partitioned ? ` on ${plural(partitions.length, 'partition')}` : ''}${stateKeys(result.keys.length)}${result.keys.length > 0 ? ':' : ''}`,
      ...result.keys.map((key) => `  ${shown(key)}`),
      ...refusal,
    ]
  }
  const groups = result.partitioned ? ` on ${plural(result.groupsDestroyed, 'partition')}` : ''
  return [`deleted ${groupOf(result)}${groups}${stateKeys(result.keysDeleted)}${lost.length > 0 ? `; lost ${lost.join('; ')}` : ''}`]
}
