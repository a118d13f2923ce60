import {usageError} from '../errors.js'
import {durationMs} from '../units.js'
import type {DlqEntry} from './entry.js'
import {compareStreamIds, firstIdAt, formatStreamId, idBefore, lastIdAt, minId, parseStreamId, type StreamId} from './stream-id.js'

/**
 * Which dead-letter entries `qctl dlq replay` and `qctl dlq purge` act on. Every given criterion
 * must hold (AND). Pure: parsing and matching, no Redis.
 */
export interface Selection {
  /** Only entries dead-lettered from this topic; entries that record no topic are included. */
  topic: string
  /** A partition's selection (`topic` its stream): entries recording the partitioned topic instead are its too. */
  partitionOf?: string | undefined
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
  /** Only entries dead-lettered before this: a duration before `now` (`7d`), a time or a stream ID. */
  olderThan?: string | undefined
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}/

/** What a time flag accepts, for its error message. */
export const TIME_FORMS = 'a duration ago (30m, 1h, 7d, 1w), an ISO time (2026-11-28T10:00:00Z, 2026-11-28) or a stream ID (1700000000000-0)'

/** A point in time given as a duration ago, milliseconds or an ISO time; a stream ID is not a time (undefined). */
function timeMs(text: string, now: number): number | undefined {
  // Digits alone are milliseconds since the epoch (so `0` is the beginning, not "0 ago").
  if (/^\d{1,16}$/.test(text)) return Number(text)
  const ago = durationMs(text)
  if (ago !== undefined) return Math.max(0, now - ago)
  if (!ISO_DATE.test(text)) return undefined
  const parsed = Date.parse(text)
  return Number.isNaN(parsed) ? undefined : parsed
}

/**
 * A time bound given as a stream ID (`1700000000000-0`), a duration before `now` (`30m`, `7d`,
 * `1w`), milliseconds (`1700000000000`) or an ISO 8601 time (`2026-11-28T10:00:00Z`,
 * `2026-11-28`). A bound without a sequence number covers its whole millisecond: `start` is its
 * first ID, `end` its last.
 */
export function parseBound(text: string, flag: string, side: 'start' | 'end', now: number): StreamId {
  const trimmed = text.trim()
  const id = parseStreamId(trimmed)
  if (id !== undefined) return id
  const ms = timeMs(trimmed, now)
  if (ms === undefined || ms < 0) throw usageError(`invalid ${flag} "${text}": use ${TIME_FORMS}`)
  return side === 'start' ? firstIdAt(ms) : lastIdAt(ms)
}

/** `--older-than`: the last ID strictly before the time (or stream ID) it names. */
export function parseOlderThan(text: string, now: number): StreamId {
  const trimmed = text.trim()
  const id = parseStreamId(trimmed) ?? firstIdAt(timeMs(trimmed, now) ?? Number.NaN)
  if (!Number.isFinite(id.ms) || id.ms < 0) throw usageError(`invalid --older-than "${text}": use ${TIME_FORMS}`)
  return idBefore(id)
}

/** Compile `--error`; an invalid expression is a usage error naming the flag. */
export function parseErrorPattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern)
  } catch (error) {
    throw usageError(`invalid --error "${pattern}": ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** Check and combine the flag values into a Selection; `now` is what durations count back from. */
export function buildSelection(input: SelectionInput, now: number): Selection {
  const ids = input.ids === undefined || input.ids.length === 0 ? undefined : [...new Set(input.ids.map((id) => id.trim()))]
  for (const id of ids ?? []) {
    if (parseStreamId(id) === undefined) throw usageError(`invalid --id "${id}": a dead-letter entry ID looks like 1700000000000-0`)
  }
  const since = input.since === undefined ? undefined : parseBound(input.since, '--since', 'start', now)
  let until = input.until === undefined ? undefined : parseBound(input.until, '--until', 'end', now)
  if (input.olderThan !== undefined) until = minId(until, parseOlderThan(input.olderThan, now))
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

/**
 * Whether a dead letter records `topic` as its origin: its stream, or, for a partition's dead
 * letters, the partitioned topic (`partitionOf`), which is what `qctl work` records (`dlq.topic`).
 * One recording no topic (another program's) could be anyone's.
 */
export const recordsTopic = (entry: Pick<DlqEntry, 'originTopic'>, topic: string, partitionOf?: string): boolean =>
  entry.originTopic === null || entry.originTopic === topic || (partitionOf !== undefined && entry.originTopic === partitionOf)

/** Whether one entry is selected. */
export function matchesSelection(entry: DlqEntry, selection: Selection): boolean {
  if (!recordsTopic(entry, selection.topic, selection.partitionOf)) return false
  return matchesFilters(entry, selection)
}

/**
 * Whether one entry passes the filters, whatever topic it records: `qctl dlq list` shows a
 * dead-letter stream as it is (a stream shared through --dlq included).
 */
export function matchesFilters(entry: DlqEntry, selection: Omit<Selection, 'topic'>): boolean {
  if (selection.ids !== undefined && !selection.ids.includes(entry.dlqId)) return false
  if (selection.since !== undefined || selection.until !== undefined) {
    // Scans read only the range already (rangeOf); this keeps the rule whole for entries given by --id.
    const id = parseStreamId(entry.dlqId)
    if (id === undefined) return false
    if (selection.since !== undefined && compareStreamIds(id, selection.since) < 0) return false
    if (selection.until !== undefined && compareStreamIds(id, selection.until) > 0) return false
  }
  if (selection.group !== undefined && entry.group !== selection.group) return false
  if (selection.error !== undefined && !errorMatches(selection.error, entry)) return false
  return true
}

/** The XRANGE bounds that cover a selection (its since/until, or the whole stream). */
export function rangeOf(selection: Pick<Selection, 'since' | 'until'>): {start: string; end: string} {
  return {
    start: selection.since === undefined ? '-' : formatStreamId(selection.since),
    end: selection.until === undefined ? '+' : formatStreamId(selection.until),
  }
}
