import {Box, Text, useApp, useInput} from 'ink'
import {useMemo, useRef, useState} from 'react'

import type {Focus, Snapshot, SnapshotSource} from '../core/stats/snapshot.js'
import {GroupDetail} from './components/GroupDetail.js'
import {Header} from './components/Header.js'
import {KeyHelp} from './components/KeyHelp.js'
import {RateTable, SELECTION_MARK_WIDTH} from './components/RateTable.js'
import {useSnapshots} from './hooks/use-snapshots.js'
import {useTerminalSize} from './hooks/use-terminal-size.js'
import {samplesPerPoint} from '../format/top-model/history.js'
import {hasPartitioned, hasScheduled, longestLabel} from '../format/top-model/cells.js'
import {sortRows, SPARK_WIDTH, tableLayout} from '../format/top-model/layout.js'
import {actionFor, focusOf, initialScreen, reduceScreen, selectedIndex} from './model/screen.js'

export interface TopAppProps {
  source: SnapshotSource
  intervalMs: number
  /** The Redis URL, password masked. */
  url: string
  server: string | null
  /** Colour allowed (a TTY without NO_COLOR); meaning never depends on it. */
  colour: boolean
  initial?: Snapshot | undefined
  /** When `top` started (ms since the epoch). */
  startedAt?: number
  /** The share of one core refreshing may use (default CPU_BUDGET, 4%); 0 for none. */
  cpuBudget?: number
}

/** Lines taken by everything but the table rows: header (2), gap, table head, scroll note, gap, keys. */
const CHROME_LINES = 7

/** The live screen: wires the polling hook, the pure screen state and the presentational parts. */
export function TopApp({source, intervalMs, url, server, colour, initial, startedAt: started, cpuBudget}: TopAppProps) {
  const {exit} = useApp()
  const [startedAt] = useState(() => started ?? Date.now())
  const size = useTerminalSize()
  const [screen, setScreen] = useState(initialScreen)
  const focus = useRef<Focus | null>(null)
  const focusKey = screen.view === 'detail' ? (screen.selectedKey ?? '') : ''
  const {data, periodMs, capacity} = useSnapshots(source, {intervalMs, paused: screen.paused, focus, focusKey, initial, budget: cpuBudget})

  const rows = useMemo(() => sortRows(data.rows, screen.sort), [data.rows, screen.sort])
  // Over every row, not the visible ones: the columns must not move while scrolling.
  const longest = useMemo(() => longestLabel(data.rows), [data.rows])
  // The PARTS column only while a partitioned topic is on screen.
  const withParts = useMemo(() => hasPartitioned(data.rows), [data.rows])
  const withScheduled = useMemo(() => hasScheduled(data.rows), [data.rows])
  const layout = useMemo(() => tableLayout(size.columns - SELECTION_MARK_WIDTH, longest, withParts, withScheduled), [size.columns, longest, withParts, withScheduled])
  focus.current = focusOf(screen, rows)
  const selected = selectedIndex(screen, rows)
  // Keys act on the rows on screen. Ink re-subscribes the input handler in a passive effect, which
  // can run after a frame is already visible: a key pressed in between would see the rows of an
  // older render (seen in tests as a lost first Down). A ref always holds the rows just rendered.
  const shownRows = useRef(rows)
  shownRows.current = rows

  useInput((input, key) => {
    const action = actionFor({input, upArrow: key.upArrow, downArrow: key.downArrow, return: key.return, escape: key.escape, ctrl: key.ctrl})
    if (action === 'quit') exit()
    else if (action !== null) setScreen((current) => reduceScreen(current, action, shownRows.current))
  })

  const now = Date.now()
  const staleAge = data.stale === null ? null : {ageMs: now - (data.current?.at ?? startedAt), message: data.stale.message}
  const bodyHeight = Math.max(1, size.rows - CHROME_LINES)
  const row = rows[selected]
  return (
    // No explicit width: Ink lays out at the terminal's current width. On a resize Ink redraws the
    // previous tree at once, before our size state updates; a root fixed at the old, wider width
    // made those lines wrap, and the next erase left the wrapped remnants on screen.
    <Box flexDirection="column">
      <Header
        url={url}
        server={server}
        clusterNodes={data.current?.clusterNodes}
        intervalMs={intervalMs}
        periodMs={periodMs}
        uptimeMs={now - startedAt}
        paused={screen.paused}
        sort={screen.sort}
        rowCount={rows.length}
        stale={staleAge}
        colour={colour}
      />
      <Text> </Text>
      {screen.view === 'detail' && row !== undefined ? (
        <GroupDetail row={row} detail={matches(data.focus, focus.current) ? data.focus : null} height={bodyHeight} width={size.columns} now={now} />
      ) : (
        <RateTable
          rows={rows}
          {...layout}
          selected={selected}
          histories={data.histories}
          samplesPerPoint={samplesPerPoint(capacity, SPARK_WIDTH)}
          height={bodyHeight}
          stale={data.stale !== null}
          colour={colour}
        />
      )}
      {screen.notice === null ? <Text> </Text> : <Text color={colour ? 'yellow' : undefined} wrap="truncate">{screen.notice}</Text>}
      <KeyHelp view={screen.view} paused={screen.paused} />
    </Box>
  )
}

const matches = (detail: Focus | null, focus: Focus | null): boolean =>
  detail !== null && focus !== null && detail.topic === focus.topic && detail.group === focus.group
