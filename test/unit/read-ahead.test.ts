import {describe, expect, it} from 'vitest'

import {ReadAhead} from '../../src/core/worker/read-ahead.js'

// --prefetch 1000, reads of at most 500, a 20 ms window, starting at 8 (the concurrency).
const readAhead = (): ReadAhead => new ReadAhead(1000, 500, 20, 0, 8)

describe('ReadAhead', () => {
  it('starts at the given size, read as two batches', () => {
    const ahead = readAhead()
    expect(ahead.size).toBe(8)
    expect(ahead.readCount).toBe(4)
  })

  it('grows at once to 20 ms of handling at the rate measured over a window, up to --prefetch and reads of 500', () => {
    const ahead = readAhead()
    ahead.update(200, 20) // 200 finished in 20 ms
    expect(ahead.size).toBe(200)
    expect(ahead.readCount).toBe(100)
    ahead.update(10_200, 40) // 500 a ms
    expect(ahead.size).toBe(1000)
    expect(ahead.readCount).toBe(500)
  })

  it('does not measure over less than a window: a burst of completions is not a rate', () => {
    const ahead = readAhead()
    // Four handlers awaiting the same 20 ms timer finish within a tenth of a millisecond.
    ahead.update(4, 0.1)
    expect(ahead.size).toBe(8)
    ahead.update(4, 20)
    expect(ahead.size).toBe(4)
  })

  it('shrinks by at most half a window, down to one entry for slow handlers', () => {
    const ahead = readAhead()
    ahead.update(1000, 1)
    expect(ahead.size).toBe(8)
    ahead.update(1000, 20)
    expect(ahead.size).toBe(1000)
    // Then 8 handlers of 1 s: 0.008 a ms, 0.16 entries in 20 ms.
    const sizes: number[] = []
    for (let second = 1; second <= 12; second++) {
      ahead.update(1000 + 8 * second, 20 + 1000 * second)
      sizes.push(ahead.size)
    }
    expect(sizes.slice(0, 4)).toEqual([500, 250, 125, 62])
    expect(sizes.at(-1)).toBe(1)
    expect(ahead.readCount).toBe(1)
  })

  it('--prefetch 0 holds nothing beyond the running handlers, and still reads', () => {
    const ahead = new ReadAhead(0, 1, 20, 0, 8)
    ahead.update(1000, 20)
    expect(ahead.size).toBe(0)
    expect(ahead.readCount).toBe(1)
  })
})
