/**
 * How often the live `top` may refresh: at most `budget` of one core goes to refreshing. A refresh
 * over 10,000 topics costs most of a second of CPU (50,000 commands through ioredis and their
 * garbage); repeated every second that is a core's worth of a monitor left open all day. Pure.
 */

/**
 * The share of one core the live screen's refreshes may use: 4%, so that with what is not counted
 * in a refresh's cost (keys pressed, the garbage collection that finishes after it: measured at
 * 10,000 topics about a tenth of a refresh's cost) the whole process stays under 5% of a core.
 */
export const CPU_BUDGET = 0.04

/** Refresh costs the estimate looks at: one slow refresh (a garbage collection, a cold start) does not stretch the interval alone. */
export const COSTS_KEPT = 3

/**
 * Time from the start of one refresh to the start of the next: `--interval`, or longer when the
 * refresh cost more than `budget` of that time (cost / budget), so refreshing uses at most `budget` of
 * a core whatever the number of topics.
 */
export function nextDelayMs(costMs: number, intervalMs: number, budget: number = CPU_BUDGET): number {
  if (!(budget > 0) || !(costMs > 0)) return intervalMs
  return Math.max(intervalMs, Math.ceil(costMs / budget))
}

/** The costs kept after one more refresh (the last COSTS_KEPT). */
export const withCost = (costs: readonly number[], costMs: number): number[] => [...costs, costMs].slice(-COSTS_KEPT)

/** What a refresh costs, from the last few: their median (0 before any). */
export function costEstimateMs(costs: readonly number[]): number {
  if (costs.length === 0) return 0
  const sorted = [...costs].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Whether the budget made the screen refresh less often than asked. */
export const isStretched = (periodMs: number, intervalMs: number): boolean => periodMs > intervalMs
