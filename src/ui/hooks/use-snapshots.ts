import {useLayoutEffect, useRef, useState, type RefObject} from 'react'

import type {Focus, Snapshot, SnapshotSource} from '../../core/stats/snapshot.js'
import {emptyData, withFailure, withSnapshot, type TopData} from '../model/top-data.js'

export interface PollingOptions {
  intervalMs: number
  paused: boolean
  /** Samples kept per sparkline. */
  capacity: number
  /** Read at each refresh, so a change of focus never restarts the timer by itself. */
  focus: RefObject<Focus | null>
  /** Changes when the focused group changes: then refresh at once, so the detail appears without waiting. */
  focusKey: string
  /** A snapshot already taken (by the command, to fail fast before the screen opens). */
  initial?: Snapshot | undefined
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * Polls the source every `intervalMs` (measured from the start of each refresh, never two at
 * once) while not paused, and folds each result into TopData. The timer and any refresh in
 * flight are abandoned in the effect's cleanup.
 */
export function useSnapshots(source: SnapshotSource, options: PollingOptions): TopData {
  const {intervalMs, paused, capacity, focus, focusKey, initial} = options
  const [data, setData] = useState<TopData>(() => (initial === undefined ? emptyData : withSnapshot(emptyData, initial, capacity)))
  const lastStart = useRef(initial?.at ?? 0)
  const lastFocusKey = useRef(focusKey)

  // A layout effect, not a passive one: it is set up and cleaned up in the same tick as the render
  // that shows "paused" (or unmounts), so no timer can fire in between and refresh once more.
  useLayoutEffect(() => {
    if (paused) return undefined
    let cancelled = false
    let timer: NodeJS.Timeout | undefined
    const tick = async (): Promise<void> => {
      lastStart.current = Date.now()
      try {
        const snapshot = await source.refresh(focus.current)
        if (!cancelled) setData((current) => withSnapshot(current, snapshot, capacity))
      } catch (error) {
        if (!cancelled) setData((current) => withFailure(current, messageOf(error), Date.now()))
      }
      if (!cancelled) timer = setTimeout(() => void tick(), Math.max(0, lastStart.current + intervalMs - Date.now()))
    }
    const focusChanged = lastFocusKey.current !== focusKey
    lastFocusKey.current = focusKey
    timer = setTimeout(() => void tick(), focusChanged ? 0 : Math.max(0, lastStart.current + intervalMs - Date.now()))
    return () => {
      cancelled = true
      clearTimeout(timer)
    }
  }, [source, intervalMs, paused, capacity, focus, focusKey])

  return data
}
