import {describe, expect, it} from 'vitest'

import {nextSort, sortRows, tableLayout} from '../../../src/format/top-model/layout.js'
import {sparkline} from '../../../src/format/top-model/sparkline.js'
import {row} from './fixtures.js'

describe('sparkline', () => {
  it('scales to the largest value, shows zero as the lowest bar and unknown as a gap, right-aligned', () => {
    expect(sparkline([0, 1, 2, 4, 8], 5)).toBe('▁▂▃▅█')
    expect(sparkline([null, 0, 0], 3)).toBe(' ▁▁')
    expect(sparkline([5, 5], 4)).toBe('  ██')
    expect(sparkline([1, 2, 3, 4, 5, 6], 3)).toBe('▆▇█')
  })
})

describe('tableLayout columns', () => {
  it('keeps every column on a wide terminal and drops sparklines first, then minor figures', () => {
    const all = tableLayout(500).columns
    expect(all).toHaveLength(13)
    const medium = tableLayout(120).columns
    expect(medium).not.toContain('outSpark')
    expect(medium).toContain('lag')
    const narrow = tableLayout(60).columns
    expect(narrow).toEqual(['name', 'trend', 'in', 'out', 'lag', 'dlq'])
  })
})

describe('sortRows', () => {
  const rows = [row('b', {lag: 5, inRate: 1, outRate: 9}), row('a', {lag: 50, inRate: 3, outRate: null}), row('c', {lag: null, inRate: 2, outRate: 4})]

  it.each([
    ['lag', ['a', 'b', 'c']],
    ['in', ['a', 'c', 'b']],
    ['out', ['b', 'c', 'a']],
    ['name', ['a', 'b', 'c']],
  ] as const)('by %s', (key, order) => {
    expect(sortRows(rows, key).map((candidate) => candidate.topic)).toEqual(order)
  })

  it('cycles lag, in-rate, out-rate, name', () => {
    expect([nextSort('lag'), nextSort('in'), nextSort('out'), nextSort('name')]).toEqual(['in', 'out', 'name', 'lag'])
  })
})
