import {QctlError} from '../errors.js'
import {sleep} from '../sleep.js'
import type {RedisClient} from './client.js'

/** The wait before attempt `attempt + 1`: 100 ms, doubling, capped at 5 s (pure, for tests). */
export function waitDelayMs(attempt: number, firstMs = 100, maxMs = 5000): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(attempt - 1, 0), 20))
}

export interface WaitForRedisHooks {
  /** Ends the wait with INTERRUPTED (exit 130), at once, even mid-attempt. */
  signal?: AbortSignal | undefined
  /** After each failed attempt: why, and how long until the next. */
  onRetry?: ((retry: {attempt: number; error: QctlError; delayMs: number}) => void) | undefined
}

const interrupted = (): QctlError => new QctlError('INTERRUPTED', 'interrupted while waiting for Redis')

/** Reject as soon as `signal` aborts; the abandoned attempt's outcome no longer matters (the process exits 130). */
async function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(interrupted())
    signal.addEventListener('abort', onAbort, {once: true})
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

/**
 * Open a connection for a process that may start before its Redis (`qctl work --wait-for-redis`):
 * while Redis is unavailable (refused, timed out, loading; each attempt bounded by the connect
 * timeout), try again with capped backoff. Anything else (wrong password, ACL, bad TLS files) is
 * thrown at once: waiting cannot fix it.
 */
export async function waitForRedis(open: () => Promise<RedisClient>, hooks: WaitForRedisHooks = {}): Promise<RedisClient> {
  const {signal} = hooks
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted === true) throw interrupted()
    try {
      return await unlessAborted(open(), signal)
    } catch (error) {
      if (!(error instanceof QctlError) || error.code !== 'REDIS_UNAVAILABLE') throw error
      const delayMs = waitDelayMs(attempt)
      hooks.onRetry?.({attempt, error, delayMs})
      await sleep(delayMs, signal)
    }
  }
}
