import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'

import {decodeDlqEntry, type DlqEntry} from '../../src/core/dlq/entry.js'
import type {DlqPlan} from '../../src/core/dlq/plan.js'
import {SummaryCollector} from '../../src/core/dlq/summary.js'
import type {PurgeResult} from '../../src/core/dlq/purge.js'
import type {ReplayResult} from '../../src/core/dlq/replay.js'
import {
  errorText,
  fitColumns,
  formatAgo,
  formatDlqTable,
  formatEntry,
  formatIdRange,
  formatList,
  formatPurgeQuestion,
  formatPurgeSummary,
  formatReplayProgress,
  formatReplayQuestion,
  formatReplaySummary,
  PREVIEW_WIDTH,
  MAX_PRETTY_DEPTH,
  prettyJson,
  truncate,
} from '../../src/format/dlq.js'

const style = new Chalk({level: 0})
const NOW = Date.parse('2026-11-28T10:00:00.000Z')

function entry(n: number, overrides: Partial<Record<string, string>> = {}, data = `{"orderId":${n},"total":0}`): DlqEntry {
  const meta: Record<string, string> = {
    'dlq.topic': 'orders',
    'dlq.id': `${NOW - 60_000}-${n}`,
    'dlq.group': 'billing',
    'dlq.consumer': 'host-1',
    'dlq.attempts': '5',
    'dlq.error-name': 'PermanentError',
    'dlq.error-message': `order ${n} has a non-positive total and cannot be charged`,
    'dlq.first-failure': new Date(NOW - 300_000).toISOString(),
    'dlq.last-failure': new Date(NOW - 180_000).toISOString(),
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete meta[name]
    else meta[name] = value
  }
  return decodeDlqEntry(`${NOW - 1000}-${n}`, ['data', data, ...Object.entries(meta).flat()])
}

describe('small pieces', () => {
  it.each([
    ['abc', 3, 'abc'],
    ['abcd', 3, 'ab…'],
    ['héllo wörld', 6, 'héllo…'],
    ['🚀🚀🚀', 2, '🚀…'],
    ['abc', 0, ''],
  ])('truncate(%j, %i) is %j', (text, width, expected) => {
    expect(truncate(text, width)).toBe(expected)
  })

  it.each([
    [{errorName: 'E', errorMessage: 'm'}, 'E: m'],
    [{errorName: 'E', errorMessage: null}, 'E'],
    [{errorName: null, errorMessage: 'm'}, 'm'],
    [{errorName: null, errorMessage: null}, '-'],
  ])('errorText(%j) is %j', (value, expected) => {
    expect(errorText(value)).toBe(expected)
  })

  it.each([
    [0, '0ms ago'],
    [59_999, '59s ago'],
    [60_000, '1m00s ago'],
    [3_600_000, '1h00m ago'],
    [50 * 3_600_000, '2d02h ago'],
    [-5000, '0ms ago'],
  ])('formatAgo %i ms ago is %s', (ago, expected) => {
    expect(formatAgo(NOW - ago, NOW)).toBe(expected)
  })

  it('formatAgo of an unparsable time is -', () => {
    expect(formatAgo(Number.NaN, NOW)).toBe('-')
  })

  it.each([
    [[], ''],
    [['1-0'], '1-0'],
    [['1-0', '2-0', '3-0'], '1-0 … 3-0'],
  ])('formatIdRange(%j) is %j', (ids, expected) => {
    expect(formatIdRange(ids)).toBe(expected)
  })
})

describe('prettyJson', () => {
  it('re-indents by two spaces and keeps every value exactly as written', () => {
    const text = '{"total":1.50,"id":12345678901234567890,"s":"a, b: {c}","esc":"q\\"x","list":[1, 2],"empty":{},"none":[ ]}'
    expect(prettyJson(text)).toBe(
      [
        '{',
        '  "total": 1.50,',
        '  "id": 12345678901234567890,',
        '  "s": "a, b: {c}",',
        '  "esc": "q\\"x",',
        '  "list": [',
        '    1,',
        '    2',
        '  ],',
        '  "empty": {},',
        '  "none": []',
        '}',
      ].join('\n'),
    )
  })

  it('leaves scalars alone and returns undefined for text that is not JSON', () => {
    expect(prettyJson(' 42 ')).toBe('42')
    expect(prettyJson('"x"')).toBe('"x"')
    expect(prettyJson('{"a":')).toBeUndefined()
    expect(prettyJson('plain text')).toBeUndefined()
  })

  it(`leaves payloads nested deeper than ${MAX_PRETTY_DEPTH} levels as they are (100,000 levels would need ~10^10 characters)`, () => {
    expect(prettyJson(`${'['.repeat(MAX_PRETTY_DEPTH)}${']'.repeat(MAX_PRETTY_DEPTH)}`)).toContain(`\n${'  '.repeat(MAX_PRETTY_DEPTH - 1)}[]`)
    expect(prettyJson(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeUndefined()
  })
})

describe('formatDlqTable', () => {
  const entries = [entry(1), entry(2, {'dlq.error-message': 'multi\nline\u001b[31m error'})]

  it('fits a 120-column terminal: every line at most 120 wide, error and preview cut with …', () => {
    const lines = formatDlqTable(entries, {width: 120, now: NOW, style})
    expect(lines[0]).toMatch(/^DLQ ID\s+ORIGIN ID\s+GROUP\s+ATTEMPTS\s+ERROR\s+FAILED\s+PAYLOAD$/)
    expect(lines).toHaveLength(3)
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120)
    expect(lines[1]).toContain(`${NOW - 1000}-1  ${NOW - 60_000}-1  billing  5  `)
    expect(lines[1]).toContain('PermanentError: order 1 has')
    expect(lines[1]).toContain('…')
    expect(lines[1]).toContain('3m00s ago')
    expect(lines[1]).toContain('{"orderId":1,')
    expect(lines[2]).toContain('PermanentError: multi\\nline\\u00')
    expect(lines[2]).not.toContain('\u001b')
  })

  it('the error and preview columns share what the others leave, 60/40; narrow terminals lose origin, payload, age', () => {
    const widths = {id: 15, origin: 15, group: 7, attempts: 8, error: 200, failed: 9, preview: 300}
    expect(fitColumns(widths, 120)).toEqual({columns: ['id', 'origin', 'group', 'attempts', 'error', 'failed', 'preview'], error: 32, preview: 22})
    // At 80 columns the payload stub goes before the error is cut below 32 columns.
    expect(fitColumns(widths, 80)).toEqual({columns: ['id', 'group', 'attempts', 'error', 'failed'], error: 33})
    expect(fitColumns(widths, 92)).toEqual({columns: ['id', 'group', 'attempts', 'error', 'failed', 'preview'], error: 32, preview: 11})
    expect(fitColumns(widths, 70)).toEqual({columns: ['id', 'group', 'attempts', 'error', 'failed'], error: 23})
    expect(fitColumns(widths, 60)).toEqual({columns: ['id', 'group', 'attempts', 'error'], error: 24})
    // Narrower than the ID columns alone: the error keeps its minimum and the line overflows.
    expect(fitColumns(widths, 40)).toEqual({columns: ['id', 'group', 'attempts', 'error'], error: 16})
    // Short content takes only what it needs; the other column gets the rest.
    expect(fitColumns({...widths, error: 20}, 120)).toMatchObject({error: 20, preview: 34})
    expect(fitColumns({...widths, preview: 12}, 120)).toMatchObject({error: 42, preview: 12})
    expect(fitColumns({...widths, error: 10, preview: 12}, 120)).toMatchObject({error: 10, preview: 12})
    expect(fitColumns(widths, undefined)).toEqual({columns: ['id', 'origin', 'group', 'attempts', 'error', 'failed', 'preview'], error: undefined, preview: PREVIEW_WIDTH})
  })

  it('an 80-column terminal gets a table at most 80 wide, the error kept before the payload stub', () => {
    const lines = formatDlqTable(entries, {width: 80, now: NOW, style})
    expect(lines[0]).toMatch(/^DLQ ID\s+GROUP\s+ATTEMPTS\s+ERROR\s+FAILED$/)
    expect(lines[1]).toContain('PermanentError: order 1 has a no')
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80)
  })

  it('without a terminal width: errors whole, previews cut at 60 characters', () => {
    const long = entry(3, {}, JSON.stringify({orderId: 3, note: 'x'.repeat(200)}))
    const [, line] = formatDlqTable([long], {width: undefined, now: NOW, style})
    expect(line).toContain('PermanentError: order 3 has a non-positive total and cannot be charged')
    const preview = line?.slice(line.indexOf('{"orderId"')) ?? ''
    expect([...preview]).toHaveLength(PREVIEW_WIDTH)
    expect(preview.endsWith('…')).toBe(true)
  })

  it('an entry without metadata shows dashes', () => {
    const bare = decodeDlqEntry(`${NOW}-0`, ['payload', 'p'])
    const [, line] = formatDlqTable([bare], {width: undefined, now: NOW, style})
    expect(line).toBe(`${NOW}-0  -          -      -         -      0ms ago  (no data)`)
  })
})

describe('formatList', () => {
  it('says so when the dead-letter stream is empty or missing', () => {
    expect(formatList({dlq: '{orders}:dlq', total: 0, order: 'newest', filtered: false, entries: [], more: false}, {width: 80, now: NOW, style})).toEqual([
      'No dead-lettered entries in {orders}:dlq.',
    ])
  })

  it('says how many of how many were shown, and in which order', () => {
    const all = formatList({dlq: 'd', total: 2, order: 'newest', filtered: false, entries: [entry(2), entry(1)], more: false}, {width: 120, now: NOW, style})
    expect(all.at(-1)).toBe('Showing all 2 entries in d, newest first.')
    const some = formatList({dlq: 'd', total: 30, order: 'oldest', filtered: false, entries: [entry(1)], more: true}, {width: 120, now: NOW, style})
    expect(some.at(-1)).toBe('Showing the 1 oldest of 30 entries in d (--limit to see more).')
  })

  it('with filters, says how many passed them (and whether more did) of how many in the stream', () => {
    const layout = {width: 120, now: NOW, style}
    const list = (entries: DlqEntry[], more: boolean) => formatList({dlq: 'd', total: 30, order: 'newest', filtered: true, entries, more}, layout)
    expect(list([], false)).toEqual(['None of the 30 entries in d matches the filters.'])
    expect(list([entry(1)], false).at(-1)).toBe('Showing the one entry that matches the filters, of the 30 entries in d.')
    expect(list([entry(2), entry(1)], false).at(-1)).toBe('Showing all 2 entries that match the filters, of the 30 entries in d.')
    expect(list([entry(2), entry(1)], true).at(-1)).toBe('Showing the 2 newest of the entries that match the filters, of the 30 entries in d (--limit to see more).')
  })
})

describe('formatEntry', () => {
  it('shows metadata, every original field and the payload pretty-printed', () => {
    const e = decodeDlqEntry(`${NOW - 1000}-0`, [
      'data',
      '{"orderId":7,"total":0.0}',
      'key',
      '7',
      'headers',
      '{"source":"checkout"}',
      'dlq.topic',
      'orders',
      'dlq.id',
      '1-1',
      'dlq.group',
      'billing',
      'dlq.consumer',
      'w1',
      'dlq.attempts',
      '1',
      'dlq.error-name',
      'PermanentError',
      'dlq.error-message',
      'bad total\n    at handle (h.ts:3)',
      'dlq.first-failure',
      new Date(NOW - 2000).toISOString(),
      'dlq.last-failure',
      new Date(NOW - 2000).toISOString(),
    ])
    expect(formatEntry(e, NOW, style)).toEqual([
      `DLQ entry      ${NOW - 1000}-0, dead-lettered 2026-11-28T09:59:59.000Z (1s ago)`,
      'origin         orders 1-1',
      'group          billing (consumer w1)',
      'attempts       1',
      'error          PermanentError: bad total\n                   at handle (h.ts:3)',
      'first failure  2026-11-28T09:59:58.000Z (2s ago)',
      'last failure   2026-11-28T09:59:58.000Z (2s ago)',
      'field key      7',
      'field headers  {"source":"checkout"}',
      'payload (JSON):',
      '{\n  "orderId": 7,\n  "total": 0.0\n}',
    ])
  })

  it('a raw or non-JSON payload is shown as stored, control characters escaped', () => {
    const raw = decodeDlqEntry('1-0', ['data', '{"looks":"json"}', 'enc', 'raw'])
    expect(formatEntry(raw, NOW, style).slice(-2)).toEqual(['payload:', '{"looks":"json"}'])
    const text = decodeDlqEntry('1-0', ['data', 'ding\u0007'])
    expect(formatEntry(text, NOW, style).slice(-2)).toEqual(['payload:', 'ding\\u0007'])
    expect(formatEntry(decodeDlqEntry('1-0', ['x', 'y']), NOW, style).at(-1)).toBe('payload        (no data field)')
  })

  it('keeps two spaces between a field name and its value, however long the name', () => {
    const lines = formatEntry(decodeDlqEntry('1-0', ['tenant', 'a', 'correlation-identifier', 'b', 'x234', 'c']), NOW, style)
    expect(lines).toContain('field tenant   a')
    expect(lines).toContain('field correlation-identifier  b')
    expect(lines).toContain('field x234     c')
  })
})

describe('replay and purge lines', () => {
  const plan: DlqPlan = {key: '{orders}:dlq', ids: ['1-0', '2-0', '3-0'], entries: [], summary: new SummaryCollector().summary(), notFound: [], length: 5}
  const replay = (overrides: Partial<ReplayResult>): ReplayResult => ({
    dlq: '{orders}:dlq',
    topic: 'orders',
    toTopic: false,
    targets: [],
    withoutGroup: 0,
    dryRun: false,
    cancelled: false,
    selected: 3,
    replayed: 3,
    skipped: 0,
    remaining: 2,
    ids: ['9-0', '9-1', '9-2'],
    notFound: [],
    durationMs: 1500,
    ...overrides,
  })
  const purge = (overrides: Partial<PurgeResult>): PurgeResult => ({
    dlq: '{orders}:dlq',
    dryRun: false,
    cancelled: false,
    selected: 3,
    purged: 3,
    remaining: 2,
    ids: ['1-0', '2-0', '3-0'],
    notFound: [],
    durationMs: 5,
    ...overrides,
  })

  it('confirmation questions name the count, the ID range and the default', () => {
    expect(formatReplayQuestion(plan, 'group billing of orders only')).toBe('Replay 3 entries (1-0 … 3-0) from {orders}:dlq to group billing of orders only? [y/N] ')
    expect(formatPurgeQuestion({...plan, ids: ['1-0']})).toBe('Delete 1 entry (1-0) from {orders}:dlq for good? [y/N] ')
  })

  it('progress shows moved / total and the rate', () => {
    expect(formatReplayProgress({replayed: 1500, skipped: 0, total: 10_000}, 'orders', 1000)).toBe('replaying to orders: 1,500 / 10,000 (1,500 msg/s)')
  })

  it.each([
    [{}, 'Replayed 3 entries from {orders}:dlq to the groups of orders that failed them in 1.50s (2 msg/s); 2 left in the dead-letter stream.'],
    [{replayed: 2, skipped: 1, ids: ['9-0', '9-1']}, 'Replayed 2 entries from {orders}:dlq to the groups of orders that failed them in 1.50s (1 msg/s); 1 selected entry was already gone; 2 left in the dead-letter stream.'],
    [{dryRun: true, replayed: 0, ids: ['1-0', '3-0'], selected: 2}, 'Dry run: would replay 2 entries (1-0 … 3-0) from {orders}:dlq to the groups of orders that failed them; nothing changed.'],
    [{cancelled: true, replayed: 0, ids: []}, 'Not confirmed: nothing changed.'],
    [{selected: 0, replayed: 0, remaining: 0, ids: []}, 'No dead-lettered entries in {orders}:dlq; nothing to replay.'],
    [{selected: 0, replayed: 0, remaining: 4, ids: []}, 'None of the 4 entries in {orders}:dlq matches the selection; nothing to replay.'],
  ])('replay summary %j', (overrides, expected) => {
    expect(formatReplaySummary(replay(overrides), style)).toBe(expected)
  })

  it.each([
    [{}, 'Purged 3 entries from {orders}:dlq; 2 left.'],
    [{purged: 2}, 'Purged 2 entries from {orders}:dlq (1 selected were already gone); 2 left.'],
    [{dryRun: true, purged: 0}, 'Dry run: would delete 3 entries (1-0 … 3-0) from {orders}:dlq; nothing changed.'],
    [{cancelled: true, purged: 0, ids: []}, 'Not confirmed: nothing changed.'],
    [{selected: 0, purged: 0, remaining: 0, ids: []}, 'No dead-lettered entries in {orders}:dlq; nothing to purge.'],
  ])('purge summary %j', (overrides, expected) => {
    expect(formatPurgeSummary(purge(overrides), style)).toBe(expected)
  })
})
