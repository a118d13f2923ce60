import {isQctlError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import {reconnectDelayMs} from '../redis/reconnect-delay.js'
import {classifyRedisError, firstLineOf, isUnblockedByCluster, type RedisErrorContext} from '../redis/redis-errors.js'
import {sleep} from '../sleep.js'

/**
 * Whether connecting again may help: the connection was lost or could not be made, Redis went
 * silent (no reply within the command timeout), is loading its data after a restart, or refuses
 * for now (the REDIS_UNAVAILABLE family, exit 3), or a cluster ended a blocking read because the slot
 * moved. Never a refusal of who is asking or of what (wrong password, ACL, a key of another type):
 * asking again would be refused again.
 */
export function isConnectionTrouble(error: unknown): boolean {
  if (isUnblockedByCluster(error)) return true
  // The address only shapes the message, which is not used here.
  const typed = isQctlError(error) ? error : classifyRedisError(error, {address: '', username: ''})
  return typed?.code === 'REDIS_UNAVAILABLE'
}

/** Why a connection failed, in the one-line words of the one classification (a cluster's UNBLOCKED as Redis said it). */
export function troubleText(error: unknown, context: RedisErrorContext): string {
  if (isQctlError(error)) return error.message
  return classifyRedisError(error, context)?.message ?? firstLineOf(error)
}

/**
 * A connection from `connect`, or undefined as soon as `signal` stops the read: Ctrl-C during an
 * attempt (which may wait up to --connect-timeout) is not held up by it; a connection that comes
 * after all is closed at once.
 */
export async function connectUnlessStopped(connect: () => Promise<RedisClient>, signal: AbortSignal | undefined): Promise<RedisClient | undefined> {
  if (signal?.aborted === true) return undefined
  const attempt = connect()
  if (signal === undefined) return attempt
  let onAbort = (): void => undefined
  const stopped = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined)
    signal.addEventListener('abort', onAbort, {once: true})
  })
  try {
    const client = await Promise.race([attempt, stopped])
    if (client === undefined) attempt.then((late) => late.disconnect(), () => undefined)
    return client
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

export type OutageEvent = {event: 'connectionLost'; error: unknown} | {event: 'connectionBack'; downMs: number; attempts: number}

/**
 * One outage of `tail --follow`, from the connection lost to Redis answering a read again: said
 * once when it starts and once when it ends (not at every failed attempt), with the waits between
 * attempts of `reconnectDelayMs`, like `work` and `top`.
 */
export class Outage {
  private since: number | undefined
  private attempts = 0

  constructor(private readonly onEvent: ((event: OutageEvent) => void) | undefined) {}

  get ongoing(): boolean {
    return this.since !== undefined
  }

  /** A connection failed or could not be made: say so if it is the first failure, then wait before the next attempt. */
  async failed(error: unknown, signal: AbortSignal | undefined): Promise<void> {
    if (this.since === undefined) {
      this.since = Date.now()
      this.attempts = 0
      this.onEvent?.({event: 'connectionLost', error})
    }
    this.attempts++
    await sleep(reconnectDelayMs(this.attempts), signal)
  }

  /** Redis answered a read: the outage, if there was one, is over. */
  readonly answered = (): void => {
    if (this.since === undefined) return
    this.onEvent?.({event: 'connectionBack', downMs: Date.now() - this.since, attempts: this.attempts})
    this.since = undefined
  }
}
