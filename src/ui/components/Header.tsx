import {Box, Text} from 'ink'

import {formatAge} from '../../format/numbers.js'
import {shown} from '../../format/terminal-text.js'
import type {SortKey} from '../../format/top-model/layout.js'

export interface HeaderProps {
  /** The Redis URL with its password already masked. */
  url: string
  server: string | null
  /** On a Redis Cluster: its primaries, as the last snapshot found them. */
  clusterNodes?: readonly string[] | undefined
  /** The asked interval (--interval). */
  intervalMs: number
  /** The interval in force: longer than `intervalMs` when the CPU budget stretched it (default: `intervalMs`). */
  periodMs?: number
  uptimeMs: number
  paused: boolean
  sort: SortKey
  rowCount: number
  /** Set while Redis is unreachable: how old the data on screen is, and why. */
  stale: {ageMs: number; message: string} | null
  colour: boolean
}

/** 300ms, 1s, 2.5s, 14s, 1m05s: short, and steady enough not to flicker with every refresh's cost. */
export function formatInterval(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 10_000) return `${Number((ms / 1000).toFixed(1))}s`
  return formatAge(ms)
}

/**
 * `every 1s`, or, when the CPU budget stretched it, `every 14s (CPU budget; --interval 1s)`. A stretch
 * too small to show in the figure (1.02s) is not called one.
 */
export function refreshLabel(intervalMs: number, periodMs: number): string {
  const asked = formatInterval(intervalMs)
  const inForce = formatInterval(Math.max(intervalMs, periodMs))
  return inForce === asked ? `every ${asked}` : `every ${inForce} (CPU budget; --interval ${asked})`
}

const SORT_LABELS: Record<SortKey, string> = {lag: 'lag', in: 'in-rate', out: 'out-rate', name: 'name'}

/** Where `top` is looking, how often, and whether what it shows is live, paused or stale. */
export function Header(props: HeaderProps) {
  const {url, server, clusterNodes, intervalMs, periodMs = intervalMs, uptimeMs, paused, sort, rowCount, stale, colour} = props
  const state = stale !== null
    ? <Text color={colour ? 'red' : undefined} bold>⚠ reconnecting: {shown(stale.message)} (data from {formatAge(stale.ageMs)} ago, stale)</Text>
    : paused
      ? <Text color={colour ? 'yellow' : undefined} bold>‖ paused</Text>
      : <Text color={colour ? 'green' : undefined}>● live</Text>
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        <Text bold>qctl top</Text>  {url}  {server ?? 'server version unknown'}{clusterNodes === undefined ? '' : `  cluster: ${clusterNodes.length} primar${clusterNodes.length === 1 ? 'y' : 'ies'}`}  {refreshLabel(intervalMs, periodMs)}  up {formatAge(uptimeMs)}
      </Text>
      <Text wrap="truncate">
        {state}  sort: {SORT_LABELS[sort]}  rows: {rowCount}
      </Text>
    </Box>
  )
}
