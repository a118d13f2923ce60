import {appendFileSync, mkdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * Scale and results of the chaos suite. The short form runs inside `npm test` (CI); `npm run chaos`
 * sets CHAOS_LONG=1 for larger counts and more rounds, and prints the rows every scenario records.
 */
export const LONG = process.env['CHAOS_LONG'] === '1'

/** `short` in the CI form, `long` in `npm run chaos`. */
export const scaled = (short: number, long: number): number => (LONG ? long : short)

/** Per-test time limit: generous, because CI runs these beside other test files on two cores. */
export const CHAOS_TIMEOUT = scaled(180_000, 1_800_000)

export const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'rows.jsonl')

export interface ChaosRow {
  scenario: string
  messages: number
  /** What was done to the system, e.g. "12 worker SIGKILLs". */
  faults: string
  lost: number
  duplicated: number
  deadLettered: number
  timeMs: number
}

/** Append one row for the report (`npm run chaos` prints them as a table). */
export function recordRow(row: ChaosRow): void {
  mkdirSync(dirname(RESULTS_FILE), {recursive: true})
  appendFileSync(RESULTS_FILE, `${JSON.stringify({...row, long: LONG})}\n`)
}
