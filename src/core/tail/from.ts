import {usageError} from '../errors.js'
import {formatStreamId, idBefore} from '../dlq/stream-id.js'
import {parseBound, TIME_FORMS} from '../dlq/selection.js'

/**
 * Where `qctl tail` starts in each partition: its first entry, after its last one (only what comes
 * next), or after `id` (exclusive: `--from` names the first entry shown, this the one before it).
 */
export type TailFrom = {kind: 'start'} | {kind: 'end'} | {kind: 'after'; id: string}

/** `--from start|end|ID|TIME`: an ID or a time (a duration ago, ms, ISO 8601) names the first entry shown, at or after it. */
export function parseFrom(text: string, now: number): TailFrom {
  const trimmed = text.trim()
  if (trimmed === 'start') return {kind: 'start'}
  if (trimmed === 'end') return {kind: 'end'}
  try {
    return {kind: 'after', id: formatStreamId(idBefore(parseBound(trimmed, '--from', 'start', now)))}
  } catch {
    throw usageError(`invalid --from "${text}": use start, end, ${TIME_FORMS}`)
  }
}
