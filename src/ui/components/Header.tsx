import {Box, Text} from 'ink'

import {formatAge} from '../../format/numbers.js'
import {shown} from '../../format/terminal-text.js'
import type {SortKey} from '../../format/top-model/layout.js'

export interface HeaderProps {
  /** The Redis URL with its password already masked. */
  url: string
  server: string | null
  intervalMs: number
  uptimeMs: number
  paused: boolean
  sort: SortKey
  rowCount: number
  /** Set while Redis is unreachable: how old the data on screen is, and why. */
  stale: {ageMs: number; message: string} | null
  colour: boolean
}

const SORT_LABELS: Record<SortKey, string> = {lag: 'lag', in: 'in-rate', out: 'out-rate', name: 'name'}

/** Where `top` is looking, how often, and whether what it shows is live, paused or stale. */
export function Header(props: HeaderProps) {
  const {url, server, intervalMs, uptimeMs, paused, sort, rowCount, stale, colour} = props
  const state = stale !== null
    ? <Text color={colour ? 'red' : undefined} bold>⚠ reconnecting: {shown(stale.message)} (data from {formatAge(stale.ageMs)} ago, stale)</Text>
    : paused
      ? <Text color={colour ? 'yellow' : undefined} bold>‖ paused</Text>
      : <Text color={colour ? 'green' : undefined}>● live</Text>
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>qctl top</Text>  {url}  {server ?? 'server version unknown'}  every {intervalMs < 1000 ? `${intervalMs}ms` : `${intervalMs / 1000}s`}  up {formatAge(uptimeMs)}
      </Text>
      <Text wrap="truncate">
        {state}  sort: {SORT_LABELS[sort]}  rows: {rowCount}
      </Text>
    </Box>
  )
}
