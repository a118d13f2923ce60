import type {Focus} from '../../core/stats/snapshot.js'
import {rowKey} from '../../core/stats/rates.js'
import {rowLabel} from '../../format/top-model/cells.js'
import {nextSort, type SortKey} from '../../format/top-model/layout.js'
import type {RateRow} from '../../core/stats/rates.js'

/** Everything the keys change; pure, so the whole interaction is testable without a terminal. */
export interface ScreenState {
  view: 'table' | 'detail'
  /** The selected row by identity, so it stays selected when sorting or refreshes reorder rows. */
  selectedKey: string | null
  sort: SortKey
  paused: boolean
  /** A one-line answer to the last key (Enter on a topic without groups), cleared by the next key. */
  notice: string | null
}

export type ScreenAction = 'up' | 'down' | 'open' | 'back' | 'pause' | 'sort' | 'quit'

export const initialScreen: ScreenState = {view: 'table', selectedKey: null, sort: 'lag', paused: false, notice: null}

/** The keys `top` understands, in terms of what Ink's useInput reports. */
export interface KeyPress {
  input: string
  upArrow?: boolean
  downArrow?: boolean
  return?: boolean
  escape?: boolean
  ctrl?: boolean
}

export function actionFor(key: KeyPress): ScreenAction | null {
  if (key.upArrow === true || key.input === 'k') return 'up'
  if (key.downArrow === true || key.input === 'j') return 'down'
  if (key.return === true) return 'open'
  if (key.escape === true) return 'back'
  if (key.ctrl === true && key.input === 'c') return 'quit'
  if (key.ctrl === true) return null
  switch (key.input) {
    case 'q':
      return 'quit'
    case 'p':
      return 'pause'
    case 's':
      return 'sort'
    default:
      return null
  }
}

/** Index of the selected row in `rows` (sorted as shown); the first row when the selection is gone. */
export function selectedIndex(state: ScreenState, rows: readonly RateRow[]): number {
  if (rows.length === 0) return -1
  const index = state.selectedKey === null ? -1 : rows.findIndex((row) => rowKey(row) === state.selectedKey)
  return index === -1 ? 0 : index
}

/** The state after a key; `rows` are the rows as shown (sorted). */
export function reduceScreen(current: ScreenState, action: ScreenAction, rows: readonly RateRow[]): ScreenState {
  const state = current.notice === null ? current : {...current, notice: null}
  const index = selectedIndex(state, rows)
  const select = (next: number): ScreenState => {
    const row = rows[Math.max(0, Math.min(rows.length - 1, next))]
    return row === undefined ? state : {...state, selectedKey: rowKey(row)}
  }
  switch (action) {
    case 'up':
      return state.view === 'table' ? select(index - 1) : state
    case 'down':
      return state.view === 'table' ? select(index + 1) : state
    case 'open': {
      const row = rows[index]
      // Only a consumer group has a detail; a topic without groups has nothing to open, and says so.
      if (row === undefined) return state
      if (row.group === null) return {...state, notice: `${rowLabel(row)} has no consumer group: nothing to open (a worker creates one; or XGROUP CREATE)`}
      return {...state, view: 'detail', selectedKey: rowKey(row)}
    }
    case 'back':
      return {...state, view: 'table'}
    case 'pause':
      return {...state, paused: !state.paused}
    case 'sort':
      return {...state, sort: nextSort(state.sort)}
    case 'quit':
      return state
  }
}

/** The group to read in detail on the next refresh, when the detail view is open. */
export function focusOf(state: ScreenState, rows: readonly RateRow[]): Focus | null {
  if (state.view !== 'detail') return null
  const row = rows[selectedIndex(state, rows)]
  return row === undefined || row.group === null ? null : {topic: row.topic, group: row.group}
}

/** The rows that fit `height` lines, scrolled so the selected one stays visible (kept near the middle). */
export function scrollWindow(selected: number, total: number, height: number): {start: number; end: number} {
  const size = Math.max(1, height)
  if (total <= size) return {start: 0, end: total}
  const start = Math.min(Math.max(0, selected - Math.floor(size / 2)), total - size)
  return {start, end: start + size}
}
