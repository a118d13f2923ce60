import {describe, expect, it} from 'vitest'

import {waitDelayMs} from '../../src/core/redis/wait-for-redis.js'

describe('waitDelayMs (qctl work --wait-for-redis)', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [6, 3200],
    [7, 5000],
    [1000, 5000],
  ])('waits %i → %i ms: 100 ms doubling, capped at 5 s', (attempt, delay) => {
    expect(waitDelayMs(attempt)).toBe(delay)
  })
})
