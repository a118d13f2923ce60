import {describe, expect, it} from 'vitest'

import {cellText, longestLabel} from '../../../src/format/top-model/cells.js'
import {appendHistory, samplesPerPoint} from '../../../src/format/top-model/history.js'
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

describe('sparklines of a row', () => {
  it('share one scale for IN and OUT, so the bars compare', () => {
    const r = row('t', {inRate: 10, outRate: 100})
    let histories = appendHistory(new Map(), [r], 60)
    for (const [inRate, outRate] of [[10, 100], [10, 100], [10, 100]] as const) histories = appendHistory(histories, [{...r, inRate, outRate}], 60)
    expect(cellText(r, 'inSpark', histories, 4, 1)).toBe('▂▂▂▂')
    expect(cellText(r, 'outSpark', histories, 4, 1)).toBe('████')
  })

  it('keep the time a point spans from the first refresh on: the line fills from the right, it does not jump', () => {
    const r = row('t', {inRate: 1, outRate: 1})
    let histories = appendHistory(new Map(), [r], 60)
    const perPoint = samplesPerPoint(60, 20)
    expect(perPoint).toBe(3)
    let filled = 0
    for (let sample = 2; sample <= 60; sample++) {
      histories = appendHistory(histories, [r], 60)
      const bars = cellText(r, 'inSpark', histories, 20, perPoint).trimStart().length
      expect(bars, `after ${sample} samples`).toBeGreaterThanOrEqual(filled)
      filled = bars
    }
    expect(filled).toBe(20)
  })
})

describe('the TOPIC/GROUP column', () => {
  it('is never cut while sparklines are shown: they go first to make room for the longest name', () => {
    const longName = 40
    for (let width = 120; width <= 260; width += 2) {
      const {columns, nameWidth} = tableLayout(width, longName)
      if (columns.includes('inSpark') || columns.includes('outSpark')) expect(nameWidth, `at ${width} columns`).toBeGreaterThanOrEqual(longName)
    }
    expect(tableLayout(250, longName).columns).toContain('outSpark')
    expect(tableLayout(170, longName).columns).not.toContain('outSpark')
    expect(tableLayout(170).columns).toContain('outSpark')
  })

  it('measures labels as shown (escaped control characters count)', () => {
    expect(longestLabel([row('orders', {group: 'billing'}), row('a\u001b[31mb', {group: null})])).toBe('orders/billing'.length)
    expect(longestLabel([row('a\u001b[31mbcdefghijklmnop', {group: null})])).toBe('a\\u001b[31mbcdefghijklmnop'.length)
  })
})
