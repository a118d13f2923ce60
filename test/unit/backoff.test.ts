import {describe, expect, it} from 'vitest'

import {backoffDelay, shortestBackoff, type BackoffPolicy} from '../../src/core/worker/backoff.js'

const exact = (kind: BackoffPolicy['kind'], delayMs: number, maxMs: number): BackoffPolicy => ({kind, delayMs, maxMs, jitter: 0})

describe('backoffDelay', () => {
  it.each([
    [exact('exponential', 1000, 300_000), 1, 1000],
    [exact('exponential', 1000, 300_000), 2, 2000],
    [exact('exponential', 1000, 300_000), 3, 4000],
    [exact('exponential', 1000, 300_000), 9, 256_000],
    [exact('exponential', 1000, 300_000), 10, 300_000],
    [exact('exponential', 1000, 300_000), 1000, 300_000],
    [exact('fixed', 1500, 300_000), 1, 1500],
    [exact('fixed', 1500, 300_000), 7, 1500],
    [exact('fixed', 5000, 2000), 1, 2000],
  ])('%o after failure %d waits %d ms', (policy, failures, expected) => {
    expect(backoffDelay(policy, failures, '1-0')).toBe(expected)
  })

  it('spreads delays within ±jitter, deterministically per entry and attempt, never over the maximum', () => {
    const policy: BackoffPolicy = {kind: 'exponential', delayMs: 1000, maxMs: 10_000, jitter: 0.2}
    const delays = Array.from({length: 200}, (_, i) => backoffDelay(policy, 1, `${i}-0`))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(800)
    expect(Math.max(...delays)).toBeLessThanOrEqual(1200)
    expect(new Set(delays).size).toBeGreaterThan(50)
    expect(backoffDelay(policy, 1, '42-0')).toBe(backoffDelay(policy, 1, '42-0'))
    expect(backoffDelay(policy, 20, '42-0')).toBeLessThanOrEqual(10_000)
    expect(shortestBackoff(policy)).toBe(800)
  })
})
