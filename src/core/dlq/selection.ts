import {usageError} from '../errors.js'
import type {DlqEntry} from './entry.js'
import {compareStreamIds, firstIdAt, formatStreamId, lastIdAt, minId, parseStreamId, type StreamId} from './stream-id.js'

/**
 * Which dead-letter entries `qctl dlq replay` and `qctl dlq purge` act on. Every given criterion
 * must hold (AND). Pure: parsing and matching, no Redis.
 */
export interface Selection {
  /** Only entries dead-lettered from this topic; entries that record no topic are included. */
  topic: string
  /** Only these dead-letter entry IDs. */
  ids?: readonly string[] | undefined
  /** Dead-lettered at or after this ID (inclusive). */
  since?: StreamId | undefined
  /** Dead-lettered at or before this ID (inclusive). */
  until?: StreamId | undefined
  /** Matches the error name, the message, or `name: message`. */
  error?: RegExp | undefined
  group?: string | undefined
}

/** Selection criteria as the user gave them (flag values). */
export interface SelectionInput {
  topic: string
  ids?: readonly string[] | undefined
  since?: string | undefined
  until?: string | undefined
  error?: string | undefined
  group?: string | undefined
  /** Only entries dead-lettered more than this long before `now`. */
  olderThanMs?: number | undefined
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}/

/**
 * A time bound given as a stream ID (`1700000000000-0`), milliseconds (`1700000000000`) or an
 * ISO 8601 time (`2026-11-28T10:00:00Z`, `2026-11-28`). A bound without a sequence number covers
 * its whole millisecond: `start` is its first ID, `end` its last.
 */
export function parseBound(text: string, flag: string, side: 'start' | 'end'): StreamId {
  const trimmed = text.trim()
  const id = parseStreamId(trimmed)
  if (id !== undefined) return id
  let ms: number | undefined
  if (/^\d{1,16}$/.test(trimmed)) ms = Number(trimmed)
  else if (ISO_DATE.test(trimmed)) {
    const parsed = Date.parse(trimmed)
    if (!Number.isNaN(parsed)) ms = parsed
  }
  if (ms === undefined || ms < 0) {
    throw usageError(`invalid ${flag} "${text}": use an ISO time (2026-11-28T10:00:00Z) or a stream ID (1700000000000-0)`)
  }
  return side === 'start' ? firstIdAt(ms) : lastIdAt(ms)
}

/** Compile `--error`; an invalid expression is a usage error naming the flag. */
export function parseErrorPattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern)
  } catch (error) {
    throw usageError(`invalid --error "${pattern}": ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Check and combine the flag values into a Selection; `now` is for --older-than. */
export function buildSelection(input: SelectionInput, now: number): Selection {
  const ids = input.ids === undefined || input.ids.length === 0 ? undefined : [...new Set(input.ids.map((id) => id.trim()))]
  for (const id of ids ?? []) {
    if (parseStreamId(id) === undefined) throw usageError(`invalid --id "${id}": a dead-letter entry ID looks like 1700000000000-0`)
  }
  const since = input.since === undefined ? undefined : parseBound(input.since, '--since', 'start')
  let until = input.until === undefined ? undefined : parseBound(input.until, '--until', 'end')
  if (input.olderThanMs !== undefined) until = minId(until, lastIdAt(Math.max(0, now - input.olderThanMs - 1)))
  if (since !== undefined && until !== undefined && compareStreamIds(since, until) > 0) {
    throw usageError(`nothing can match: --since ${formatStreamId(since)} is after the end bound ${formatStreamId(until)} (--until/--older-than)`)
  }
  return {
    topic: input.topic,
    ids,
    since,
    until,
    error: input.error === undefined ? undefined : parseErrorPattern(input.error),
    group: input.group,
  }
}

export function errorMatches(pattern: RegExp, entry: Pick<DlqEntry, 'errorName' | 'errorMessage'>): boolean {
  const name = entry.errorName ?? ''
  const message = entry.errorMessage ?? ''
  // A global or sticky pattern keeps state between calls; reset it so every entry is tested alike.
  const test = (text: string): boolean => {
    pattern.lastIndex = 0
    return pattern.test(text)
  }
  return test(name) || test(message) || test(`${name}: ${message}`)
}

/** Whether one entry is selected. */
export function matchesSelection(entry: DlqEntry, selection: Selection): boolean {
  if (entry.originTopic !== null && entry.originTopic !== selection.topic) return false
  if (selection.ids !== undefined && !selection.ids.includes(entry.dlqId)) return false
  const id = parseStreamId(entry.dlqId)
  if (id === undefined) return false
  if (selection.since !== undefined && compareStreamIds(id, selection.since) < 0) return false
  if (selection.until !== undefined && compareStreamIds(id, selection.until) > 0) return false
  if (selection.group !== undefined && entry.group !== selection.group) return false
  if (selection.error !== undefined && !errorMatches(selection.error, entry)) return false
  return true
}

/** The XRANGE bounds that cover a selection (its since/until, or the whole stream). */
export function rangeOf(selection: Selection): {start: string; end: string} {
  return {
    start: selection.since === undefined ? '-' : formatStreamId(selection.since),
    end: selection.until === undefined ? '+' : formatStreamId(selection.until),
  }
}
