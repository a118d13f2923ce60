/**
 * How often the live `top` may refresh: at most `budget` of one core goes to refreshing. A refresh
 * over 10,000 topics costs a tenth of a second of CPU or more (its script's replies, the rows, the
 * redraw); repeated every second that is a tenth of a core for a monitor left open all day. Pure.
 */

/**
 * The share of one core the live screen may use for refreshing: 4%, of whole refresh cycles (see
 * refreshCostMs), so the process stays under 5% of a core with the keys pressed meanwhile.
 */
export const CPU_BUDGET = 0.04

/**
 * How many times a refresh's own cost its whole cycle may count for at most: what follows a refresh
 * is bounded by it, and keys held down or a process busy without refreshing cannot stretch the
 * interval without end (each longer cycle would then cost more again).
 */
export const CYCLE_COST_CAP = 2

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

/**
 * What a refresh costs the process, for the budget: the median CPU of the last whole cycles (from the
 * start of one refresh to the start of the next: the reading, the rows and the redraw, and what comes
 * after them, the output Ink writes later and the garbage collection, which at 10,000 topics was
 * nearly as much again: the whole process used 6.1% of a core with a budget of 4% of the refreshes
 * alone, bench/measure-top-10k.mjs), but at most CYCLE_COST_CAP times the refreshes' own measured
 * cost, and never less than it. Before a whole cycle was measured, the refreshes' own cost.
 */
export function refreshCostMs(refreshCosts: readonly number[], cycleCosts: readonly number[]): number {
  const own = costEstimateMs(refreshCosts)
  if (cycleCosts.length === 0) return own
  return Math.max(own, Math.min(costEstimateMs(cycleCosts), CYCLE_COST_CAP * own))
}

/** What a refresh costs, from the last few: their median (0 before any). */
export function costEstimateMs(costs: readonly number[]): number {
  if (costs.length === 0) return 0
  const sorted = [...costs].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Whether the budget made the screen refresh less often than asked. */
export const isStretched = (periodMs: number, intervalMs: number): boolean => periodMs > intervalMs
