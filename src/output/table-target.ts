import type {TableLayout} from '../format/table.js'

/** Where a table is printed: the width to fit and the layout asked for. */
export interface TableTarget {
  /** Columns to fit: the terminal's, or COLUMNS when output is piped; undefined: nothing is cut. */
  width: number | undefined
  /** Boxed (a rule between rows) only on a terminal of NARROW_BELOW columns or more; piped or narrow: compact, one line per row. */
  layout: TableLayout
}

/** Below this many columns a terminal is narrow: every table of one output is compact, not a mix of boxed and compact. */
export const NARROW_BELOW = 100

const columnsFromEnv = (env: NodeJS.ProcessEnv): number | undefined => {
  const value = Number(env.COLUMNS)
  return Number.isInteger(value) && value > 0 ? value : undefined
}

export function tableTarget(stream: {isTTY?: boolean; columns?: number}, env: NodeJS.ProcessEnv = process.env): TableTarget {
  const tty = stream.isTTY === true
  const ttyWidth = tty && (stream.columns ?? 0) > 0 ? stream.columns : undefined
  return {width: ttyWidth ?? columnsFromEnv(env), layout: ttyWidth !== undefined && ttyWidth >= NARROW_BELOW ? 'boxed' : 'compact'}
}
