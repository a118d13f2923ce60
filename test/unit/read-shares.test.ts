import {describe, expect, it} from 'vitest'

import {readShares} from '../../src/core/worker/read-shares.js'

const sum = (shares: number[]): number => shares.reduce((total, share) => total + share, 0)

describe('readShares: how a read of many partitions splits its COUNT', () => {
  it('never asks for more than the room, whatever the last reads brought', () => {
    for (const count of [1, 3, 16, 17, 100, 250, 1000]) {
      for (const last of [[0, 0, 0, 0], [500, 0, 0, 0], [1, 2, 3, 4], new Array(16).fill(7), new Array(40).fill(0)]) {
        const shares = readShares(count, last, 5)
        expect(sum(shares)).toBeLessThanOrEqual(count)
        expect(shares.every((share) => share >= 0)).toBe(true)
      }
    }
  })

  it('gives every stream one when there is room, and the rest where entries came from', () => {
    const shares = readShares(100, [90, 0, 0, 0], 0)
    expect(shares.slice(1)).toEqual([1, 1, 1])
    expect(shares[0]).toBe(97)
  })

  it('splits evenly when the last read brought nothing', () => {
    expect(readShares(100, [0, 0, 0, 0], 0)).toEqual([25, 25, 25, 25])
    expect(sum(readShares(10, [0, 0, 0], 1))).toBe(10)
  })

  it('with less room than streams, gives one to `count` streams in turns', () => {
    expect(readShares(2, [0, 0, 0, 0, 0], 0)).toEqual([1, 1, 0, 0, 0])
    expect(readShares(2, [0, 0, 0, 0, 0], 4)).toEqual([1, 0, 0, 0, 1])
  })
})
