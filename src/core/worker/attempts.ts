/**
 * What qctl knows of an entry's attempts, and what that means for its next start.
 *
 * The attempt number counts handler starts, not deliveries. Redis counts deliveries, which is
 * wrong for qctl: an entry that sat in a worker's read-ahead when the worker died was delivered
 * but never started, and a crash loop would drag every such neighbour to --max-attempts.
 *
 * - A first delivery (XREADGROUP `>`) is attempt 1 and writes nothing: marking it would cost a
 *   Redis write per message on the drain's hot path. So a start on first delivery is never proven.
 * - Every later start (a due retry, an entry taken over from a dead worker, a restarted worker's
 *   own) is marked in Redis just before its handler is called: `starts`. Entries starting together
 *   are marked with one HSET of their records (GroupOps.markStarts), a suspect alone by mark-start-2.lua.
 * - A failure the worker recorded (park-retry-3.lua, the dead-letter script) proves that start
 *   and says it reported back: `settled`.
 * - `starts > settled` means a marked start never reported back: its worker died, froze or was
 *   killed while the handler ran. Such an entry is a *suspect*: it runs alone in its worker, so if
 *   the process dies again, nothing else was running and the blame is exact (`solo` counts those
 *   starts). Neighbours that merely ran beside a crashing entry run alone next time and complete.
 * - An entry is dead-lettered for its starts alone (MaxAttemptsExceeded, no handler call) only when
 *   it has used up --max-attempts *and* has run alone at least once (or every start reported back).
 *   Entries that never started keep their count; an innocent neighbour is never dead-lettered.
 *
 * Cost of the uncertainty: a handler that kills its process on first delivery starts at most
 * --max-attempts + 1 times (the first start is not proven), and an entry that ran beside one once
 * starts once more than it failed.
 */
export interface AttemptRecord {
  /** When the entry first failed (Redis time, ms); 0 if it never failed (only taken back). */
  firstFailureMs: number
  starts: number
  settled: number
  solo: number
}

/**
 * An attempt record from the retry hash's two fields (see src/lua/includes/attempt-record.lua):
 * `<id>` "firstFailureMs:starts:settled:solo" (older workers wrote "firstFailureMs:dueMs", read as one
 * proven, settled start) and `<id>+`, starts counted by HINCRBY (written by qctl before December 2026,
 * read for the records its workers left).
 */
export function parseAttemptRecord(text: string | null | undefined, plus?: string | null): AttemptRecord | undefined {
  const extra = plus === null || plus === undefined ? 0 : Number(plus) || 0
  if (text === null || text === undefined || text === '') return plus === null || plus === undefined ? undefined : {firstFailureMs: 0, starts: extra, settled: 0, solo: 0}
  const parts = text.split(':').map(Number)
  if (parts.some((part) => Number.isNaN(part))) return undefined
  const [first = 0, starts = 1, settled = 1, solo = 0] = parts.length >= 4 ? parts : [parts[0], 1, 1, 0]
  return {firstFailureMs: first, starts: starts + extra, settled, solo}
}

export const formatAttemptRecord = (record: AttemptRecord): string => `${record.firstFailureMs}:${record.starts}:${record.settled}:${record.solo}`

/** The record after one more start (not alone) of an entry taken back with `record` (undefined: none). */
export const withOneMoreStart = (record: AttemptRecord | undefined): AttemptRecord => ({
  firstFailureMs: record?.firstFailureMs ?? 0,
  starts: (record?.starts ?? 0) + 1,
  settled: record?.settled ?? 0,
  solo: record?.solo ?? 0,
})

export interface StartPlan {
  /** The attempt number of this start (the handler's `message.attempt`). */
  attempt: number
  /** Run alone in the worker (a marked start never reported back). */
  suspect: boolean
  /** Dead-letter without calling the handler: its starts are used up. */
  exceeded: boolean
}

/** How an entry taken back (not a first delivery) starts, from its record. */
export function planStart(record: AttemptRecord | undefined, maxAttempts: number): StartPlan {
  if (record === undefined) return {attempt: 1, suspect: false, exceeded: false}
  const suspect = record.starts > record.settled
  const attempt = record.starts + 1
  const exceeded = attempt > maxAttempts && (!suspect || record.solo > 0)
  return {attempt, suspect, exceeded}
}
