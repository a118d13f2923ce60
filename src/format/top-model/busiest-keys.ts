import type {BusiestKey} from '../../core/stats/busiest-keys.js'
import {formatCount} from '../numbers.js'
import {shown, shownWidth} from '../terminal-text.js'
import {fittedLines} from './detail.js'
import {padCell} from './layout.js'

/**
 * The BUSIEST KEYS section of `top`'s detail view: the keys with the most messages waiting behind an
 * earlier one of theirs, with their partition (of a partitioned topic) and how many wait. Key names
 * are user data: shown through the sanitiser, and measured as shown. Pure: plain text lines.
 */

const TITLE = 'BUSIEST KEYS'
const PART_WIDTH = 4
const WAITING_WIDTH = 9
/** The KEY column's narrowest: the title. Its widest: what leaves PART and WAITING on screen. */
const KEY_MIN = TITLE.length

const pad = (text: string, width: number, right = false): string => padCell(text, width, right ? 'right' : 'left')

/** The KEY column: as wide as the longest key shown, cut (with …) only where `width` leaves no room. */
export function keyColumnWidth(keys: readonly BusiestKey[], partitioned: boolean, width: number): number {
  let longest = KEY_MIN
  for (const {key} of keys) longest = Math.max(longest, shownWidth(key))
  const room = width - 1 - WAITING_WIDTH - (partitioned ? PART_WIDTH + 1 : 0)
  return Math.max(KEY_MIN, Math.min(longest, room))
}

export function busiestKeysHead(keyWidth: number, partitioned: boolean): string {
  return `${pad(TITLE, keyWidth)} ${partitioned ? `${pad('PART', PART_WIDTH, true)} ` : ''}${pad('WAITING', WAITING_WIDTH, true)}`
}

export function busiestKeyLine({key, partition, waiting}: BusiestKey, keyWidth: number, partitioned: boolean): string {
  const part = partitioned ? `${pad(partition === null ? '-' : String(partition), PART_WIDTH, true)} ` : ''
  return `${pad(shown(key), keyWidth)} ${part}${pad(formatCount(waiting), WAITING_WIDTH, true)}`
}

/**
 * The head and the lines that fit `lines` (head not counted), most waiting first; when they do not
 * all fit, the last says how many more (`--json` lists them). None at all when no key waits: the
 * section is only shown for a group whose ordered workers report waiting keys.
 */
export function busiestKeysSection(keys: readonly BusiestKey[], lines: number, partitioned: boolean, width: number): string[] {
  if (keys.length === 0) return []
  const keyWidth = keyColumnWidth(keys, partitioned, width)
  const body = fittedLines(keys, lines, (key) => busiestKeyLine(key, keyWidth, partitioned), (more) => `… ${formatCount(more)} more keys (qctl top --json lists them)`)
  return [busiestKeysHead(keyWidth, partitioned), ...body]
}
