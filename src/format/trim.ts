import type {ChalkInstance} from 'chalk'

import type {TrimLine} from '../core/trim/line.js'
import type {TrimAmount, TrimResult, TrimStream} from '../core/trim/plan.js'
import {PARKED_CONSUMER} from '../core/worker/group-ops.js'
import {formatAge, formatBytes, formatCount, plural} from './numbers.js'
import {renderTable, type TableColumn, type TableOptions} from './table.js'
import {shown} from './terminal-text.js'

/** `qctl trim`'s human output: what each rule removes per stream, and which group holds the line. Pure. */

/** A table cell: `600 (61.2 KiB)`. */
export const formatAmount = (amount: TrimAmount): string => (amount.entries === 0 ? '0' : `${formatCount(amount.entries)} (${formatBytes(amount.bytes)})`)

/** In a sentence: `600 entries (61.2 KiB)`. */
export const formatEntries = (amount: TrimAmount): string => `${plural(amount.entries, 'entry', 'entries')}${amount.entries === 0 ? '' : ` (${formatBytes(amount.bytes)})`}`

/** `before 7d (1718000000000-0)` or `all but the newest 1,000 entries`. */
export function formatRule(result: Pick<TrimResult, 'rule'>): string {
  const {before, minId, maxlen} = result.rule
  if (before !== null) return before === minId ? `before ${shown(before)}` : `before ${shown(before)} (${minId ?? '?'})`
  return maxlen === 0 || maxlen === null ? 'all entries (--maxlen 0)' : `all but the newest ${plural(maxlen, 'entry', 'entries')}`
}

/** Who holds the line of a stream, and why. */
export function formatHolder(line: TrimLine | null): string {
  if (line === null) return 'no groups: the rule applies'
  const group = shown(line.group)
  switch (line.reason) {
    case 'pending':
      if (line.consumer === PARKED_CONSUMER) return `${group}: parked retry ${line.entryId ?? line.minId}`
      return `${group}: ${line.entryId ?? line.minId} pending to ${shown(line.consumer ?? '?')}${line.idleMs === null ? '' : ` (idle ${formatAge(line.idleMs)})`}`
    case 'undelivered':
      return `${group}: not delivered from ${line.minId}`
    case 'parked':
      return `${group}: parked retry ${line.entryId ?? line.minId} (its ${PARKED_CONSUMER} consumer is gone)`
    case 'missing':
      return `${group}: no such group here (its workers would read from the start)`
  }
}

const columnsFor = (result: TrimResult): TableColumn[] => [
  ...(result.partitioned ? [{title: 'PARTITION', narrowTitle: 'P', align: 'right' as const}] : []),
  {title: 'ENTRIES', align: 'right'},
  {title: 'RULE REMOVES', narrowTitle: 'RULE', align: 'right'},
  ...(result.dryRun || result.cancelled ? [{title: 'SAFE TRIM REMOVES', narrowTitle: 'SAFE', align: 'right' as const}] : [{title: 'REMOVED', align: 'right' as const}]),
  {title: 'LINE HELD BY', shrinks: true},
]

const rowOf = (result: TrimResult, stream: TrimStream): string[] => [
  ...(result.partitioned ? [String(stream.partition)] : []),
  stream.exists ? formatCount(stream.length) : '-',
  formatAmount(stream.rule),
  result.dryRun || result.cancelled ? formatAmount(stream.safe) : formatCount(stream.removed ?? 0),
  stream.exists ? formatHolder(stream.line) : 'no stream',
]

/** What `--force` removes that a group still needs: the rule's entries past the line. */
export const pastTheLine = (result: TrimResult): TrimAmount => ({
  entries: result.totals.rule.entries - result.totals.safe.entries,
  bytes: result.totals.rule.bytes - result.totals.safe.bytes,
})

const where = (result: TrimResult): string => (result.partitioned ? ` over ${plural(result.streams.length, 'partition')}` : '')

export function formatTrimQuestion(result: TrimResult): string {
  if (result.force) {
    const past = pastTheLine(result)
    return `Trim ${shown(result.topic)} ${formatRule(result)} with --force: remove ${formatEntries(result.totals.rule)}${where(result)}, ${formatCount(past.entries)} of them not yet delivered to a group or still pending?`
  }
  return `Trim ${shown(result.topic)} ${formatRule(result)}: remove ${formatEntries(result.totals.safe)}${where(result)}, none that a group still needs?`
}

/** The lines of the summary (stdout); warnings are separate (trimWarnings). */
export function formatTrimSummary(result: TrimResult, style: ChalkInstance, options: TableOptions = {}): string[] {
  const rule = formatRule(result)
  const table = renderTable(columnsFor(result), result.streams.map((stream) => rowOf(result, stream)), {head: style.bold, ...options})
  const kept = result.totals.rule.entries - result.totals.safe.entries
  const keptLine = kept > 0 && !result.force ? [`kept ${plural(kept, 'entry', 'entries')} the rule names that a group still needs`] : []
  if (result.cancelled) return ['not confirmed: nothing trimmed']
  if (result.dryRun) {
    const head = `dry run: trim ${shown(result.topic)} ${rule}: nothing changed`
    const would = result.force
      ? `--force would remove ${formatEntries(result.totals.rule)} (behind the groups: ${formatEntries(result.totals.safe)})`
      : result.totals.safe.entries === result.totals.rule.entries
        ? `would remove ${formatEntries(result.totals.safe)}: all the rule names`
        : `would remove ${formatEntries(result.totals.safe)} (the rule alone: ${formatEntries(result.totals.rule)})`
    return [style.bold(head), ...table, would, ...keptLine]
  }
  const head = `trimmed ${shown(result.topic)} ${rule}: removed ${plural(result.totals.removed ?? 0, 'entry', 'entries')}`
  return [style.bold(head), ...table, ...keptLine]
}

/** Warnings for stderr: --force past the line, streams without groups. */
export function trimWarnings(result: TrimResult): string[] {
  const warnings: string[] = []
  const past = pastTheLine(result)
  if (result.force && past.entries > 0) {
    const verb = result.dryRun ? 'would remove' : result.cancelled ? 'would have removed' : 'removes'
    warnings.push(`--force ${verb} ${formatEntries(past)} that a consumer group has not been delivered yet or still holds pending: they are lost to it`)
  }
  const groupless = result.streams.filter((stream) => stream.exists && stream.groups === 0 && stream.rule.entries > 0)
  if (groupless.length > 0 && !result.force) {
    const which = result.partitioned ? `partition${groupless.length === 1 ? '' : 's'} ${groupless.map((stream) => stream.partition).join(', ')}` : shown(result.topic)
    warnings.push(`${which} ${groupless.length === 1 ? 'has' : 'have'} no consumer group: nothing holds a line there, and the rule applies as given`)
  }
  return warnings
}
