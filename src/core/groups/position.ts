import {formatStreamId, parseStreamId} from '../dlq/stream-id.js'
import {usageError} from '../errors.js'
import {durationMs} from '../units.js'

/**
 * Where `qctl group create --from` and `group seek --to` put a group, as the user wrote it. Pure:
 * parsing, and turning a time into one. The stream side (which entry a time falls on, how many
 * entries lie after a position) is in entries.ts.
 */
export type PositionSpec =
  | {kind: 'start'}
  | {kind: 'end'}
  /** An entry ID of one stream (a plain topic only: partitions have IDs of their own). */
  | {kind: 'id'; id: string}
  /** A point in time (ms since the epoch): the group is placed before the first entry added at or after it. */
  | {kind: 'time'; ms: number}
  /** A duration before Redis's clock (`15m-ago`): a time once `now` is known. */
  | {kind: 'ago'; ms: number}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}/

/** What the position flags accept, for their errors and help. */
export const POSITION_FORMS = 'start, end, an entry ID (1700000000000-0), a time (2026-11-28T10:00:00Z, 2026-11-28, or milliseconds since the epoch) or a duration ago (15m-ago, 2h-ago, 7d-ago)'

/**
 * `start`, `end` (also `latest`, as `qctl work --from` says it), an entry ID, an ISO time,
 * milliseconds since the epoch (digits alone, as `qctl dlq --since` takes them), or
 * `<duration>-ago`. A bare duration (`15m`) is refused: forwards or backwards would be a guess.
 */
export function parsePosition(text: string, flag: string): PositionSpec {
  const trimmed = text.trim()
  if (trimmed === 'start') return {kind: 'start'}
  if (trimmed === 'end' || trimmed === 'latest' || trimmed === '$') return {kind: 'end'}
  const id = parseStreamId(trimmed)
  if (id !== undefined) return {kind: 'id', id: formatStreamId(id)}
  if (/^\d{1,16}$/.test(trimmed)) return {kind: 'time', ms: Number(trimmed)}
  const ago = /^(.+)-ago$/.exec(trimmed)?.[1]
  const agoMs = ago === undefined ? undefined : durationMs(ago)
  if (agoMs !== undefined) return {kind: 'ago', ms: agoMs}
  if (ISO_DATE.test(trimmed)) {
    const ms = Date.parse(trimmed)
    if (!Number.isNaN(ms) && ms >= 0) return {kind: 'time', ms}
  }
  const hint = durationMs(trimmed) === undefined ? '' : ` (a duration says no direction: did you mean ${trimmed}-ago?)`
  throw usageError(`invalid ${flag} "${text}"${hint}: use ${POSITION_FORMS}`)
}

/**
 * The time a spec names, ms since the epoch, against Redis's clock `nowMs` (entry IDs are Redis's
 * times, so a time is judged on that clock, not this machine's). A time in the future is refused:
 * the group would skip every entry added until then, and IDs an entry gets are never earlier than
 * Redis's clock (`--to end` skips what is there now).
 */
export function timeOf(spec: PositionSpec & {kind: 'time' | 'ago'}, nowMs: number, flag: string, text: string): number {
  const ms = spec.kind === 'ago' ? Math.max(0, nowMs - spec.ms) : spec.ms
  if (ms > nowMs) {
    throw usageError(`${flag} "${text}" is in the future (${new Date(ms).toISOString()}; Redis's clock says ${new Date(nowMs).toISOString()}): the group would skip every entry added until then`, {
      suggestion: `use ${flag} end to skip everything added so far`,
    })
  }
  return ms
}

/** The spec as the JSON and the human lines say it: `start`, `end`, the ID, or the time. */
export function describePosition(spec: PositionSpec, timeMs?: number): string {
  if (spec.kind === 'start' || spec.kind === 'end') return spec.kind
  if (spec.kind === 'id') return spec.id
  return new Date(timeMs ?? spec.ms).toISOString()
}
