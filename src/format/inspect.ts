import type {ChalkInstance} from 'chalk'

import {keySlot} from '../core/redis/key-slot.js'
import type {InspectResult} from '../core/stats/inspect.js'
import {formatAge, formatCount} from './numbers.js'
import {renderTable, truncate, type TableColumn, type TableOptions} from './table.js'
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
export function formatInspect(result: InspectResult, style: ChalkInstance, options: TableOptions = {}): string {
  const table = (columns: readonly TableColumn[], rows: string[][]): string => renderTable(columns, rows, {head: style.bold, ...options}).join('\n')
  const out: string[] = []
  const added = result.entriesAdded === null ? '' : `, ${formatCount(result.entriesAdded)} added in all`
  out.push(`${style.bold(`Topic ${shown(result.topic)}`)}: ${formatCount(result.length)} entries${result.firstEntry === null ? ' (empty)' : ''}${added}`)
  if (result.node !== null) out.push(`  on cluster node ${result.node} (hash slot ${keySlot(result.topic)})`)
  // On lines of their own: with the times, one line would not fit 80 columns.
  if (result.firstEntry !== null) out.push(`  first ${result.firstEntry.id} (${result.firstEntry.at})`, `  last  ${result.lastEntry?.id} (${result.lastEntry?.at})`)

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
          PENDING_COLUMNS,
          group.oldestPending.map((entry) => [entry.id, entry.consumer, formatAge(entry.idleMs), String(entry.deliveries), entry.publishedAt ?? '-']),
        ),
      )
    }
  }

  out.push('', `${style.bold('Dead letters')} (${shown(result.deadLetters.key)}): ${formatCount(result.deadLetters.length)}`)
  if (result.deadLetters.newest.length > 0) {
    out.push(
      table(
        DEAD_LETTER_COLUMNS,
        result.deadLetters.newest.map((entry) => [
          entry.id,
          entry.originId ?? '-',
          entry.group ?? '-',
          entry.attempts === null ? '-' : String(entry.attempts),
          entry.errorName === null && entry.errorMessage === null ? '-' : errorPreview(`${entry.errorName ?? 'Error'}: ${entry.errorMessage ?? ''}`),
        ]),
      ),
    )
  }
  return out.join('\n')
}

/** Cut on what is shown, so an escape is never cut in half. */
const errorPreview = (text: string): string => truncate(shown(text), ERROR_PREVIEW)
