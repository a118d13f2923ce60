import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'

import type {PublishResult} from '../../src/core/publish/publish.js'
import {formatPublishProgress, formatPublishSummary} from '../../src/format/publish.js'
import {formatCount, formatDuration, plural, ratePerSecond} from '../../src/format/numbers.js'

const style = new Chalk({level: 0})

const result = (overrides: Partial<PublishResult>): PublishResult => ({
  topic: 'orders',
  published: 0,
  firstId: null,
  lastId: null,
  deduplicated: 0,
  skipped: 0,
  skippedLines: [],
  durationMs: 0,
  ...overrides,
})

describe('formatCount', () => {
  it.each([
    [0, '0'],
    [7, '7'],
    [999, '999'],
    [1000, '1,000'],
    [1_234_567, '1,234,567'],
    [-4200, '-4,200'],
  ])('%d is %s', (value, text) => {
    expect(formatCount(value)).toBe(text)
  })
})

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [5, '5ms'],
    [12.4, '12ms'],
    [999, '999ms'],
    [1000, '1.00s'],
    [1234, '1.23s'],
    [59_990, '59.99s'],
    [60_000, '1m00s'],
    [61_000, '1m01s'],
    [125_000, '2m05s'],
    [3_600_000, '60m00s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  // BUG: seconds are rounded after the minutes are taken, so 119.5 s prints "1m60s".
  it.each([
    [119_500, '2m00s'],
    [179_999, '3m00s'],
  ])('%d ms rounds up into the next minute: %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})

describe('ratePerSecond', () => {
  it.each([
    [100, 1000, 100],
    [1, 3, 333],
    [10, 4000, 3],
    [3, 2000, 2],
    [5, 0, 0],
    [5, -10, 0],
    [0, 1000, 0],
  ])('%d in %d ms is %d/s', (count, ms, rate) => {
    expect(ratePerSecond(count, ms)).toBe(rate)
  })
})

describe('plural', () => {
  it.each([
    [0, 'message', undefined, '0 messages'],
    [1, 'message', undefined, '1 message'],
    [2, 'message', undefined, '2 messages'],
    [1500, 'message', undefined, '1,500 messages'],
    [1, 'entry', 'entries', '1 entry'],
    [3, 'entry', 'entries', '3 entries'],
  ])('%d %s', (count, one, many, text) => {
    expect(plural(count, one, many)).toBe(text)
  })
})

describe('formatPublishProgress', () => {
  it.each([
    [{published: 0}, 0, 'publishing to orders: 0 messages (0 msg/s)'],
    [{published: 1}, 500, 'publishing to orders: 1 message (2 msg/s)'],
    [{published: 12_345}, 2000, 'publishing to orders: 12,345 messages (6,173 msg/s)'],
  ])('%j after %d ms', (counts, elapsedMs, text) => {
    expect(formatPublishProgress('orders', {firstId: undefined, lastId: undefined, lastAckedLine: 0, ...counts}, elapsedMs)).toBe(text)
  })
})

describe('formatPublishSummary', () => {
  it('names the entry ID of a single message', () => {
    expect(formatPublishSummary(result({published: 1, firstId: '1700000000000-0', lastId: '1700000000000-0', id: '1700000000000-0', durationMs: 3}), style)).toEqual([
      'Published 1 message to orders: 1700000000000-0',
    ])
  })

  it('gives count, duration, rate and the ID range for many messages', () => {
    expect(
      formatPublishSummary(result({published: 10_000, firstId: '1700000000000-0', lastId: '1700000000123-7', durationMs: 2500}), style),
    ).toEqual(['Published 10,000 messages to orders in 2.50s (4,000 msg/s), ids 1700000000000-0 … 1700000000123-7'])
  })

  it('uses the range form for one message from NDJSON (no single id)', () => {
    expect(formatPublishSummary(result({published: 1, firstId: '5-0', lastId: '5-0', durationMs: 4}), style)).toEqual([
      'Published 1 message to orders in 4ms (250 msg/s), ids 5-0 … 5-0',
    ])
  })

  it('reports a rate of 0 when no time was measured', () => {
    expect(formatPublishSummary(result({published: 3, firstId: '1-0', lastId: '1-2', durationMs: 0}), style)).toEqual([
      'Published 3 messages to orders in 0ms (0 msg/s), ids 1-0 … 1-2',
    ])
  })

  it('says when nothing was published', () => {
    expect(formatPublishSummary(result({published: 0, durationMs: 12}), style)).toEqual([
      'Nothing published to orders: the input has no messages.',
    ])
  })

  it('lists skipped lines', () => {
    expect(formatPublishSummary(result({published: 2, firstId: '1-0', lastId: '1-1', durationMs: 1000, skipped: 3, skippedLines: [2, 5, 9]}), style)).toEqual([
      'Published 2 messages to orders in 1.00s (2 msg/s), ids 1-0 … 1-1',
      'Skipped 3 invalid lines: 2, 5, 9',
    ])
  })

  it('uses the singular for one skipped line', () => {
    expect(formatPublishSummary(result({published: 1, firstId: '1-0', lastId: '1-0', durationMs: 10, skipped: 1, skippedLines: [4]}), style)[1]).toBe(
      'Skipped 1 invalid line: 4',
    )
  })

  it('marks that more lines were skipped than are listed', () => {
    const skippedLines = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    expect(formatPublishSummary(result({published: 5, firstId: '1-0', lastId: '1-4', durationMs: 1000, skipped: 1234, skippedLines}), style)).toEqual([
      'Published 5 messages to orders in 1.00s (5 msg/s), ids 1-0 … 1-4',
      'Skipped 1,234 invalid lines: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, …',
    ])
  })

  it('reports skipped lines even when nothing was published', () => {
    expect(formatPublishSummary(result({skipped: 2, skippedLines: [1, 3]}), style)).toEqual([
      'Nothing published to orders: the input has no messages.',
      'Skipped 2 invalid lines: 1, 3',
    ])
  })

  it('scheduled once per idempotency key: counts what was not scheduled again, and says when nothing was', () => {
    const dueAt = '2026-12-04T19:40:00.000Z'
    expect(formatPublishSummary(result({scheduled: 3, dueAt, deduplicated: 2}), style)).toEqual([
      `Scheduled 3 messages for orders, due ${dueAt}: a running qctl work of the topic (or qctl schedule run) appends them when due.`,
      'Not scheduled again: 2 messages whose idempotency key was published or scheduled within the dedupe window.',
    ])
    expect(formatPublishSummary(result({scheduled: 0, deduplicated: 1}), style)).toEqual([
      'Nothing scheduled for orders: every message was published or scheduled there already.',
      'Not scheduled again: 1 message whose idempotency key was published or scheduled within the dedupe window.',
    ])
  })

  it('has no skipped line when nothing was skipped', () => {
    expect(formatPublishSummary(result({published: 2, firstId: '1-0', lastId: '1-1', durationMs: 1}), style)).toHaveLength(1)
  })

  it('styles the topic bold and the skipped line yellow when colour is on', () => {
    const colour = new Chalk({level: 1})
    const lines = formatPublishSummary(result({published: 1, id: '1-0', firstId: '1-0', lastId: '1-0', skipped: 1, skippedLines: [3]}), colour)
    expect(lines).toEqual([`Published 1 message to ${colour.bold('orders')}: 1-0`, colour.yellow('Skipped 1 invalid line: 3')])
    expect(lines[0]).toContain('\u001B[1m')
  })
})
