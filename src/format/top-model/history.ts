import {rowKey, type RateRow} from '../../core/stats/rates.js'

/** The rates of one row over the last minute, oldest first; null where a rate was unknown. */
export interface RateHistory {
  in: Array<number | null>
  out: Array<number | null>
}

export type Histories = ReadonlyMap<string, RateHistory>

/** How long the sparklines look back. */
export const HISTORY_WINDOW_MS = 60_000

/** Samples kept per row: one per refresh over the window. */
export const historyCapacity = (intervalMs: number): number => Math.max(2, Math.ceil(HISTORY_WINDOW_MS / Math.max(1, intervalMs)))

/** Samples one sparkline point averages: a full history fills the column, so a point's time span never changes. */
export const samplesPerPoint = (capacity: number, width: number): number => Math.max(1, Math.ceil(capacity / Math.max(1, width)))

const pushBounded = (values: ReadonlyArray<number | null>, value: number | null, capacity: number): Array<number | null> => [...values, value].slice(-capacity)

/**
 * The histories after one more refresh: each current row gets its new rates appended (bounded to
 * `capacity`); rows that are gone are forgotten, so memory follows what is on screen.
 */
export function appendHistory(histories: Histories, rows: readonly RateRow[], capacity: number): Histories {
  const next = new Map<string, RateHistory>()
  for (const row of rows) {
    const key = rowKey(row)
    const earlier = histories.get(key) ?? {in: [], out: []}
    next.set(key, {in: pushBounded(earlier.in, row.inRate, capacity), out: pushBounded(earlier.out, row.outRate, capacity)})
  }
  return next
}
