import {formatStreamId, idAfter, parseStreamId} from '../dlq/stream-id.js'
import {isQctlError, QctlError} from '../errors.js'
import {classifyRedisError, type RedisErrorContext} from '../redis/redis-errors.js'
import {formatCount} from '../units.js'
import {isConnectionTrouble} from './outage.js'
import type {LastShown} from './sink.js'

/** How far a read got when it failed. */
export interface TailProgress {
  entries: number
  last: LastShown | undefined
  partitioned: boolean
}

/**
 * The `--from` that goes on after `last`: on a plain topic the next ID, exactly; on a partitioned
 * one (shown merged in time order) its millisecond, whose entries shown already come again.
 */
function resumeFrom(progress: TailProgress): string | undefined {
  const id = progress.last === undefined ? undefined : parseStreamId(progress.last.id)
  if (id === undefined) return undefined
  return progress.partitioned ? String(id.ms) : formatStreamId(idAfter(id))
}

/**
 * A read that lost its connection (or got no reply in time) and does not reconnect (without
 * --follow): the typed error of the one classification, in one line, then how far the output got,
 * so a partial output is never taken for all there was. Other failures are returned unchanged.
 */
export function failureDuring(error: unknown, progress: TailProgress, context: RedisErrorContext | undefined): unknown {
  if (context === undefined || !isConnectionTrouble(error)) return error
  const classified = isQctlError(error) ? error : classifyRedisError(error, context)
  if (classified === undefined) return error
  const {entries, last} = progress
  const count = `${formatCount(entries)} ${entries === 1 ? 'entry' : 'entries'}`
  const where = last === undefined ? '' : ` (the last ${last.id}${last.partition === null ? '' : ` of partition ${last.partition}`})`
  const shown = entries === 0 ? 'nothing was printed' : `printed ${count} before it${where}`
  const from = resumeFrom(progress)
  const resume = from === undefined ? undefined : progress.partitioned ? `tail again with --from ${from} to go on (the entries of that millisecond printed already come again)` : `tail again with --from ${from} to go on after it`
  // Mid-read, "cannot connect" would mislead: the connection was there and went away.
  const message = classified.message.replace(/^cannot connect to /, 'lost connection to ')
  return new QctlError(classified.code, `${message}; ${shown}`, {
    cause: error,
    suggestion: classified.suggestion ?? resume,
    details: {...classified.details, entries, lastId: last?.id ?? null, lastPartition: last?.partition ?? null, resumeFrom: from ?? null},
  })
}
