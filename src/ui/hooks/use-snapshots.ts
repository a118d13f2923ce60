import {useLayoutEffect, useRef, useState, type RefObject} from 'react'

import type {Focus, Snapshot, SnapshotSource} from '../../core/stats/snapshot.js'
import {historyCapacity} from '../../format/top-model/history.js'
import {emptyData, withFailure, withSnapshot, type TopData} from '../model/top-data.js'
import {CPU_BUDGET, nextDelayMs, refreshCostMs, withCost} from '../model/refresh-budget.js'

export interface PollingOptions {
  /** The asked interval (--interval): the shortest time between the starts of two refreshes. */
  intervalMs: number
  paused: boolean
  /** Read at each refresh, so a change of focus never restarts the timer by itself. */
  focus: RefObject<Focus | null>
  /** Changes when the focused group changes: then refresh at once, so the detail appears without waiting. */
  focusKey: string
  /** A snapshot already taken (by the command, to fail fast before the screen opens). */
  initial?: Snapshot | undefined
  /** The share of one core refreshing may use (default CPU_BUDGET); 0 for none: refresh at `intervalMs` whatever the cost. */
  budget?: number
}

export interface Polling {
  data: TopData
  /** The time between refreshes in force: `intervalMs`, or longer when the CPU budget stretched it. */
  periodMs: number
  /** Samples kept per sparkline: one a refresh over the last minute, at the period in force. */
  capacity: number
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** CPU time (user and system, every thread of the process) used from `from` to `to` (default: now), in ms. */
const cpuMsBetween = (from: NodeJS.CpuUsage, to: NodeJS.CpuUsage = process.cpuUsage()): number => (to.user - from.user + to.system - from.system) / 1000

/**
 * Polls the source while not paused, one refresh at a time, and folds each result into TopData.
 * The next refresh starts `periodMs` after the start of the last one: `intervalMs`, stretched so
 * that refreshing (the reading, the model and the render it causes, and what follows until the next
 * refresh, in CPU time of this process: refreshCostMs) uses at most `budget` of a core. Keys act on the last data meanwhile. The timer and any refresh
 * in flight are abandoned in the effect's cleanup.
 */
export function useSnapshots(source: SnapshotSource, options: PollingOptions): Polling {
  const {intervalMs, paused, focus, focusKey, initial, budget = CPU_BUDGET} = options
  const [data, setData] = useState<TopData>(() => (initial === undefined ? emptyData : withSnapshot(emptyData, initial, historyCapacity(intervalMs))))
  const [periodMs, setPeriodMs] = useState(intervalMs)
  // The refresh loop reads these between renders; the states above are what the screen shows.
  const latest = useRef(data)
  const period = useRef(intervalMs)
  const costs = useRef<number[]>([])
  const cycleCosts = useRef<number[]>([])
  const lastStart = useRef(initial?.at ?? 0)
  const lastFocusKey = useRef(focusKey)

  // A layout effect, not a passive one: it is set up and cleaned up in the same tick as the render
  // that shows "paused" (or unmounts), so no timer can fire in between and refresh once more.
  useLayoutEffect(() => {
    if (paused) return undefined
    let cancelled = false
    let timer: NodeJS.Timeout | undefined
    // A cycle runs from one refresh's start to the next one's; none spans a pause.
    let cycleStart: NodeJS.CpuUsage | undefined
    const wait = (): number => Math.max(0, lastStart.current + period.current - Date.now())
    const tick = async (): Promise<void> => {
      lastStart.current = Date.now()
      const cpuBefore = process.cpuUsage()
      if (cycleStart !== undefined) cycleCosts.current = withCost(cycleCosts.current, cpuMsBetween(cycleStart, cpuBefore))
      cycleStart = cpuBefore
      let next: TopData
      try {
        const snapshot = await source.refresh(focus.current)
        next = withSnapshot(latest.current, snapshot, historyCapacity(period.current))
      } catch (error) {
        next = withFailure(latest.current, messageOf(error), Date.now())
      }
      if (cancelled) return
      latest.current = next
      // Ink's root is a legacy one: the render this causes runs inside setData, so it is counted too.
      setData(next)
      costs.current = withCost(costs.current, cpuMsBetween(cpuBefore))
      period.current = nextDelayMs(refreshCostMs(costs.current, cycleCosts.current), intervalMs, budget)
      setPeriodMs(period.current)
      if (!cancelled) timer = setTimeout(() => void tick(), wait())
    }
    const focusChanged = lastFocusKey.current !== focusKey
    lastFocusKey.current = focusKey
    timer = setTimeout(() => void tick(), focusChanged ? 0 : wait())
    return () => {
      cancelled = true
      clearTimeout(timer)
    }
  }, [source, intervalMs, paused, focus, focusKey, budget])

  return {data, periodMs, capacity: historyCapacity(periodMs)}
}
