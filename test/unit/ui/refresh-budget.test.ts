import {describe, expect, it} from 'vitest'

import {costEstimateMs, COSTS_KEPT, CPU_BUDGET, CYCLE_COST_CAP, isStretched, nextDelayMs, refreshCostMs, withCost} from '../../../src/ui/model/refresh-budget.js'

describe('nextDelayMs: the live top refreshes at --interval, or less often so refreshing stays within the CPU budget', () => {
  it.each([
    // [cost of a refresh (CPU ms), --interval (ms), budget, delay from one refresh start to the next]
    [2, 1000, 0.05, 1000], // cheap: the interval as asked
    [50, 1000, 0.05, 1000], // exactly 5% of the interval
    [51, 1000, 0.05, 1020], // a little over
    [750, 1000, 0.05, 15_000], // 10,000 topics: 750 ms of CPU a refresh, so every 15 s
    [750, 30_000, 0.05, 30_000], // a long interval already within the budget
    [20, 100, 0.05, 400],
    [750, 1000, 0.5, 1500], // another budget
    [750, 1000, 0, 1000], // no budget: the interval whatever the cost
    [0, 1000, 0.05, 1000],
  ])('cost %d ms at --interval %d ms and budget %d: next refresh after %d ms', (cost, interval, budget, delay) => {
    expect(nextDelayMs(cost, interval, budget)).toBe(delay)
  })

  it('defaults to 4% of a core for refreshes (the whole screen stays under 5%)', () => {
    expect(CPU_BUDGET).toBe(0.04)
    expect(nextDelayMs(100, 1000)).toBe(2500)
  })

  it('keeps refreshing at most the budget over any run of refreshes', () => {
    for (const cost of [1, 37, 260, 999, 4321]) {
      const delay = nextDelayMs(cost, 1000)
      expect(cost / delay).toBeLessThanOrEqual(CPU_BUDGET)
    }
  })
})

describe('the cost estimate', () => {
  it('is the median of the last few refreshes, so one slow refresh does not stretch the interval by itself', () => {
    expect(costEstimateMs([])).toBe(0)
    expect(costEstimateMs([30])).toBe(30)
    expect(costEstimateMs([2, 400])).toBe(201)
    expect(costEstimateMs([2, 400, 3])).toBe(3)
    expect(costEstimateMs([700, 760, 740])).toBe(740)
  })

  it('keeps the last COSTS_KEPT costs', () => {
    let costs: number[] = []
    for (const cost of [1, 2, 3, 4, 5]) costs = withCost(costs, cost)
    expect(costs).toEqual([3, 4, 5].slice(-COSTS_KEPT))
  })

  it('says when the interval was stretched', () => {
    expect(isStretched(1000, 1000)).toBe(false)
    expect(isStretched(15_000, 1000)).toBe(true)
  })
})

describe('the cost a refresh counts for', () => {
  it('is its own measured cost until a whole cycle was measured', () => {
    expect(refreshCostMs([120, 130, 125], [])).toBe(125)
  })

  it('is the whole cycle (the deferred output and garbage collection after a refresh count too)', () => {
    // Measured at 10,000 topics: refreshes 0.13 s of CPU each, whole cycles 0.23 s.
    expect(refreshCostMs([130, 128, 135], [230, 225, 240])).toBe(230)
    expect(nextDelayMs(refreshCostMs([130], [230]), 1000)).toBe(5750)
  })

  it('never less than the refresh itself, and at most CYCLE_COST_CAP times it, so a busy process cannot stretch the interval without end', () => {
    expect(refreshCostMs([130], [20])).toBe(130)
    expect(CYCLE_COST_CAP).toBe(2)
    expect(refreshCostMs([100], [5000])).toBe(200)
  })
})
