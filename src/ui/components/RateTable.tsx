import {Box, Text, Transform} from 'ink'
import type {ReactElement} from 'react'

import {cellText, toneOf, type Tone} from '../../format/top-model/cells.js'
import {fromStandIns, toStandIns} from '../model/glyphs.js'
import type {Histories} from '../../format/top-model/history.js'
import {rowKey} from '../../core/stats/rates.js'
import {headLine, lineOf, SPARK_WIDTH, type ColumnKey} from '../../format/top-model/layout.js'
import type {RateRow} from '../../core/stats/rates.js'
import {scrollWindow} from '../model/screen.js'

export interface RateTableProps {
  /** Rows in display order. */
  rows: readonly RateRow[]
  columns: readonly ColumnKey[]
  /** Width of the TOPIC/GROUP column (from tableLayout). */
  nameWidth: number
  selected: number
  histories: Histories
  /** Samples one sparkline point averages (see history.ts samplesPerPoint). */
  samplesPerPoint: number
  /** Lines available for rows. */
  height: number
  stale: boolean
  colour: boolean
}

/** Characters before each row for the selection marker (`› `): lay the table out in the width minus this. */
export const SELECTION_MARK_WIDTH = 2

const COLOURS: Record<Tone, string | undefined> = {stalled: 'magenta', alert: 'red', good: 'green', quiet: undefined, normal: undefined}

interface RowLook {
  columns: readonly ColumnKey[]
  nameWidth: number
  histories: Histories
  samplesPerPoint: number
  stale: boolean
  colour: boolean
}

/** Every cell but the name, as one line with ASCII stand-ins for the glyphs (see model/glyphs.ts). */
function figuresLine(row: RateRow, {columns, histories, samplesPerPoint}: RowLook): string {
  const cells: Array<readonly [ColumnKey, string]> = []
  for (const column of columns) if (column !== 'name') cells.push([column, cellText(row, column, histories, SPARK_WIDTH, samplesPerPoint)])
  return toStandIns(lineOf(cells))
}

/**
 * One row: the name (user data, laid out by Ink, so wide characters are measured right) and
 * everything else as one text. Ink turns every character it writes into styled-character objects
 * and lays out every node on every frame, so a row is as few nodes as it can be; the glyphs go in
 * after measuring, through <Transform>. The row clips to its one line: while the terminal narrows,
 * Ink draws the old layout once at the new width before the table drops columns.
 */
function rateRowLine(row: RateRow, isSelected: boolean, look: RowLook): ReactElement {
  const tone = toneOf(row)
  const style = {inverse: isSelected, color: look.colour && !look.stale ? COLOURS[tone] : undefined, dimColor: look.stale || tone === 'quiet', bold: tone === 'stalled'}
  return (
    <Box key={rowKey(row)} height={1} overflowY="hidden">
      <Box width={SELECTION_MARK_WIDTH + look.nameWidth + 1} paddingRight={1}>
        {/* The marker shows the selection without colour or inverse video (NO_COLOR, screen readers, copied text). */}
        <Text wrap="truncate-end" {...style}>{`${isSelected ? '›' : ' '} ${cellText(row, 'name')}`}</Text>
      </Box>
      <Transform transform={fromStandIns}>
        <Text {...style}>{figuresLine(row, look)}</Text>
      </Transform>
    </Box>
  )
}

/** One line per topic/group under the column titles, scrolled to keep the selection visible. */
export function RateTable({rows, columns, nameWidth, selected, histories, samplesPerPoint, height, stale, colour}: RateTableProps) {
  if (rows.length === 0) return <Text dimColor>No streams found (yet): waiting for topics to appear.</Text>
  const {start, end} = scrollWindow(selected, rows.length, height)
  const look: RowLook = {columns, nameWidth, histories, samplesPerPoint, stale, colour}
  // A loop, not rows.map(callback): see lineOf in model/layout.ts.
  const lines: ReactElement[] = []
  for (let index = start; index < end; index++) {
    const row = rows[index]
    if (row !== undefined) lines.push(rateRowLine(row, index === selected, look))
  }
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">{`  ${headLine(columns, nameWidth)}`}</Text>
      {lines}
      {end - start < rows.length ? <Text dimColor>rows {start + 1}-{end} of {rows.length}</Text> : null}
    </Box>
  )
}
