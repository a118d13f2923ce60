import {QctlError} from '../errors.js'
import {isNoSuchKey, replyKind} from '../redis/reply-errors.js'

/**
 * Errors that retrying cannot fix: stop the worker (the base command maps them to their exit codes:
 * 4 denied, 2 a key that is not a stream, 6 the group or stream gone). Anything else is retried: a
 * lost connection, a timeout, and a Redis refusing writes for now (OOM, READONLY, LOADING, BUSY…),
 * where the entry stays pending and comes back.
 */
export function isFatal(error: unknown): boolean {
  if (error instanceof QctlError) return true
  const kind = replyKind(error)
  return kind === 'denied' || kind === 'wrong-type' || kind === 'no-group' || kind === 'not-found' || (error instanceof Error && error.message.startsWith('NOSCRIPT'))
}

/** The group or its stream no longer exists. */
export const isNoGroup = (error: unknown): boolean => replyKind(error) === 'no-group' || isNoSuchKey(error)
