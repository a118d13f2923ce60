import {idMs} from './xinfo.js'

/**
 * How long the oldest pending entry has waited, in ms, at `now`.
 *
 * Normally the time since it was published, from its ID. An ID whose time is in the future (a
 * producer that gave XADD explicit IDs such as `99999999999999-0`; every `*` ID after it is in the
 * future too) says nothing about when it was added, and would read as age 0 and blind a
 * `--max-pending-age` gate: then the time since it was last delivered (XPENDING's idle time) is
 * used, which the entry has waited at least. The idle time is not used when it is larger than the
 * ID's age: qctl parks a retry by setting the entry's idle time ahead (see qctl work, Retry), so a
 * larger idle time does not mean a longer wait.
 */
export function pendingAgeMs(oldestPendingId: string | null, idleMs: number | null, now: number): number | null {
  const published = idMs(oldestPendingId)
  if (published === null) return null
  if (published <= now) return now - published
  return idleMs === null ? 0 : Math.max(0, idleMs)
}
