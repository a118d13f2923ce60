import {Box, Text} from 'ink'

import {cellText, toneOf, type Tone} from '../model/cells.js'
import type {Histories} from '../model/history.js'
import {rowKey} from '../model/history.js'
import {columnOf, headLine, lineOf, type ColumnKey} from '../model/layout.js'
import type {RateRow} from '../model/rates.js'
import {scrollWindow} from '../model/screen.js'

export interface RateTableProps {
  /** Rows in display order. */
  rows: readonly RateRow[]
  columns: readonly ColumnKey[]
  /** Width of the TOPIC/GROUP column (from tableLayout). */
  nameWidth: number
  selected: number
  histories: Histories
  /** Lines available for rows. */
  height: number
  stale: boolean
  colour: boolean
}

/** Characters before each row for the selection marker (`› `): lay the table out in the width minus this. */
export const SELECTION_MARK_WIDTH = 2

const COLOURS: Record<Tone, string | undefined> = {alert: 'red', good: 'green', quiet: undefined, normal: undefined}

/** Runs of adjacent columns: right-aligned figures share one padded Text, the others get a Box each. */
function segmentsOf(columns: readonly ColumnKey[]): ColumnKey[][] {
  const segments: ColumnKey[][] = []
  for (const key of columns) {
    const last = segments.at(-1)
    const lastKey = last?.at(-1)
    if (last !== undefined && lastKey !== undefined && columnOf(key).align === 'right' && columnOf(lastKey).align === 'right') last.push(key)
    else segments.push([key])
  }
  return segments
}

/**
 * One line per topic/group. Ink turns every character it writes into styled-character objects on
 * every frame, and every node costs layout and reconciliation, so a row is a handful of pieces:
 * the name and the trend (boxes, gaps left to the layout), the figures as one padded text, and
 * each sparkline. This keeps a 200-column screen of 50 rows at a few milliseconds per frame.
 */
export function RateTable({rows, columns, nameWidth, selected, histories, height, stale, colour}: RateTableProps) {
  if (rows.length === 0) return <Text dimColor>No streams found (yet): waiting for topics to appear.</Text>
  const {start, end} = scrollWindow(selected, rows.length, height)
  const segments = segmentsOf(columns)
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">{`  ${headLine(columns, nameWidth)}`}</Text>
      {rows.slice(start, end).map((row, offset) => {
        const tone = toneOf(row)
        const isSelected = start + offset === selected
        const style = {inverse: isSelected, color: colour && !stale ? COLOURS[tone] : undefined, dimColor: stale || tone === 'quiet'}
        return (
          <Box key={rowKey(row)} height={1}>
            {segments.map((segment, index) => {
              const [key] = segment
              if (key === undefined) return null
              // One space between columns, none after the last: the row is exactly as wide as the header.
              const gap = index < segments.length - 1 ? 1 : 0
              if (segment.length > 1 || columnOf(key).align === 'right') {
                return (
                  <Text key={key} wrap="truncate-end" {...style}>
                    {lineOf(segment.map((column) => [column, cellText(row, column)])) + ' '.repeat(gap)}
                  </Text>
                )
              }
              // The marker (in the name cell) shows the selection without colour or inverse video
              // (NO_COLOR, screen readers, copied text).
              const text = key === 'name' ? `${isSelected ? '›' : ' '} ${cellText(row, key)}` : cellText(row, key, histories).trimEnd()
              const width = key === 'name' ? SELECTION_MARK_WIDTH + nameWidth : columnOf(key).width
              return (
                <Box key={key} width={width + gap} paddingRight={gap}>
                  <Text wrap="truncate-end" {...style}>
                    {text}
                  </Text>
                </Box>
              )
            })}
          </Box>
        )
      })}
      {end - start < rows.length ? <Text dimColor>rows {start + 1}-{end} of {rows.length}</Text> : null}
    </Box>
  )
}
