import {describe, expect, it} from 'vitest'

import {formatCount} from '../../src/format/numbers.js'

describe('formatCount', () => {
  it("writes every number as toLocaleString('en-US') does, whole numbers by its own path", () => {
    const values = [0, -0, 1, -1, 7, 12, 999, -999, 1000, -1000, 1001, 12_345, 999_999, 1_000_000, -1_234_567, 2 ** 31, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]
    for (let n = 1; n < 1e16; n *= 7) values.push(Math.floor(n), -Math.floor(n), Math.floor(n) + 1)
    // Not whole, not safe, not finite: left to ICU.
    values.push(1234.5, 0.125, -3.75, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)
    for (const value of values) expect(formatCount(value), String(value)).toBe(value.toLocaleString('en-US'))
  })
})
