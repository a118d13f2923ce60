import type {ChalkInstance} from 'chalk'

import type {DlqEntry} from '../core/dlq/entry.js'
import type {TopicDlqListResult} from '../core/dlq/list.js'
import type {PurgeResult} from '../core/dlq/purge.js'
import type {ReplayProgress, ReplayResult} from '../core/dlq/replay.js'
import {placeOf, type Place} from './dlq-place.js'
import {resultDestination} from './replay-targets.js'
import {formatAge, formatCount, formatDuration, plural, ratePerSecond} from './numbers.js'
import {COMPACT_GAP, renderTable, truncate, type TableColumn} from './table.js'
import {shown, shownLines, textWidth} from './terminal-text.js'

export {truncate}

/** Pure formatting of `qctl dlq` results: `now` and the terminal width are arguments. */

export interface TableLayout {
  /** Terminal width in columns; undefined (not a terminal): nothing is fitted, errors are shown whole. */
  width: number | undefined
  /** Milliseconds since the epoch, for ages. */
  now: number
  style: ChalkInstance
}

/** Payload previews are cut to this many characters when there is no terminal width to fit. */
export const PREVIEW_WIDTH = 60
const MIN_ERROR_WIDTH = 16
/** While a payload column is shown, the error keeps at least this much (a payload stub tells less than the error). */
const ERROR_BEFORE_PREVIEW = 32
const MIN_PREVIEW_WIDTH = 10
/** Fitted to a width, a group name is cut here: the error tells more. */
const MAX_FITTED_GROUP_WIDTH = 20
const COLUMN_GAP = COMPACT_GAP

/** A preview is never wider than a terminal: only this much of a payload (which may be megabytes) is looked at. */
const PREVIEW_SOURCE_CHARS = 1000

/** A payload preview: runs of whitespace (pretty-printed JSON's newlines and indents) as one space, then shown safely. */
const previewText = (text: string): string => shown(text.slice(0, PREVIEW_SOURCE_CHARS).replace(/\s+/g, ' ').trim())

/** `name: message`, either alone when the other is missing, `-` without both. */
export function errorText(entry: Pick<DlqEntry, 'errorName' | 'errorMessage'>): string {
  const name = entry.errorName ?? ''
  const message = entry.errorMessage ?? ''
  if (name !== '' && message !== '') return `${name}: ${message}`
  return name !== '' ? name : message !== '' ? message : '-'
}

/** How long ago, as the other tables show ages: `850ms ago`, `42s ago`, `3m12s ago`, `2h05m ago`; `-` for no time. */
export function formatAgo(thenMs: number, now: number): string {
  if (!Number.isFinite(thenMs)) return '-'
  return `${formatAge(Math.max(0, now - thenMs))} ago`
}

/** When the entry last failed (its dead-lettering time when the entry does not say). */
const failedAtMs = (entry: DlqEntry): number => Date.parse(entry.lastFailureAt ?? entry.deadLetteredAt)

export const payloadPreview = (entry: Pick<DlqEntry, 'data'>): string => (entry.data === null ? '(no data)' : previewText(entry.data))

export type Column = 'id' | 'origin' | 'group' | 'attempts' | 'error' | 'failed' | 'preview'

const COLUMNS: readonly Column[] = ['id', 'origin', 'group', 'attempts', 'error', 'failed', 'preview']
const HEADERS: Record<Column, string> = {id: 'DLQ ID', origin: 'ORIGIN ID', group: 'GROUP', attempts: 'ATTEMPTS', error: 'ERROR', failed: 'FAILED', preview: 'PAYLOAD'}
/** On a narrow terminal these columns go first, in this order, so the error keeps some room. */
const DROP_ORDER: readonly Column[] = ['origin', 'preview', 'failed']

export interface ColumnFit {
  columns: Column[]
  /** Widths of the error and payload columns; undefined: not limited (no terminal width). */
  error: number | undefined
  preview: number | undefined
}

/** Split `free` between the error and the preview: 60/40 when both need more, else one takes what the other leaves. */
function share(free: number, errorNeeds: number, previewNeeds: number): {error: number; preview: number} {
  let error = Math.floor(free * 0.6)
  if (errorNeeds + previewNeeds <= free) error = errorNeeds
  else if (errorNeeds <= error) error = errorNeeds
  else if (previewNeeds <= free - error) error = free - previewNeeds
  error = Math.max(Math.min(ERROR_BEFORE_PREVIEW, errorNeeds), error)
  return {error, preview: Math.max(Math.min(MIN_PREVIEW_WIDTH, previewNeeds), Math.min(previewNeeds, free - error))}
}

/**
 * Which columns to show and how wide the error and payload may be: they share what the other
 * columns leave of `width` (60/40 when both need more than that), the error keeping at least 32
 * columns while a payload is shown. When that is less than their minimums, the origin ID, then the
 * payload, then the age columns are left out: at 80 columns the error is kept before the payload
 * stub. Without a width: every column, errors whole, previews cut at 60 characters.
 */
export function fitColumns(measured: Readonly<Record<Column, number>>, width: number | undefined): ColumnFit {
  if (width === undefined) return {columns: [...COLUMNS], error: undefined, preview: PREVIEW_WIDTH}
  const contentWidths = {...measured, group: Math.min(measured.group, MAX_FITTED_GROUP_WIDTH)}
  let columns = [...COLUMNS]
  for (let dropped = 0; ; dropped++) {
    const fixed = columns.filter((column) => column !== 'error' && column !== 'preview')
    const free = width - fixed.reduce((sum, column) => sum + contentWidths[column], 0) - COLUMN_GAP * (columns.length - 1)
    const withPreview = columns.includes('preview')
    const needed = withPreview
      ? Math.min(ERROR_BEFORE_PREVIEW, contentWidths.error) + Math.min(MIN_PREVIEW_WIDTH, contentWidths.preview)
      : Math.min(MIN_ERROR_WIDTH, contentWidths.error)
    const next = DROP_ORDER[dropped]
    if (free >= needed || next === undefined) {
      if (!withPreview) return {columns, error: Math.max(Math.min(MIN_ERROR_WIDTH, contentWidths.error), Math.min(free, contentWidths.error)), preview: undefined}
      return {columns, ...share(free, contentWidths.error, contentWidths.preview)}
    }
    columns = columns.filter((column) => column !== next)
  }
}

/**
 * The entries as a borderless table (one line per entry): DLQ ID, origin ID, group, attempts,
 * error (name: message), age of the last failure, payload preview, fitted to the terminal width
 * (see fitColumns). Entries of a partitioned topic's partitions get a first column P, their partition
 * (a DLQ ID is unique within its partition only). Linear in the entries (a dry-run plan may hold 200,000).
 */
export function formatDlqTable(entries: readonly DlqEntry[], layout: TableLayout): string[] {
  if (!entries.some((entry) => entry.partition !== null)) return entryTable(entries, layout)
  // The partition column comes first and is never dropped: the other columns fit what it leaves.
  const partitions = entries.map((entry) => (entry.partition === null ? '-' : String(entry.partition)))
  const width = Math.max(PARTITION_TITLE.length, ...partitions.map((text) => text.length))
  const rest = entryTable(entries, {...layout, width: layout.width === undefined ? undefined : Math.max(1, layout.width - width - COLUMN_GAP)})
  const prefix = (text: string): string => `${text.padEnd(width)}${' '.repeat(COLUMN_GAP)}`
  return rest.map((line, index) => (index === 0 ? layout.style.bold(prefix(PARTITION_TITLE)) + line : prefix(partitions[index - 1] ?? '') + line))
}

const PARTITION_TITLE = 'P'

function entryTable(entries: readonly DlqEntry[], layout: TableLayout): string[] {
  const {style} = layout
  const rows = entries.map(
    (entry): Record<Column, string> => ({
      id: entry.dlqId,
      origin: shown(entry.originId ?? '-'),
      group: shown(entry.group ?? '-'),
      attempts: entry.attempts === null ? '-' : String(entry.attempts),
      error: shown(errorText(entry)),
      failed: formatAgo(failedAtMs(entry), layout.now),
      preview: payloadPreview(entry),
    }),
  )
  const contentWidths = {} as Record<Column, number>
  for (const column of COLUMNS) {
    let widest = HEADERS[column].length
    for (const row of rows) widest = Math.max(widest, textWidth(row[column]))
    contentWidths[column] = widest
  }
  const fit = fitColumns(contentWidths, layout.width)
  const columns = fit.columns.map((column): TableColumn => ({
    title: HEADERS[column],
    maxWidth: column === 'error' ? fit.error : column === 'preview' ? fit.preview : column === 'group' && layout.width !== undefined ? MAX_FITTED_GROUP_WIDTH : undefined,
  }))
  const cells = rows.map((row) => fit.columns.map((column) => (column === 'error' ? {text: row.error, paint: style.red} : row[column])))
  return renderTable(columns, cells, {layout: 'compact', head: style.bold})
}

/** What `formatList` shows: a list result (`topic` and `partitions` name a partitioned topic's streams when `dlq` is null). */
export type ListView = Omit<TopicDlqListResult, 'dlq' | 'topic' | 'partitioned' | 'partitions'> & Place

/** `qctl dlq list` for people: the table and a line saying what was shown. */
export function formatList(result: ListView, layout: TableLayout): string[] {
  const where = placeOf(result, layout.style)
  if (result.total === 0) return [`No dead-lettered entries in ${where}.`]
  if (result.filtered) return filteredList(result, where, layout)
  const shown = result.entries.length
  const which =
    result.total === 1
      ? `Showing the one entry in ${where}.`
      : shown === result.total
      ? `Showing all ${plural(result.total, 'entry', 'entries')} in ${where}, ${result.order} first.`
      : `Showing the ${formatCount(shown)} ${result.order} of ${plural(result.total, 'entry', 'entries')} in ${where} (--limit to see more).`
  return [...formatDlqTable(result.entries, layout), '', which]
}

/** `qctl dlq list` with filters: the entries that pass them, and how many the stream holds. */
function filteredList(result: ListView, where: string, layout: TableLayout): string[] {
  const dlq = `${plural(result.total, 'entry', 'entries')} in ${where}`
  const shown = result.entries.length
  if (shown === 0) return [`None of the ${dlq} matches the filters.`]
  const which = result.more
    ? `the ${formatCount(shown)} ${result.order} of the entries that match the filters, of the ${dlq} (--limit to see more)`
    : `${shown === 1 ? 'the one entry that matches' : `all ${formatCount(shown)} entries that match`} the filters, of the ${dlq}`
  return [...formatDlqTable(result.entries, layout), '', `Showing ${which}.`]
}

/**
 * Deeper than this, a payload is shown as stored: indentation grows with depth, so pretty-printing
 * 100,000 nested arrays (a 200 KB payload) would need some 10^10 characters.
 */
export const MAX_PRETTY_DEPTH = 100

/**
 * A JSON text re-indented by two spaces, values kept exactly as written (a number like 1.50 or a
 * 20-digit integer is not re-serialised); undefined when the text is not JSON or nests deeper
 * than MAX_PRETTY_DEPTH.
 */
export function prettyJson(text: string): string | undefined {
  try {
    JSON.parse(text)
  } catch {
    return undefined
  }
  let out = ''
  let depth = 0
  let inString = false
  const newline = (): string => `\n${'  '.repeat(depth)}`
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string
    if (inString) {
      out += char
      if (char === '\\') out += text[++i] ?? ''
      else if (char === '"') inString = false
      continue
    }
    if (char === ' ' || char === '\n' || char === '\r' || char === '\t') continue
    if (char === '"') {
      inString = true
      out += char
    } else if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']'
      let next = i + 1
      while (next < text.length && /\s/.test(text[next] as string)) next++
      if (text[next] === close) {
        out += char + close
        i = next
      } else {
        if (++depth > MAX_PRETTY_DEPTH) return undefined
        out += char + newline()
      }
    } else if (char === '}' || char === ']') {
      depth--
      out += newline() + char
    } else if (char === ',') {
      out += `,${newline()}`
    } else if (char === ':') {
      out += ': '
    } else out += char
  }
  return out
}

const LABEL_WIDTH = 15

const timeWithAge = (iso: string | null, now: number): string => {
  if (iso === null) return '-'
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? shown(iso) : `${iso} (${formatAgo(ms, now)})`
}

/** `qctl dlq show` for people: metadata, every original field, then the payload (pretty when JSON). */
export function formatEntry(entry: DlqEntry, now: number, style: ChalkInstance): string[] {
  // At least two spaces after a label, however long (a field name can be): never `namevalue`.
  const label = (text: string): string => style.dim(`${text.padEnd(LABEL_WIDTH - 2)}  `)
  // Multi-line values (an error with a stack, say) continue under the value column.
  const value = (text: string): string => shownLines(text).replace(/\n/g, `\n${' '.repeat(LABEL_WIDTH)}`)
  const lines = [
    `${label('DLQ entry')}${style.bold(shown(entry.dlqId))}${entry.partition === null ? '' : ` (partition ${entry.partition})`}, dead-lettered ${timeWithAge(entry.deadLetteredAt, now)}`,
    // Names on one line; values (an error with its stack) may continue on the next.
    `${label('origin')}${shown(entry.originTopic ?? '-')} ${shown(entry.originId ?? '-')}`,
    `${label('group')}${shown(entry.group ?? '-')}${entry.consumer === null ? '' : ` (consumer ${shown(entry.consumer)})`}`,
    `${label('attempts')}${entry.attempts ?? '-'}`,
    `${label('error')}${style.red(value(errorText(entry)))}`,
    `${label('first failure')}${timeWithAge(entry.firstFailureAt, now)}`,
    `${label('last failure')}${timeWithAge(entry.lastFailureAt, now)}`,
  ]
  for (const [name, text] of Object.entries(entry.fields)) {
    if (name !== 'data') lines.push(`${label(`field ${shown(name)}`)}${value(text)}`)
  }
  if (entry.data === null) {
    lines.push(`${label('payload')}(no data field)`)
  } else {
    const pretty = entry.fields.enc === 'raw' ? undefined : prettyJson(entry.data)
    lines.push(style.dim(pretty === undefined ? 'payload:' : 'payload (JSON):'), shownLines(pretty ?? entry.data))
  }
  return lines
}

/** `first … last` of a list of IDs (just the one when there is one). */
export function formatIdRange(ids: readonly string[]): string {
  if (ids.length === 0) return ''
  return ids.length === 1 ? (ids[0] as string) : `${ids[0]} … ${ids.at(-1)}`
}

const entriesWithRange = (ids: readonly string[]): string => `${plural(ids.length, 'entry', 'entries')} (${formatIdRange(ids)})`

/**
 * A plan as the questions see it: its IDs (oldest first) and where they are: `key`, or (null) the
 * dead-letter streams of `parts`, a partitioned topic's partitions.
 */
export interface PlanView {
  ids: readonly string[]
  key: string | null
  topic?: string | undefined
  parts?: readonly unknown[] | undefined
}

const planPlace = (plan: PlanView): string => placeOf({dlq: plan.key, topic: plan.topic, partitions: plan.parts})

/** `destination`: where the entries go, from replayDestination (src/format/replay-targets.ts). */
export const formatReplayQuestion = (plan: PlanView, destination: string): string =>
  `Replay ${entriesWithRange(plan.ids)} from ${planPlace(plan)} to ${destination}? [y/N] `

export const formatPurgeQuestion = (plan: PlanView): string => `Delete ${entriesWithRange(plan.ids)} from ${planPlace(plan)} for good? [y/N] `

/** `where`: the dead-letter stream, or streams (placeOf). */
export const formatNotFound = (ids: readonly string[], where: string): string =>
  `not in ${where} (already replayed or purged?): ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`

/** A plan's place (the spinner's text, the not-found warning). */
export const formatPlanPlace = planPlace

export const formatReplayProgress = (progress: ReplayProgress, topic: string, elapsedMs: number): string =>
  `replaying to ${topic}: ${formatCount(progress.replayed + progress.skipped)} / ${formatCount(progress.total)} (${formatCount(ratePerSecond(progress.replayed, elapsedMs))} msg/s)`

const NOTHING_CHANGED = 'nothing changed'

const nothingSelected = (length: number, dlq: string): string =>
  length === 0 ? `No dead-lettered entries in ${dlq}` : `None of the ${plural(length, 'entry', 'entries')} in ${dlq} matches the selection`

/** What the summary lines show: a result over one dead-letter stream, or (dlq null) a partitioned topic's. */
export type ReplayView = Omit<ReplayResult, 'dlq'> & Place
export type PurgeView = Omit<PurgeResult, 'dlq'> & Place

/**
 * The selected entries with their ID range; over several partitions' streams only the count (the
 * IDs are listed partition by partition, and equal IDs of two partitions are different entries).
 */
const selectedText = (result: Place & {ids: readonly string[]}): string =>
  result.dlq === null ? plural(result.ids.length, 'entry', 'entries') : entriesWithRange(result.ids)

export function formatReplaySummary(result: ReplayView, style: ChalkInstance): string {
  const dlq = placeOf(result, style)
  if (result.selected === 0) return `${nothingSelected(result.remaining, dlq)}; nothing to replay.`
  if (result.cancelled) return `Not confirmed: ${NOTHING_CHANGED}.`
  if (result.dryRun) {
    return `Dry run: would replay ${selectedText(result)} from ${dlq} to ${resultDestination(result)}; ${NOTHING_CHANGED}.`
  }
  const rate = formatCount(ratePerSecond(result.replayed, result.durationMs))
  const skipped = result.skipped > 0 ? `; ${plural(result.skipped, 'selected entry was', 'selected entries were')} already gone` : ''
  const left = result.dlq === null ? 'left in the dead-letter streams' : 'left in the dead-letter stream'
  return `Replayed ${plural(result.replayed, 'entry', 'entries')} from ${dlq} to ${resultDestination(result)} in ${formatDuration(result.durationMs)} (${rate} msg/s)${skipped}; ${formatCount(result.remaining)} ${left}.`
}

export function formatPurgeSummary(result: PurgeView, style: ChalkInstance): string {
  const dlq = placeOf(result, style)
  if (result.selected === 0) return `${nothingSelected(result.remaining, dlq)}; nothing to purge.`
  if (result.cancelled) return `Not confirmed: ${NOTHING_CHANGED}.`
  if (result.dryRun) return `Dry run: would delete ${selectedText(result)} from ${dlq}; ${NOTHING_CHANGED}.`
  const gone = result.selected - result.purged
  const skipped = gone > 0 ? ` (${formatCount(gone)} selected were already gone)` : ''
  return `Purged ${plural(result.purged, 'entry', 'entries')} from ${dlq}${skipped}; ${formatCount(result.remaining)} left.`
}
