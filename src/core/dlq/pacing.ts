/** How fast replay sends its work. Pure. */

import {usageError} from '../errors.js'

/** Calls sent together when no rate is set: each is still its own atomic script run. */
export const UNPACED_BATCH = 200

export interface Pacing {
  /** Entries sent together (one round trip). */
  batch: number
  /** Milliseconds after the start at which entry `index` may be sent (0 without a rate). */
  startAtMs(index: number): number
}

/**
 * Without a rate: batches of 200, as fast as Redis answers. With `ratePerSecond`: entry n starts
 * n/rate seconds after the first, in batches of about 50 ms of work, so 10 entries at 5/s take
 * 1.8 s (the first goes at once) and the rate holds over any stretch.
 */
export function pacing(ratePerSecond?: number): Pacing {
  if (ratePerSecond === undefined) return {batch: UNPACED_BATCH, startAtMs: () => 0}
  if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) throw usageError(`rate must be a positive number of entries per second, not ${ratePerSecond}`)
  return {
    batch: Math.max(1, Math.min(UNPACED_BATCH, Math.floor(ratePerSecond / 20))),
    startAtMs: (index) => (index * 1000) / ratePerSecond,
  }
}
