import {describe, expect, it} from 'vitest'

import {BOXED_MAX_ROWS, renderTable, truncate, type TableColumn} from '../../src/format/table.js'
import {textWidth} from '../../src/format/terminal-text.js'

const columns: TableColumn[] = [{title: 'NAME', shrinks: true}, {title: 'COUNT', align: 'right'}]

describe('renderTable', () => {
  it('boxed: cli-table3 look, a rule between rows, right-aligned figures', () => {
    expect(renderTable(columns, [['orders', '1,200'], ['payments', '7']], {layout: 'boxed'})).toEqual([
      '┌──────────┬───────┐',
      '│ NAME     │ COUNT │',
      '├──────────┼───────┤',
      '│ orders   │ 1,200 │',
      '├──────────┼───────┤',
      '│ payments │     7 │',
      '└──────────┴───────┘',
    ])
  })

  it('compact: one header, one line a row, no trailing spaces', () => {
    expect(renderTable(columns, [['orders', '1,200'], ['payments', '7']])).toEqual(['NAME      COUNT', 'orders    1,200', 'payments      7'])
  })

  it(`boxed falls back to compact above ${BOXED_MAX_ROWS} rows and when it does not fit the width`, () => {
    const many = Array.from({length: BOXED_MAX_ROWS + 1}, (_, index) => [`t${index}`, String(index)])
    expect(renderTable(columns, many, {layout: 'boxed'})).toHaveLength(BOXED_MAX_ROWS + 2)
    expect(renderTable(columns, [['orders', '1']], {layout: 'boxed', width: 15})).toEqual(['NAME    COUNT', 'orders      1'])
  })

  it('fits the width by cutting shrinking columns (never below 8 or the title), with narrow titles', () => {
    const cols: TableColumn[] = [{title: 'TOPIC', shrinks: true}, {title: 'CONSUMERS', narrowTitle: 'CONS', align: 'right'}]
    expect(renderTable(cols, [['a-very-long-topic-name', '1/1']], {width: 16})).toEqual(['TOPIC       CONS', 'a-very-lo…   1/1'])
    // Cannot fit: cut to the minimum, and the line stays wider.
    expect(renderTable(cols, [['a-very-long-topic-name', '1/1']], {width: 5})[1]).toBe('a-very-…   1/1')
  })

  it('shows control characters escaped and measures what is shown', () => {
    const lines = renderTable(columns, [['\u001b[31mred\r\nx', '1']])
    expect(lines).toEqual(['NAME                COUNT', '\\u001b[31mred\\r\\nx      1'])
  })

  it('paints after padding and cutting, so colour never counts as width', () => {
    const lines = renderTable(columns, [[{text: 'orders', paint: (text) => `<${text}>`}, '1']])
    expect(lines[1]).toBe('<orders>      1')
  })

  it('cuts a column to its maxWidth', () => {
    expect(renderTable([{title: 'E', maxWidth: 4}], [['abcdefgh']])).toEqual(['E', 'abc…'])
  })

  it('renders 100,000 rows in one pass (linear: cli-table3 took minutes)', () => {
    const rows = Array.from({length: 100_000}, (_, index) => [`tenant.${index}`, String(index)])
    expect(renderTable(columns, rows)).toHaveLength(100_001)
  })
})

describe('textWidth and truncate', () => {
  it('count code points, not UTF-16 units', () => {
    expect(textWidth('🚀x')).toBe(2)
    expect(truncate('🚀🚀🚀', 2)).toBe('🚀…')
  })
})

describe('tableTarget', () => {
  it('boxed only on a terminal of 100 columns or more; piped output is compact, fitted to COLUMNS when set', async () => {
    const {tableTarget} = await import('../../src/output/table-target.js')
    expect(tableTarget({isTTY: true, columns: 120}, {})).toEqual({width: 120, layout: 'boxed'})
    expect(tableTarget({isTTY: true, columns: 80}, {COLUMNS: '200'})).toEqual({width: 80, layout: 'compact'})
    expect(tableTarget({isTTY: false}, {COLUMNS: '80'})).toEqual({width: 80, layout: 'compact'})
    expect(tableTarget({isTTY: false}, {COLUMNS: 'wide'})).toEqual({width: undefined, layout: 'compact'})
    expect(tableTarget({}, {})).toEqual({width: undefined, layout: 'compact'})
  })
})
