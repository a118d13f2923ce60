import {describe, expect, it} from 'vitest'

import {ReadAhead} from '../../src/core/worker/read-ahead.js'

// --prefetch 1000, reads of at most 500, a 20 ms window, starting at 8 (the concurrency).
const readAhead = (): ReadAhead => new ReadAhead(1000, 500, 20, 0, 8)

/** The size after each [handler calls finished so far, now in ms] update. */
const sizesAfter = (ahead: ReadAhead, updates: Array<[number, number]>): number[] =>
  updates.map(([finished, now]) => {
    ahead.update(finished, now)
    return ahead.size
  })

describe('ReadAhead', () => {
  it('starts at the given size, read as two batches', () => {
    const ahead = readAhead()
    expect(ahead.size).toBe(8)
    expect(ahead.readCount).toBe(4)
  })

  it('grows at once to 20 ms of handling at the rate measured over a window, up to --prefetch and reads of 500', () => {
    const ahead = readAhead()
    // 200 finished in 20 ms, then 500 a ms.
    expect(sizesAfter(ahead, [[200, 20]])).toEqual([200])
    expect(ahead.readCount).toBe(100)
    expect(sizesAfter(ahead, [[10_200, 40]])).toEqual([1000])
    expect(ahead.readCount).toBe(500)
  })

  it('does not measure over less than a window: a burst of completions is not a rate', () => {
    // Four handlers awaiting the same 20 ms timer finish within a tenth of a millisecond.
    expect(sizesAfter(readAhead(), [[4, 0.1], [4, 20]])).toEqual([8, 4])
  })

  it('shrinks by at most half a window, down to one entry for slow handlers', () => {
    const ahead = readAhead()
    // Fast at first; then 8 handlers of 1 s: 0.008 a ms, 0.16 entries in 20 ms.
    const slow = Array.from({length: 12}, (_, i): [number, number] => [1000 + 8 * (i + 1), 20 + 1000 * (i + 1)])
    const sizes = sizesAfter(ahead, [[1000, 1], [1000, 20], ...slow])
    expect(sizes.slice(0, 6)).toEqual([8, 1000, 500, 250, 125, 62])
    expect(sizes.at(-1)).toBe(1)
    expect(ahead.readCount).toBe(1)
  })

  it('--prefetch 0 holds nothing beyond the running handlers, and still reads', () => {
    const ahead = new ReadAhead(0, 1, 20, 0, 8)
    expect(sizesAfter(ahead, [[1000, 20]])).toEqual([0])
    expect(ahead.readCount).toBe(1)
  })
})
