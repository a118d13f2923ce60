import {describe, expect, it} from 'vitest'

import {cellText, TREND_MARKS} from '../../../src/format/top-model/cells.js'
import {fromStandIns, STAND_IN_CHARACTERS, toStandIns} from '../../../src/ui/model/glyphs.js'
import {appendHistory} from '../../../src/format/top-model/history.js'
import {COLUMNS, type ColumnKey} from '../../../src/format/top-model/layout.js'
import type {RateRow, Trend} from '../../../src/core/stats/rates.js'
import {row} from './fixtures.js'

const PRINTABLE_ASCII = /^[\u0020-\u007E]*$/
const GENERATED: ColumnKey[] = COLUMNS.map((column) => column.key).filter((key) => key !== 'name')

/** Rows across the ranges each figure can take: none, small, thousands, millions, unknown, growing. */
function variedRows(): RateRow[] {
  const rates = [null, 0, 0.4, 9.96, 12, 1234, 12_345, 999_999, 4_560_000]
  const counts = [0, 7, 1234, 123_456, 1_234_567]
  const ages = [null, 850, 42_000, 192_000, 7_500_000, 270_000_000]
  const trends: Trend[] = ['growing', 'draining', 'steady', 'idle', 'stalled']
  const rows: RateRow[] = []
  for (const [index, rate] of rates.entries()) {
    const count = counts[index % counts.length] ?? 0
    rows.push(
      row(`t${index}`, {
        group: index % 3 === 0 ? null : 'g',
        trend: trends[index % trends.length] ?? 'idle',
        depth: count,
        inRate: rate,
        outRate: rates[rates.length - 1 - index] ?? null,
        lag: index % 4 === 0 ? null : count,
        lagGrowing: index % 2 === 0,
        pending: count,
        oldestPendingAgeMs: ages[index % ages.length] ?? null,
        consumers: index,
        activeConsumers: index % 5 === 0 ? null : index,
        deadLetters: count,
        deadLetterInRate: rate,
        deadLettersGrowing: index % 2 === 1,
      }),
    )
  }
  return rows
}

describe('glyph stand-ins', () => {
  it('are single printable ASCII characters that map back to the glyphs one for one', () => {
    for (const standIn of STAND_IN_CHARACTERS) expect(standIn).toMatch(/^[\u0020-\u007E]$/)
    const glyphs = '▁▂▃▄▅▆▇█▲▼·↑■'
    const encoded = toStandIns(glyphs)
    expect(encoded).toMatch(PRINTABLE_ASCII)
    expect(encoded).toHaveLength(glyphs.length)
    expect(fromStandIns(encoded)).toBe(glyphs)
  })

  it('make every generated cell printable ASCII (so Ink measures it on the fast path), and the cells never contain a stand-in themselves', () => {
    const rows = variedRows()
    let histories = appendHistory(new Map(), rows, 60)
    for (let step = 0; step < 60; step++) histories = appendHistory(histories, rows.map((each) => ({...each, inRate: (step * 37) % 11, outRate: step % 3 === 0 ? null : step})), 60)
    const seen = new Set<string>()
    for (const each of rows) {
      for (const column of GENERATED) {
        const text = cellText(each, column, histories)
        seen.add(text)
        for (const standIn of STAND_IN_CHARACTERS) expect(text, `${column}: ${text}`).not.toContain(standIn)
        expect(toStandIns(text), `${column}: ${text}`).toMatch(PRINTABLE_ASCII)
        expect(fromStandIns(toStandIns(text))).toBe(text)
      }
    }
    // The rows did produce every kind of glyph the table draws.
    const all = [...seen].join('')
    for (const glyph of ['▁', '█', '▲', '▼', '·', '↑', ...Object.values(TREND_MARKS).map((mark) => mark[0] ?? '')]) expect(all).toContain(glyph)
  })

  it('leave colour codes alone when Ink hands the transform a styled line', () => {
    const styled = `\u001B[31m\u001B[7m${toStandIns('▲ growing    5,200 3,100↑ ▁▂▄█')}\u001B[27m\u001B[39m \u001B[2m${toStandIns('· idle')}\u001B[22m`
    expect(fromStandIns(styled)).toBe('\u001B[31m\u001B[7m▲ growing    5,200 3,100↑ ▁▂▄█\u001B[27m\u001B[39m \u001B[2m· idle\u001B[22m')
  })
})
