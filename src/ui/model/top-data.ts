import type {FocusDetail, Snapshot} from '../../core/stats/snapshot.js'
import {appendHistory, type Histories} from '../../format/top-model/history.js'
import {progressAfter, rateRows, type Progress, type RateRow} from '../../core/stats/rates.js'

/** What the screen knows: the last two snapshots, the rows and sparkline histories made from them. */
export interface TopData {
  previous: Snapshot | undefined
  current: Snapshot | undefined
  rows: RateRow[]
  histories: Histories
  /** Since when each group has acknowledged nothing while work waits (for the `stalled` trend). */
  progress: Progress
  focus: FocusDetail | null
  /** Set while refreshes fail (Redis unreachable): the data on screen is from `current.at`. */
  stale: {since: number; message: string} | null
}

export const emptyData: TopData = {previous: undefined, current: undefined, rows: [], histories: new Map(), progress: new Map(), focus: null, stale: null}

/** The data after a successful refresh; `capacity` bounds each sparkline history. */
export function withSnapshot(data: TopData, snapshot: Snapshot, capacity: number): TopData {
  const rows = rateRows(data.current, snapshot, data.progress)
  return {
    previous: data.current,
    current: snapshot,
    rows,
    histories: appendHistory(data.histories, rows, capacity),
    progress: progressAfter(data.progress, rows, snapshot.at),
    focus: snapshot.focus,
    stale: null,
  }
}

/** The data after a failed refresh: everything stays on screen, marked stale since the first failure. */
export function withFailure(data: TopData, message: string, at: number): TopData {
  return {...data, stale: {since: data.stale?.since ?? at, message}}
}
