import type {ChalkInstance} from 'chalk'

import {keySlot} from '../core/redis/key-slot.js'
import {pendingAgeMs} from '../core/stats/pending-age.js'
import type {InspectResult} from '../core/stats/inspect.js'
import {formatAge, formatCount} from './numbers.js'
import {anyScheduled, SCHEDULED_COLUMN, scheduledCell} from './scheduled.js'
import {renderTable, truncate, type TableCell, type TableColumn, type TableOptions} from './table.js'
import {shown} from './terminal-text.js'

const lagText = (lag: number | null): string => (lag === null ? 'unknown' : formatCount(lag))

/** Error texts in the dead-letter table are cut here (the whole text is in `qctl dlq show`). */
const ERROR_PREVIEW = 60

const GROUP_COLUMNS: readonly TableColumn[] = [
  {title: 'GROUP', shrinks: true},
  {title: 'LAST DELIVERED'},
  {title: 'LAG', align: 'right'},
  {title: 'PENDING', align: 'right'},
  {title: 'OLDEST', align: 'right'},
  {title: 'CONSUMERS', narrowTitle: 'CONS', align: 'right'},
]
const CONSUMER_COLUMNS: readonly TableColumn[] = [
  {title: 'CONSUMER', shrinks: true},
  {title: 'PENDING', align: 'right'},
  {title: 'IDLE', align: 'right'},
  {title: 'INACTIVE', align: 'right'},
]
const PENDING_COLUMNS: readonly TableColumn[] = [
  {title: 'ID'},
  {title: 'CONSUMER', shrinks: true},
  {title: 'IDLE', align: 'right'},
  {title: 'DELIVERIES', narrowTitle: 'DELIV', align: 'right'},
  {title: 'PUBLISHED'},
]
const PARTITION_COLUMN: TableColumn = {title: 'PARTITION', narrowTitle: 'P', align: 'right'}
const PARTITION_COLUMNS: readonly TableColumn[] = [
  PARTITION_COLUMN,
  {title: 'STREAM', shrinks: true},
  {title: 'NODE'},
  {title: 'ENTRIES', align: 'right'},
  {title: 'LAST ID'},
  {title: 'DLQ', align: 'right'},
]
const DEAD_LETTER_COLUMNS: readonly TableColumn[] = [
  {title: 'ID'},
  {title: 'ORIGIN ID'},
  {title: 'GROUP', shrinks: true},
  {title: 'ATTEMPTS', narrowTitle: 'TRIES', align: 'right'},
  {title: 'ERROR', shrinks: true},
]

/**
 * The `qctl inspect` report: stream, groups, consumers, oldest pending entries, newest dead letters.
 * Names and error texts come from Redis: shown through the one sanitiser (the tables do it per cell).
 */
export function formatInspect(result: InspectResult, style: ChalkInstance, options: TableOptions = {}, perPartition = false, now = Date.now()): string {
  const table = (columns: readonly TableColumn[], rows: TableCell[][]): string => renderTable(columns, rows, {head: style.bold, ...options}).join('\n')
  const out: string[] = []
  const added = result.entriesAdded === null ? '' : `, ${formatCount(result.entriesAdded)} added in all`
  const over = result.partitions === null ? '' : ` in ${result.partitions.length} partitions`
  out.push(`${style.bold(`Topic ${shown(result.topic)}`)}: ${formatCount(result.length)} entries${over}${result.firstEntry === null ? ' (empty)' : ''}${added}`)
  if (result.node !== null) out.push(`  on cluster node ${result.node} (hash slot ${keySlot(result.topic)})`)
  // On lines of their own: with the times, one line would not fit 80 columns.
  if (result.firstEntry !== null) out.push(`  first ${result.firstEntry.id} (${result.firstEntry.at})`, `  last  ${result.lastEntry?.id} (${result.lastEntry?.at})`)
  if (result.partitions !== null) {
    const scheduled = anyScheduled(result.partitions)
    const onCluster = result.partitions.some((partition) => partition.node !== null)
    out.push(
      '',
      style.bold('Partitions'),
      table(
        [...(onCluster ? PARTITION_COLUMNS : PARTITION_COLUMNS.filter((column) => column.title !== 'NODE')), ...(scheduled ? [SCHEDULED_COLUMN] : [])],
        result.partitions.map((partition) => [
          String(partition.partition),
          partition.stream,
          ...(onCluster ? [partition.node ?? '-'] : []),
          formatCount(partition.length),
          partition.lastEntry?.id ?? '-',
          formatCount(partition.deadLetters),
          ...(scheduled ? [scheduledCell(partition.scheduled, partition.scheduledDue, style)] : []),
        ]),
      ),
    )
  }

  if (result.groups.length === 0) {
    out.push('', 'No consumer groups.')
  } else {
    out.push(
      '',
      style.bold('Groups'),
      table(
        GROUP_COLUMNS,
        result.groups.map((group) => [
          group.name,
          group.lastDeliveredId,
          lagText(group.lag),
          formatCount(group.pending),
          group.oldestPendingAgeMs === null ? '-' : formatAge(group.oldestPendingAgeMs),
          `${group.activeConsumers}/${group.consumers}`,
        ]),
      ),
    )
  }
  if (perPartition && result.partitions !== null && result.groups.length > 0) {
    out.push(
      '',
      style.bold('Groups by partition'),
      table(
        [PARTITION_COLUMN, ...GROUP_COLUMNS],
        result.partitions.flatMap((partition) =>
          result.groups.map((whole) => {
            const group = partition.groups.find((candidate) => candidate.name === whole.name)
            if (group === undefined) return [String(partition.partition), `${whole.name} (missing)`, '-', '-', '-', '-', '-']
            const age = pendingAgeMs(group.oldestPendingId, group.oldestPendingIdleMs, now)
            return [String(partition.partition), group.name, group.lastDeliveredId, lagText(group.lag), formatCount(group.pending), age === null ? '-' : formatAge(age), `${group.activeConsumers}/${group.consumers}`]
          }),
        ),
      ),
    )
  }
  for (const group of result.groups) {
    if (group.consumerDetails.length > 0) {
      out.push(
        '',
        style.bold(`Consumers of ${shown(group.name)}`),
        table(
          CONSUMER_COLUMNS,
          group.consumerDetails.map((consumer) => [consumer.name, formatCount(consumer.pending), formatAge(consumer.idleMs), consumer.inactiveMs === null ? '-' : formatAge(consumer.inactiveMs)]),
        ),
      )
    }
    if (group.oldestPending.length > 0) {
      out.push(
        '',
        style.bold(`Oldest pending entries of ${shown(group.name)}`),
        table(
          result.partitions === null ? PENDING_COLUMNS : [PARTITION_COLUMN, ...PENDING_COLUMNS],
          group.oldestPending.map((entry) => [
            ...(result.partitions === null ? [] : [String(entry.partition ?? '-')]),
            entry.id,
            entry.consumer,
            formatAge(entry.idleMs),
            String(entry.deliveries),
            entry.publishedAt ?? '-',
          ]),
        ),
      )
    }
  }

  const where = result.deadLetters.key === null ? "each partition's {…}:dlq" : shown(result.deadLetters.key)
  out.push('', `${style.bold('Dead letters')} (${where}): ${formatCount(result.deadLetters.length)}`)
  if (result.deadLetters.newest.length > 0) {
    out.push(
      table(
        result.partitions === null ? DEAD_LETTER_COLUMNS : [PARTITION_COLUMN, ...DEAD_LETTER_COLUMNS],
        result.deadLetters.newest.map((entry) => [
          ...(result.partitions === null ? [] : [String(entry.partition ?? '-')]),
          entry.id,
          entry.originId ?? '-',
          entry.group ?? '-',
          entry.attempts === null ? '-' : String(entry.attempts),
          entry.errorName === null && entry.errorMessage === null ? '-' : errorPreview(`${entry.errorName ?? 'Error'}: ${entry.errorMessage ?? ''}`),
        ]),
      ),
    )
  }
  out.push(...scheduledLines(result.scheduled, style))
  return out.join('\n')
}

/**
 * `Scheduled ({orders}:scheduled): 12, 3 of them due and not appended (…), next due 2026-…`; nothing
 * when none are held (most topics); says so when the schedule could not be read.
 */
function scheduledLines(scheduled: InspectResult['scheduled'], style: ChalkInstance): string[] {
  const where = scheduled.key === null ? "each partition's {…}:scheduled" : shown(scheduled.key)
  const head = `${style.bold('Scheduled')} (${where})`
  if (scheduled.messages === null) return ['', `${head}: unknown (could not be read: the user may not, or the key is not a sorted set)`]
  if (scheduled.messages === 0) return []
  const due =
    scheduled.due === null
      ? ''
      : scheduled.due > 0
        ? style.yellow(`, ${formatCount(scheduled.due)} of them due and not appended yet (no qctl work of the topic or qctl schedule run is moving them)`)
        : ''
  const next = scheduled.nextDueAt === null ? '' : `, next due ${scheduled.nextDueAt}`
  return ['', `${head}: ${formatCount(scheduled.messages)}${due}${next}`]
}

/** Cut on what is shown, so an escape is never cut in half. */
const errorPreview = (text: string): string => truncate(shown(text), ERROR_PREVIEW)
