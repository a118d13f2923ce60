import {describe, expect, it} from 'vitest'

import {decodeDlqEntry, metadataStart, type DlqEntry} from '../../src/core/dlq/entry.js'
import {pacing} from '../../src/core/dlq/pacing.js'
import {buildSelection, errorMatches, matchesSelection, parseBound, rangeOf} from '../../src/core/dlq/selection.js'
import {compareIdText, formatStreamId, MAX_SEQ, parseStreamId} from '../../src/core/dlq/stream-id.js'
import {QctlError} from '../../src/core/errors.js'

const T0 = Date.parse('2026-11-28T10:00:00.000Z')

const meta = (overrides: Record<string, string> = {}): string[] =>
  Object.entries({
    'dlq.topic': 'orders',
    'dlq.id': `${T0 - 5000}-0`,
    'dlq.group': 'billing',
    'dlq.consumer': 'host-1',
    'dlq.attempts': '3',
    'dlq.error-name': 'PermanentError',
    'dlq.error-message': 'non-positive total',
    'dlq.first-failure': '2026-11-28T09:59:58.000Z',
    'dlq.last-failure': '2026-11-28T09:59:59.000Z',
    ...overrides,
  }).flat()

const entry = (dlqId: string, overrides: Record<string, string> = {}, fields: string[] = ['data', '{"n":1}']): DlqEntry =>
  decodeDlqEntry(dlqId, [...fields, ...meta(overrides)])

const usage = (fn: () => unknown): QctlError => {
  try {
    fn()
  } catch (error) {
    if (error instanceof QctlError) return error
    throw error
  }
  throw new Error('expected a QctlError')
}

describe('stream IDs', () => {
  it.each([
    ['1700000000000-0', {ms: 1_700_000_000_000, seq: 0n}],
    ['1-18446744073709551615', {ms: 1, seq: MAX_SEQ}],
    [' 5-7 ', {ms: 5, seq: 7n}],
  ])('parses %s', (text, id) => {
    expect(parseStreamId(text)).toEqual(id)
  })

  it.each(['', '1700000000000', '1-18446744073709551616', 'a-1', '1-2-3', '-1-0'])('rejects %j', (text) => {
    expect(parseStreamId(text)).toBeUndefined()
  })

  it('orders by milliseconds, then sequence (numerically, not as text)', () => {
    expect(['10-0', '9-10', '9-9', '100-0'].sort(compareIdText)).toEqual(['9-9', '9-10', '10-0', '100-0'])
  })
})

describe('decodeDlqEntry', () => {
  it('splits original fields from the dlq.* metadata and types it', () => {
    const decoded = entry(`${T0}-0`, {}, ['data', '{"n":1}', 'key', 'k', 'headers', '{"a":"b"}', 'custom', 'kept'])
    expect(decoded).toEqual({
      dlqId: `${T0}-0`,
      partition: null,
      deadLetteredAt: '2026-11-28T10:00:00.000Z',
      originTopic: 'orders',
      originId: `${T0 - 5000}-0`,
      group: 'billing',
      consumer: 'host-1',
      attempts: 3,
      errorName: 'PermanentError',
      errorMessage: 'non-positive total',
      firstFailureAt: '2026-11-28T09:59:58.000Z',
      lastFailureAt: '2026-11-28T09:59:59.000Z',
      fields: {data: '{"n":1}', key: 'k', headers: '{"a":"b"}', custom: 'kept'},
      data: '{"n":1}',
    })
  })

  it('keeps an original field that happens to start with dlq. (the metadata starts at the last dlq.topic)', () => {
    const pairs = ['data', 'x', 'dlq.topic', 'from-another-program', 'dlq.note', 'n', ...meta()]
    expect(metadataStart(pairs)).toBe(6)
    expect(decodeDlqEntry('1-0', pairs).fields).toEqual({data: 'x', 'dlq.topic': 'from-another-program', 'dlq.note': 'n'})
  })

  it('without dlq.topic, trailing dlq.* fields are the metadata; missing values are null', () => {
    const decoded = decodeDlqEntry('1-0', ['data', 'x', 'dlq.attempts', 'many', 'dlq.error-name', 'E'])
    expect(decoded.fields).toEqual({data: 'x'})
    expect(decoded).toMatchObject({originTopic: null, originId: null, attempts: null, errorName: 'E', errorMessage: null, data: 'x'})
  })

  it('an entry written by another program: all fields original, data null when absent', () => {
    expect(decodeDlqEntry('1-0', ['payload', 'p'])).toMatchObject({fields: {payload: 'p'}, data: null, group: null})
  })

  it('a __proto__ field stays data', () => {
    const decoded = decodeDlqEntry('1-0', ['__proto__', 'x', 'data', 'y'])
    expect(Object.keys(decoded.fields)).toEqual(['__proto__', 'data'])
    expect(Object.getPrototypeOf(decoded.fields)).toBe(Object.prototype)
  })
})

describe('parseBound', () => {
  it.each([
    ['1700000000000-5', 'start', '1700000000000-5'],
    ['1700000000000-5', 'end', '1700000000000-5'],
    ['1700000000000', 'start', '1700000000000-0'],
    ['1700000000000', 'end', `1700000000000-${MAX_SEQ}`],
    ['2026-11-28T10:00:00Z', 'start', `${T0}-0`],
    ['2026-11-28T10:00:00.000Z', 'end', `${T0}-${MAX_SEQ}`],
    ['2026-11-28', 'start', `${Date.parse('2026-11-28')}-0`],
  ] as const)('%s as a %s bound is %s', (text, side, id) => {
    expect(formatStreamId(parseBound(text, '--since', side, T0))).toBe(id)
  })

  it.each([
    ['30m', 'start', `${T0 - 1_800_000}-0`],
    ['1h', 'end', `${T0 - 3_600_000}-${MAX_SEQ}`],
    ['7d', 'start', `${T0 - 7 * 86_400_000}-0`],
    ['1w', 'start', `${T0 - 7 * 86_400_000}-0`],
    ['0', 'start', '0-0'],
  ] as const)('%s as a %s bound is that long before now: %s', (text, side, id) => {
    expect(formatStreamId(parseBound(text, '--since', side, T0))).toBe(id)
  })

  it.each(['yesterday', '12:00', '2026-13-45', '1y', '-1h', ''])('rejects %j naming the flag and listing the accepted forms', (text) => {
    const error = usage(() => parseBound(text, '--until', 'end', T0))
    expect(error.code).toBe('USAGE')
    expect(error.message).toMatch(/^invalid --until .*: use a duration ago \(30m, 1h, 7d, 1w\), an ISO time \(.*\) or a stream ID \(1700000000000-0\)$/)
  })
})

describe('buildSelection', () => {
  it('combines --until and --older-than into the earlier bound', () => {
    const now = T0 + 3_600_000
    const selection = buildSelection({topic: 't', until: '2026-11-28T12:00:00Z', olderThan: '1h'}, now)
    expect(formatStreamId(selection.until!)).toBe(`${T0 - 1}-${MAX_SEQ}`)
    expect(rangeOf(selection)).toEqual({start: '-', end: `${T0 - 1}-${MAX_SEQ}`})
  })

  it('--older-than takes a time or a stream ID too: strictly before it', () => {
    expect(formatStreamId(buildSelection({topic: 't', olderThan: '2026-11-28T10:00:00Z'}, T0 + 1).until!)).toBe(`${T0 - 1}-${MAX_SEQ}`)
    expect(formatStreamId(buildSelection({topic: 't', olderThan: `${T0}-5`}, T0).until!)).toBe(`${T0}-4`)
    expect(usage(() => buildSelection({topic: 't', olderThan: 'a week'}, T0)).message).toMatch(/^invalid --older-than "a week": use a duration ago/)
  })

  it('deduplicates --id values and checks their form', () => {
    expect(buildSelection({topic: 't', ids: ['1-0', '1-0', '2-0']}, T0).ids).toEqual(['1-0', '2-0'])
    expect(usage(() => buildSelection({topic: 't', ids: ['nope']}, T0)).message).toMatch(/^invalid --id "nope"/)
  })

  it('refuses an invalid --error regex and a --since after --until', () => {
    expect(usage(() => buildSelection({topic: 't', error: '(unclosed'}, T0)).message).toMatch(/^invalid --error "\(unclosed": /)
    expect(usage(() => buildSelection({topic: 't', since: '2-0', until: '1-0'}, T0)).message).toMatch(/^nothing can match/)
  })

  it('no criteria: the whole stream', () => {
    expect(rangeOf(buildSelection({topic: 't'}, T0))).toEqual({start: '-', end: '+'})
  })
})

describe('matchesSelection', () => {
  const e = entry(`${T0}-3`)

  it.each([
    ['everything of the topic', {}, true],
    ['another topic', {topic: 'other'}, false],
    ['--id listing it', {ids: ['9-9', `${T0}-3`]}, true],
    ['--id not listing it', {ids: ['9-9']}, false],
    ['--since at its ID', {since: `${T0}-3`}, true],
    ['--since after it', {since: `${T0}-4`}, false],
    ['--until its millisecond', {until: '2026-11-28T10:00:00Z'}, true],
    ['--until before it', {until: `${T0}-2`}, false],
    ['--group its group', {group: 'billing'}, true],
    ['--group another', {group: 'shipping'}, false],
    ['--error on the name', {error: '^Permanent'}, true],
    ['--error on the message', {error: 'total$'}, true],
    ['--error across name and message', {error: 'Error: non-'}, true],
    ['--error not matching', {error: 'Timeout'}, false],
  ])('%s', (_name, input, expected) => {
    expect(matchesSelection(e, buildSelection({topic: 'orders', ...input}, T0))).toBe(expected)
  })

  it('entries that record no topic are selected for any topic', () => {
    expect(matchesSelection(decodeDlqEntry('1-0', ['data', 'x']), buildSelection({topic: 'anything'}, T0))).toBe(true)
  })

  it('a global regex gives the same answer every time', () => {
    const pattern = /Permanent/g
    expect([1, 2, 3].map(() => errorMatches(pattern, e))).toEqual([true, true, true])
  })
})

describe('pacing', () => {
  it('unlimited: large batches, no waiting', () => {
    expect(pacing()).toMatchObject({batch: 200})
    expect(pacing().startAtMs(10_000)).toBe(0)
  })

  it.each([
    [5, 1, 9, 1800],
    [50, 2, 10, 200],
    [1000, 50, 100, 100],
    [100_000, 200, 200, 2],
  ])('at %i/s: batches of %i, entry %i starts at %i ms', (rate, batch, index, at) => {
    const pace = pacing(rate)
    expect(pace.batch).toBe(batch)
    expect(pace.startAtMs(index)).toBe(at)
  })

  it('refuses a rate that is not positive', () => {
    expect(usage(() => pacing(0)).message).toMatch(/^rate must be a positive number/)
  })
})
