import {Box, Text} from 'ink'

import {cellText, toneOf, type Tone} from '../model/cells.js'
import type {Histories} from '../model/history.js'
import {rowKey} from '../model/history.js'
import {headLine, lineOf, type ColumnKey} from '../model/layout.js'
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

/** One line per topic/group: each row is a single Text, which keeps a refresh cheap to render. */
export function RateTable({rows, columns, nameWidth, selected, histories, height, stale, colour}: RateTableProps) {
  if (rows.length === 0) return <Text dimColor>No streams found (yet): waiting for topics to appear.</Text>
  const {start, end} = scrollWindow(selected, rows.length, height)
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">{`  ${headLine(columns, nameWidth)}`}</Text>
      {rows.slice(start, end).map((row, offset) => {
        const tone = toneOf(row)
        const isSelected = start + offset === selected
        // The marker shows the selection without colour or inverse video (NO_COLOR, screen readers, copies).
        const line = `${isSelected ? '›' : ' '} ${lineOf(columns.map((key) => [key, cellText(row, key, histories)]), nameWidth)}`
        return (
          <Text
            key={rowKey(row)}
            wrap="truncate"
            inverse={isSelected}
            color={colour && !stale ? COLOURS[tone] : undefined}
            dimColor={stale || tone === 'quiet'}
          >
            {line}
          </Text>
        )
      })}
      {end - start < rows.length ? <Text dimColor>rows {start + 1}-{end} of {rows.length}</Text> : null}
    </Box>
  )
}
