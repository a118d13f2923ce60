import {describe, expect, it} from 'vitest'

import {parseBefore, parseMaxlen, safeTrimAt} from '../../src/core/trim/rule.js'
import type {TrimResult, TrimStream} from '../../src/core/trim/plan.js'
import {formatBytes} from '../../src/format/numbers.js'
import {formatHolder, formatRule, formatTrimQuestion, trimWarnings} from '../../src/format/trim.js'

const NOW = Date.parse('2026-12-04T12:00:00Z')
const DAY = 86_400_000

describe('qctl trim rules (pure)', () => {
  it('--before: durations ago (also with -ago), ISO times, milliseconds and stream IDs', () => {
    expect(parseBefore('7d', NOW)).toEqual({kind: 'before', given: '7d', minId: `${NOW - 7 * DAY}-0`})
    expect(parseBefore('7d-ago', NOW).minId).toBe(`${NOW - 7 * DAY}-0`)
    expect(parseBefore('12h ago', NOW).minId).toBe(`${NOW - DAY / 2}-0`)
    expect(parseBefore('2026-11-28T00:00:00Z', NOW).minId).toBe(`${Date.parse('2026-11-28T00:00:00Z')}-0`)
    expect(parseBefore('1700000000000', NOW).minId).toBe('1700000000000-0')
    expect(parseBefore('1700000000000-7', NOW).minId).toBe('1700000000000-7')
    for (const bad of ['yesterday', '-ago', '7x', '1-2-3']) expect(() => parseBefore(bad, NOW)).toThrow(/--before/)
  })

  it('--maxlen: a whole number of at least 0', () => {
    expect(parseMaxlen(0)).toEqual({kind: 'maxlen', maxlen: 0})
    expect(() => parseMaxlen(-1)).toThrow(/--maxlen/)
    expect(() => parseMaxlen(1.5)).toThrow(/--maxlen/)
  })

  it('the safe MINID is the older of the rule and the line, compared as IDs (10 after 9)', () => {
    expect(safeTrimAt('10-0', '9-5')).toBe('9-5')
    expect(safeTrimAt('9-5', '10-0')).toBe('9-5')
    expect(safeTrimAt('5-0', null)).toBe('5-0')
    expect(safeTrimAt(null, '5-0')).toBeNull()
  })
})

const stream = (overrides: Partial<TrimStream>): TrimStream => ({
  partition: null,
  stream: 's',
  exists: true,
  length: 10,
  groups: 1,
  rule: {minId: '9-0', entries: 8, bytes: 800},
  line: {minId: '3-0', group: 'g', reason: 'pending', entryId: '3-0', consumer: 'c', idleMs: 61_000},
  safe: {minId: '3-0', entries: 2, bytes: 200},
  trimAt: '3-0',
  removed: null,
  acked: false,
  ...overrides,
})
const result = (overrides: Partial<TrimResult>, streams = [stream({})]): TrimResult => ({
  topic: 'orders',
  partitioned: false,
  rule: {before: '7d', minId: '9-0', maxlen: null},
  force: false,
  dryRun: true,
  cancelled: false,
  streams,
  totals: {rule: {entries: 8, bytes: 800}, safe: {entries: 2, bytes: 200}, removed: null},
  ...overrides,
})

describe('qctl trim output (pure)', () => {
  it('names who holds the line, and why', () => {
    const line = {minId: '3-0', group: 'g', entryId: '3-0', consumer: 'c', idleMs: 61_000}
    expect(formatHolder({...line, reason: 'pending'})).toBe('g: 3-0 pending to c (idle 1m01s)')
    expect(formatHolder({...line, reason: 'pending', consumer: 'qctl:parked'})).toBe('g: parked retry 3-0')
    expect(formatHolder({...line, reason: 'undelivered', entryId: null})).toBe('g: not delivered from 3-0')
    expect(formatHolder({...line, reason: 'parked'})).toBe('g: parked retry 3-0 (its qctl:parked consumer is gone)')
    expect(formatHolder({...line, reason: 'missing'})).toBe('g: no such group here (its workers would read from the start)')
    expect(formatHolder(null)).toBe('no groups: the rule applies')
    // A hostile group name is shown escaped.
    expect(formatHolder({...line, group: '\u001b[31mg', reason: 'undelivered'})).toBe('\\u001b[31mg: not delivered from 3-0')
  })

  it('the rule, the question and the warnings', () => {
    expect(formatRule(result({}))).toBe('before 7d (9-0)')
    expect(formatRule(result({rule: {before: null, minId: null, maxlen: 1000}}))).toBe('all but the newest 1,000 entries')
    expect(formatRule(result({rule: {before: null, minId: null, maxlen: 0}}))).toBe('all entries (--maxlen 0)')
    expect(formatTrimQuestion(result({dryRun: false}))).toBe('Trim orders before 7d (9-0): remove 2 entries (200 B), none that a group still needs?')
    expect(formatTrimQuestion(result({dryRun: false, force: true}))).toBe('Trim orders before 7d (9-0) with --force: remove 8 entries (800 B), 6 of them not yet delivered to a group or still pending?')
    expect(trimWarnings(result({}))).toEqual([])
    expect(trimWarnings(result({force: true}))).toEqual(['--force would remove 6 entries (600 B) that a consumer group has not been delivered yet or still holds pending: they are lost to it'])
    expect(trimWarnings(result({}, [stream({groups: 0, line: null})]))).toEqual(['orders has no consumer group: nothing holds a line there, and the rule applies as given'])
    expect(trimWarnings(result({partitioned: true}, [stream({partition: 0}), stream({partition: 1, groups: 0, line: null}), stream({partition: 2, groups: 0, line: null})]))).toEqual([
      'partitions 1, 2 have no consumer group: nothing holds a line there, and the rule applies as given',
    ])
  })

  it('bytes for people', () => {
    expect([0, 1023, 1024, 1536, 5 * 1024 ** 2, 3 * 1024 ** 3].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '5.0 MiB', '3.0 GiB'])
  })
})
