import {describe, expect, it} from 'vitest'

import {cellText, formatRate, toneOf} from '../../../src/format/top-model/cells.js'
import {appendHistory, historyCapacity} from '../../../src/format/top-model/history.js'
import {rowKey} from '../../../src/core/stats/rates.js'
import {headLine, lineOf, padCell} from '../../../src/format/top-model/layout.js'
import {actionFor, focusOf, initialScreen, reduceScreen, scrollWindow, selectedIndex, type ScreenState} from '../../../src/ui/model/screen.js'
import {downsample} from '../../../src/format/top-model/sparkline.js'
import {emptyData, withFailure, withSnapshot} from '../../../src/ui/model/top-data.js'
import {groupSnapshot, row, snapshotAt, topicSnapshot} from './fixtures.js'

describe('actionFor (keys)', () => {
  it.each([
    [{input: '', upArrow: true}, 'up'],
    [{input: 'k'}, 'up'],
    [{input: '', downArrow: true}, 'down'],
    [{input: 'j'}, 'down'],
    [{input: '\r', return: true}, 'open'],
    [{input: '', escape: true}, 'back'],
    [{input: 'q'}, 'quit'],
    [{input: 'c', ctrl: true}, 'quit'],
    [{input: 'p'}, 'pause'],
    [{input: 's'}, 'sort'],
    [{input: 'x'}, null],
    [{input: 's', ctrl: true}, null],
  ] as const)('%o -> %s', (key, action) => {
    expect(actionFor(key)).toBe(action)
  })
})

describe('reduceScreen', () => {
  const rows = [row('a'), row('b'), row('c', {group: null})]

  it('moves the selection within the rows and keeps it by identity', () => {
    let state: ScreenState = initialScreen
    expect(selectedIndex(state, rows)).toBe(0)
    state = reduceScreen(state, 'up', rows)
    expect(selectedIndex(state, rows)).toBe(0)
    state = reduceScreen(reduceScreen(state, 'down', rows), 'down', rows)
    expect(state.selectedKey).toBe(rowKey(rows[2]!))
    state = reduceScreen(state, 'down', rows)
    expect(selectedIndex(state, rows)).toBe(2)
    // Re-sorted rows: the same row stays selected.
    expect(selectedIndex(state, [rows[2]!, rows[0]!, rows[1]!])).toBe(0)
    // A selected row that vanished falls back to the first.
    expect(selectedIndex(state, [rows[0]!])).toBe(0)
  })

  it('opens the detail of a group (not of a topic without groups), goes back with Esc, and focuses the group', () => {
    const onB = reduceScreen(initialScreen, 'down', rows)
    const detail = reduceScreen(onB, 'open', rows)
    expect(detail.view).toBe('detail')
    expect(focusOf(detail, rows)).toEqual({topic: 'b', group: 'g'})
    expect(reduceScreen(detail, 'down', rows)).toBe(detail)
    const back = reduceScreen(detail, 'back', rows)
    expect(back.view).toBe('table')
    expect(focusOf(back, rows)).toBeNull()
    const onTopicOnly = reduceScreen(reduceScreen(onB, 'down', rows), 'open', rows)
    expect(onTopicOnly.view).toBe('table')
  })

  it('toggles pause and cycles the sort', () => {
    const paused = reduceScreen(initialScreen, 'pause', rows)
    expect(paused.paused).toBe(true)
    expect(reduceScreen(paused, 'pause', rows).paused).toBe(false)
    const sorts = [1, 2, 3, 4].map((n) => Array.from({length: n}).reduce<ScreenState>((state) => reduceScreen(state, 'sort', rows), initialScreen).sort)
    expect(sorts).toEqual(['in', 'out', 'name', 'lag'])
  })

  it('does nothing on an empty screen', () => {
    expect(reduceScreen(initialScreen, 'down', [])).toEqual(initialScreen)
    expect(reduceScreen(initialScreen, 'open', [])).toEqual(initialScreen)
    expect(selectedIndex(initialScreen, [])).toBe(-1)
  })
})

describe('scrollWindow', () => {
  it('shows everything that fits, else keeps the selection in view near the middle', () => {
    expect(scrollWindow(3, 5, 10)).toEqual({start: 0, end: 5})
    expect(scrollWindow(0, 100, 10)).toEqual({start: 0, end: 10})
    expect(scrollWindow(50, 100, 10)).toEqual({start: 45, end: 55})
    expect(scrollWindow(99, 100, 10)).toEqual({start: 90, end: 100})
    for (let selected = 0; selected < 100; selected++) {
      const {start, end} = scrollWindow(selected, 100, 7)
      expect(selected >= start && selected < end && end - start === 7).toBe(true)
    }
  })
})

describe('sparkline history', () => {
  it('keeps one minute of samples per row and forgets rows that are gone', () => {
    expect(historyCapacity(1000)).toBe(60)
    expect(historyCapacity(250)).toBe(240)
    let histories = appendHistory(new Map(), [row('a', {inRate: 1, outRate: null}), row('b', {inRate: 2})], 3)
    histories = appendHistory(histories, [row('a', {inRate: 3, outRate: 4})], 3)
    histories = appendHistory(histories, [row('a', {inRate: 5, outRate: 6})], 3)
    histories = appendHistory(histories, [row('a', {inRate: 7, outRate: 8})], 3)
    expect(histories.get(rowKey(row('a')))).toEqual({in: [3, 5, 7], out: [4, 6, 8]})
    expect(histories.has(rowKey(row('b')))).toBe(false)
  })

  it('downsamples a minute into the column by averaging runs aligned to the newest sample', () => {
    expect(downsample([1, 2, 3], 5)).toEqual([1, 2, 3])
    expect(downsample([1, 3, 5, 7], 2)).toEqual([2, 6])
    expect(downsample([9, 1, 3, 5, 7], 2)).toEqual([5, 5])
    expect(downsample([3, 1, 3, 5, 7, 2, 6], 3)).toEqual([3, 3, 5])
    expect(downsample([null, null, 4, null], 2)).toEqual([null, 4])
    expect(downsample([1, 2], 0)).toEqual([])
  })
})

describe('cells', () => {
  it('formats rates compactly and unknown as -', () => {
    expect([null, 0, 0.44, 9.96, 12.4, 1234.5, 12_345, 4_560_000].map(formatRate)).toEqual(['-', '0', '0.4', '10.0', '12', '1,235', '12.3k', '4.56M'])
  })

  it('shows marks that carry the meaning without colour', () => {
    const r = row('orders', {group: 'billing', trend: 'growing', lag: 1200, lagGrowing: true, deadLetters: 3, deadLettersGrowing: true, oldestPendingAgeMs: 65_000, activeConsumers: 2, consumers: 3})
    expect(cellText(r, 'name')).toBe('orders/billing')
    expect(cellText(r, 'trend')).toBe('▲ growing')
    expect(cellText(r, 'lag')).toBe('1,200↑')
    expect(cellText(r, 'dlq')).toBe('3↑')
    expect(cellText(r, 'age')).toBe('1m05s')
    expect(cellText(r, 'consumers')).toBe('2/3')
    expect(cellText(row('t', {lag: null}), 'lag')).toBe('?')
    expect(cellText(row('t', {group: null}), 'out')).toBe('-')
    expect(cellText(row('t', {group: null}), 'name')).toBe('t')
  })

  it('draws the row sparkline from its history', () => {
    const r = row('a', {inRate: 8})
    const histories = appendHistory(appendHistory(new Map(), [row('a', {inRate: 0})], 60), [r], 60)
    expect(cellText(r, 'inSpark', histories, 4)).toBe('  ▁█')
    expect(cellText(r, 'inSpark', new Map(), 4)).toBe('    ')
  })

  it('tones: alert when lag or dead letters grow, good when draining, quiet when idle', () => {
    expect(toneOf(row('a', {lagGrowing: true, trend: 'draining'}))).toBe('alert')
    expect(toneOf(row('a', {deadLettersGrowing: true}))).toBe('alert')
    expect(toneOf(row('a', {trend: 'draining'}))).toBe('good')
    expect(toneOf(row('a', {trend: 'idle'}))).toBe('quiet')
    expect(toneOf(row('a', {trend: 'growing'}))).toBe('normal')
  })

  it('pads and cuts cells to their column', () => {
    expect(padCell('abc', 5)).toBe('abc  ')
    expect(padCell('abc', 5, 'right')).toBe('  abc')
    expect(padCell('abcdefgh', 5)).toBe('abcd…')
    const line = lineOf([['name', 'x'.repeat(40)], ['lag', '12']])
    expect(line).toBe(`${'x'.repeat(27)}…        12`)
    expect(headLine(['name', 'lag'])).toBe(`TOPIC/GROUP${' '.repeat(17)}       LAG`)
  })
})

describe('TopData', () => {
  it('keeps the last two snapshots, makes rows and histories, and marks failures stale from the first one', () => {
    const first = withSnapshot(emptyData, snapshotAt(0, [topicSnapshot('a', {entriesAdded: 0})]), 60)
    expect(first.rows[0]).toMatchObject({topic: 'a', inRate: null})
    const second = withSnapshot(first, snapshotAt(1000, [topicSnapshot('a', {entriesAdded: 10, groups: [groupSnapshot('g')]})]), 60)
    expect(second.rows[0]?.inRate).toBe(10)
    expect(second.histories.get(rowKey(row('a')))?.in).toEqual([null, 10])
    const failed = withFailure(withFailure(second, 'ECONNREFUSED', 5000), 'still refused', 6000)
    expect(failed.stale).toEqual({since: 5000, message: 'still refused'})
    expect(failed.rows).toBe(second.rows)
    const recovered = withSnapshot(failed, snapshotAt(7000, [topicSnapshot('a', {entriesAdded: 70})]), 60)
    expect(recovered.stale).toBeNull()
    expect(recovered.rows[0]?.inRate).toBe(10)
  })
})
