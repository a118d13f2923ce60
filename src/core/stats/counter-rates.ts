import type {GroupSnapshot} from './snapshot.js'

/**
 * Rates from Redis's own counters between two readings of one stream: what `top` shows per topic,
 * and per partition of a partitioned topic (partitioned-rates.ts sums these).
 */

/** A per-second rate of a counter between two readings; null if unknown or reset (went down: a restart). */
export function counterRate(before: number | null | undefined, after: number | null | undefined, seconds: number): number | null {
  if (before === null || before === undefined || after === null || after === undefined || seconds <= 0) return null
  if (after < before) return null
  return (after - before) / seconds
}

/**
 * Acknowledged per second: entries the group read, minus what is still pending of them. Null when
 * a counter is unknown or reset, and never negative (pending can grow faster than reads only
 * through claims, which move entries rather than add them).
 */
export function ackRate(before: GroupSnapshot | undefined, after: GroupSnapshot, seconds: number): number | null {
  if (before === undefined) return null
  const read = counterRate(before.entriesRead, after.entriesRead, seconds)
  if (read === null) return null
  return Math.max(0, read - (after.pending - before.pending) / seconds)
}

/** A stream's dead letters, as two readings compare them. */
export interface DeadLetterCounts {
  deadLetters: number
  /** Entries ever added to the dead-letter stream; null when not read (or it does not exist). */
  deadLettersAdded: number | null
}

/**
 * Dead letters added per second. A dead-letter stream that did not exist (or was empty) before
 * counts from 0; one whose counter was not read (XLEN) gives no rate.
 */
export function deadLetterRate(before: DeadLetterCounts | undefined, after: DeadLetterCounts, seconds: number): number | null {
  const countedBefore = before === undefined ? undefined : (before.deadLettersAdded ?? (before.deadLetters === 0 ? 0 : undefined))
  return counterRate(countedBefore, after.deadLettersAdded ?? (after.deadLetters === 0 ? 0 : undefined), seconds)
}
