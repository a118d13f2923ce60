import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'

import {decodeDlqEntry} from '../../src/core/dlq/entry.js'
import {SummaryCollector} from '../../src/core/dlq/summary.js'
import {formatSelectionSummary} from '../../src/format/dlq-summary.js'

const style = new Chalk({level: 0})
const T0 = Date.parse('2026-11-28T10:00:00.000Z')
const HOUR = 3_600_000

const entry = (n: number, at: number, errorName: string, group: string | null) =>
  decodeDlqEntry(`${at}-${n}`, ['data', '{}', 'dlq.topic', 't', ...(group === null ? [] : ['dlq.group', group]), 'dlq.error-name', errorName])

describe('the summary of a large selection', () => {
  it('counts by error name and group (the ten largest, the rest as one row) and by hour, oldest first', () => {
    const collector = new SummaryCollector()
    for (let n = 0; n < 300; n++) collector.add(entry(n, T0 + Math.floor(n / 100) * HOUR, n < 200 ? 'TimeoutError' : `E${n % 12}`, n % 2 === 0 ? 'billing' : null))
    const summary = collector.summary()
    expect(summary.count).toBe(300)
    expect(summary.first?.dlqId).toBe(`${T0}-0`)
    expect(summary.last?.dlqId).toBe(`${T0 + 2 * HOUR}-299`)
    const lines = formatSelectionSummary(summary, {width: 120, now: T0 + 3 * HOUR, style})
    const errors = lines.slice(lines.indexOf('By error name:') + 1, lines.indexOf('By group:'))
    expect(errors).toHaveLength(10)
    expect(errors[0]).toBe('  200  TimeoutError')
    expect(errors.at(-1)).toBe('   32  (4 other error names)')
    expect(lines.slice(lines.indexOf('By group:') + 1, lines.indexOf('By hour dead-lettered (UTC):'))).toEqual(['  150  (no group)', '  150  billing'])
    expect(lines).toContain('  2026-11-28 10:00  100')
    expect(lines).toContain('  2026-11-28 12:00  100')
  })

  it('over 48 hours counts by day; over 48 days, the first and last 24 with the rest in one line', () => {
    const collector = new SummaryCollector()
    for (let day = 0; day < 60; day++) collector.add(entry(day, T0 + day * 24 * HOUR, 'E', 'g'))
    const lines = formatSelectionSummary(collector.summary(), {width: 120, now: T0, style})
    expect(lines).toContain('By day dead-lettered (UTC):')
    expect(lines).toContain('  2026-11-28        1')
    expect(lines).toContain('  … 12 more days, 12 entries …')
    expect(lines.filter((line) => /^ {2}\d{4}-\d\d-\d\d /.test(line))).toHaveLength(48)
  })
})
