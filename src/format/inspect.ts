import type {ChalkInstance} from 'chalk'
import Table from 'cli-table3'

import type {InspectResult} from '../core/stats/inspect.js'
import {formatAge, formatCount} from './numbers.js'

const table = (head: string[], rows: string[][], rightAligned: number[] = []): string => {
  const t = new Table({head, style: {head: [], border: []}, colAligns: head.map((_, index) => (rightAligned.includes(index) ? 'right' : 'left'))})
  for (const row of rows) t.push(row)
  return t.toString()
}

const lagText = (lag: number | null): string => (lag === null ? 'unknown' : formatCount(lag))

/** The `qctl inspect` report: stream, groups, consumers, oldest pending entries, newest dead letters. */
export function formatInspect(result: InspectResult, style: ChalkInstance): string {
  const out: string[] = []
  const span = result.firstEntry === null ? 'empty' : `first ${result.firstEntry.id} (${result.firstEntry.at}), last ${result.lastEntry?.id} (${result.lastEntry?.at})`
  const added = result.entriesAdded === null ? '' : `, ${formatCount(result.entriesAdded)} added in all`
  out.push(`${style.bold(`Topic ${result.topic}`)}: ${formatCount(result.length)} entries, ${span}${added}`)

  if (result.groups.length === 0) {
    out.push('', 'No consumer groups.')
  } else {
    out.push(
      '',
      style.bold('Groups'),
      table(
        ['GROUP', 'LAST DELIVERED', 'LAG', 'PENDING', 'OLDEST', 'CONSUMERS'],
        result.groups.map((group) => [
          group.name,
          group.lastDeliveredId,
          lagText(group.lag),
          formatCount(group.pending),
          group.oldestPendingAgeMs === null ? '-' : formatAge(group.oldestPendingAgeMs),
          `${group.activeConsumers}/${group.consumers}`,
        ]),
        [2, 3, 4, 5],
      ),
    )
  }
  for (const group of result.groups) {
    if (group.consumerDetails.length > 0) {
      out.push(
        '',
        style.bold(`Consumers of ${group.name}`),
        table(
          ['CONSUMER', 'PENDING', 'IDLE', 'INACTIVE'],
          group.consumerDetails.map((consumer) => [consumer.name, formatCount(consumer.pending), formatAge(consumer.idleMs), consumer.inactiveMs === null ? '-' : formatAge(consumer.inactiveMs)]),
          [1, 2, 3],
        ),
      )
    }
    if (group.oldestPending.length > 0) {
      out.push(
        '',
        style.bold(`Oldest pending entries of ${group.name}`),
        table(
          ['ID', 'CONSUMER', 'IDLE', 'DELIVERIES', 'PUBLISHED'],
          group.oldestPending.map((entry) => [entry.id, entry.consumer, formatAge(entry.idleMs), String(entry.deliveries), entry.publishedAt ?? '-']),
          [2, 3],
        ),
      )
    }
  }

  out.push('', `${style.bold('Dead letters')} (${result.deadLetters.key}): ${formatCount(result.deadLetters.length)}`)
  if (result.deadLetters.newest.length > 0) {
    out.push(
      table(
        ['ID', 'ORIGIN ID', 'GROUP', 'ATTEMPTS', 'ERROR'],
        result.deadLetters.newest.map((entry) => [
          entry.id,
          entry.originId ?? '-',
          entry.group ?? '-',
          entry.attempts === null ? '-' : String(entry.attempts),
          entry.errorName === null && entry.errorMessage === null ? '-' : `${entry.errorName ?? 'Error'}: ${(entry.errorMessage ?? '').slice(0, 60)}`,
        ]),
        [3],
      ),
    )
  }
  return out.join('\n')
}
