import {parseBound} from '../dlq/selection.js'
import {compareIdText, formatStreamId} from '../dlq/stream-id.js'
import {usageError} from '../errors.js'

/** What `qctl trim` is asked to remove: entries before a point, or all but the newest N. Pure. */
export type BeforeRule = {kind: 'before'; given: string; minId: string}
export type TrimRule = BeforeRule | {kind: 'maxlen'; maxlen: number}

/**
 * `--before`: a stream ID (that entry is kept), a time (ISO 8601 or ms since the epoch: entries of
 * earlier milliseconds go) or a duration ago (`7d`, also written `7d-ago` or `7d ago`), counted back
 * from `now` (Redis's clock, which gave the entries their IDs).
 */
export function parseBefore(text: string, now: number): BeforeRule {
  const trimmed = text.trim().replace(/[\s-]ago$/i, '')
  if (trimmed === '') throw usageError('--before must not be empty')
  return {kind: 'before', given: text, minId: formatStreamId(parseBound(trimmed, '--before', 'start', now))}
}

export function parseMaxlen(maxlen: number): TrimRule {
  if (!Number.isSafeInteger(maxlen) || maxlen < 0) throw usageError(`--maxlen must be a whole number of at least 0, not ${String(maxlen)}`)
  return {kind: 'maxlen', maxlen}
}

/** The smaller of two MINIDs; null means "trim nothing" only for `rule` (a missing line is no limit). */
export function safeTrimAt(rule: string | null, line: string | null): string | null {
  if (rule === null) return null
  if (line === null) return rule
  return compareIdText(line, rule) < 0 ? line : rule
}
