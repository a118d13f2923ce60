import type {ChalkInstance} from 'chalk'

import type {AlterResult} from '../core/topics/alter.js'
import type {DeleteResult} from '../core/topics/delete.js'
import type {TopicDescription} from '../core/topics/describe.js'
import type {TopicListRow} from '../core/topics/list.js'
import {GROWTH_POLL_MS} from '../core/partitions/metadata.js'
import {formatCount, formatDuration, plural} from './numbers.js'
import {renderTable, type TableColumn, type TableOptions} from './table.js'
import {shown} from './terminal-text.js'

const PARTITION_COLUMNS: readonly TableColumn[] = [
  {title: 'PARTITION', narrowTitle: 'P', align: 'right'},
  {title: 'STREAM', shrinks: true},
  {title: 'SLOT', align: 'right'},
  {title: 'NODE'},
  {title: 'MESSAGES', narrowTitle: 'MSGS', align: 'right'},
  {title: 'LAST ID'},
  {title: 'GROUPS', align: 'right'},
  {title: 'DLQ', align: 'right'},
]

const LIST_COLUMNS: readonly TableColumn[] = [
  {title: 'TOPIC', shrinks: true},
  {title: 'PARTITIONS', narrowTitle: 'PARTS', align: 'right'},
  {title: 'MESSAGES', narrowTitle: 'MSGS', align: 'right'},
]

/** `topic "orders": 8 partitions (murmur2), version 1, created 2026-12-04T…` and the per-partition table. */
export function formatTopicDescription(description: TopicDescription, style: ChalkInstance, options: TableOptions = {}): string[] {
  const head = description.partitioned
    ? `topic ${shown(description.topic)}: ${plural(description.partitionCount, 'partition')} (key hash ${description.hash ?? '?'}), version ${description.version ?? '?'}, created ${description.createdAt ?? '?'}`
    : `topic ${shown(description.topic)}: a plain stream (one partition, no metadata)`
  const totals = `${plural(description.messages, 'message')}, ${plural(description.deadLetters, 'dead letter')}`
  const onCluster = description.partitions.some((partition) => partition.node !== null)
  const columns = onCluster ? PARTITION_COLUMNS : PARTITION_COLUMNS.filter((column) => column.title !== 'NODE')
  const rows = description.partitions.map((partition) => [
    String(partition.partition),
    partition.stream,
    String(partition.slot),
    ...(onCluster ? [partition.node ?? '-'] : []),
    partition.exists ? formatCount(partition.length) : '-',
    partition.lastId ?? '-',
    String(partition.groups),
    formatCount(partition.deadLetters),
  ])
  return [style.bold(head), totals, ...renderTable(columns, rows, {head: style.bold, ...options})]
}

export function formatTopicList(rows: readonly TopicListRow[], style: ChalkInstance, options: TableOptions = {}): string[] {
  if (rows.length === 0) return ['no topics']
  return renderTable(LIST_COLUMNS, rows.map((row) => [row.topic, row.partitioned ? String(row.partitionCount) : '- (stream)', formatCount(row.messages)]), {head: style.bold, ...options})
}

/** What growing a topic does to its keys: said before asking, and in the summary. */
export function formatKeysMoved(result: Pick<AlterResult, 'from' | 'to' | 'sampledKeys' | 'movedKeys'>): string {
  if (result.to === result.from) return `the topic already has ${plural(result.to, 'partition')}: nothing to change`
  const sample =
    result.sampledKeys === 0
      ? 'no keyed messages were found to sample'
      : `${formatCount(result.movedKeys)} of ${plural(result.sampledKeys, 'key')} sampled from the newest messages (${Math.round((100 * result.movedKeys) / result.sampledKeys)}%) move to another partition`
  return `${result.from} → ${result.to} partitions: ${sample}; a moved key's new messages go to its new partition while older ones may still wait in the old one, so its order across the two is not kept until the old ones are handled`
}

export function formatAlterSummary(result: AlterResult, style: ChalkInstance, options: TableOptions = {}): string[] {
  const groups = result.groups.map(shown).join(', ')
  if (result.dryRun) {
    const made = groups === '' ? [] : [`would make ${result.groups.length === 1 ? 'group' : 'groups'} ${groups} on them, reading from their start`]
    return [`dry run: ${formatKeysMoved(result)}`, `would add: ${result.partitions.slice(result.from).map((partition) => partition.stream).join(', ') || 'nothing'}`, ...made]
  }
  if (!result.changed) return [result.to === result.from ? formatKeysMoved(result) : 'cancelled: nothing changed']
  const made = groups === '' ? '' : ` (${result.groups.length === 1 ? 'group' : 'groups'} ${groups} made on them, reading from their start)`
  const pickUp = `running workers read them within ${formatDuration(GROWTH_POLL_MS)}; restart long-running publishers`
  return [`added ${plural(result.to - result.from, 'partition')} to ${shown(result.topic)}${made}: ${pickUp}`, ...formatTopicDescription(result, style, options)]
}

export function formatDeleteSummary(result: DeleteResult): string[] {
  const what = `${plural(result.keys.length, 'key')} (${plural(result.messages, 'message')}, ${plural(result.deadLetters, 'dead letter')})`
  if (result.dryRun) return [`dry run: would delete topic ${shown(result.topic)}: ${what}`, ...result.keys.map((key) => `  ${shown(key)}`)]
  if (result.cancelled) return ['cancelled: nothing deleted']
  return [`deleted topic ${shown(result.topic)}: ${what}`]
}

export const formatDeleteQuestion = (result: DeleteResult): string =>
  `Delete topic ${shown(result.topic)} for good: ${plural(result.keys.length, 'key')}, ${plural(result.messages, 'message')} and ${plural(result.deadLetters, 'dead letter')}?`
