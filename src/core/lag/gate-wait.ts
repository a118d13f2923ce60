import {QctlError} from '../errors.js'
import type {RedisErrorContext} from '../redis/redis-errors.js'
import {sleep} from '../sleep.js'
import type {LagRow} from './lag.js'

/** Time between checks while waiting for the gates. */
export const RECHECK_MS = 1000

export interface GateWait {
  /** When waiting began (ms since the epoch): before connecting, so connecting counts too. */
  startedAt: number
  /** `--wait`: re-check until every gate passes or this long after `startedAt`. */
  waitMs: number
  /**
   * How long after the wait ran out a check still unanswered may take (the connect timeout):
   * a check sent just before the end gets a fair chance, and the whole wait stays bounded.
   */
  graceMs: number
  errorContext: RedisErrorContext
  signal?: AbortSignal | undefined
  /** Called before each wait with the rows that failed. */
  onWaiting?: ((rows: LagRow[]) => void) | undefined
}

const failing = (rows: readonly LagRow[]): boolean => rows.some((row) => row.failedGates.length > 0)

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10}s`

/** Resolve with `work`, unless `deadline` (ms since the epoch) comes first: then reject with `late()`. */
async function answeredBy<T>(work: Promise<T>, deadline: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(late()), Math.max(0, deadline - Date.now()))
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * `qctl lag --wait`: measure, and while a gate fails re-check every second until every gate
 * passes or the wait runs out; returns the last rows (the caller reports the gates that still
 * fail, exit 8). Bounded whatever Redis does: a check Redis has not answered by the end of the
 * wait plus `graceMs` ends it with exit 3 (Redis stopped answering, which is not a gate result).
 * Each command is bounded by the connection's command timeout too, whichever comes first.
 */
export async function waitForGates(measure: () => Promise<LagRow[]>, wait: GateWait): Promise<LagRow[]> {
  const end = wait.startedAt + wait.waitMs
  const noAnswer = (sentAt: number) => (): QctlError =>
    new QctlError(
      'REDIS_UNAVAILABLE',
      `Redis at ${wait.errorContext.address} did not answer within ${seconds(Date.now() - sentAt)}, and --wait ${seconds(wait.waitMs)} (plus ${seconds(wait.graceMs)}, the --connect-timeout) has run out`,
    )
  const check = async (): Promise<LagRow[]> => answeredBy(measure(), end + wait.graceMs, noAnswer(Date.now()))

  const interrupted = (): boolean => wait.signal?.aborted === true

  let rows = await check()
  while (failing(rows) && Date.now() < end && !interrupted()) {
    wait.onWaiting?.(rows)
    await sleep(Math.min(RECHECK_MS, end - Date.now()), wait.signal)
    if (interrupted()) break
    rows = await check()
  }
  return rows
}
