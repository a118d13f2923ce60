import type {ChalkInstance} from 'chalk'

import type {DlqShowResult} from '../core/dlq/list.js'
import {plural} from './numbers.js'

/** How many of the other matching entries `qctl dlq show` names. */
const OTHERS_SHOWN = 10

/**
 * The lines `qctl dlq show` prints above the entry when the ID given was an origin ID: which entry
 * it matched, and the other entries dead-lettered with the same origin ID. None for a DLQ ID.
 * (IDs are checked stream IDs: nothing here comes from Redis unchecked.)
 */
export function formatShowMatch(result: DlqShowResult, id: string, style: ChalkInstance): string[] {
  if (result.matchedBy === 'dlqId') return []
  const lines = [style.dim(`${id} is an origin ID: showing the dead-letter entry ${result.entry.dlqId}.`)]
  const others = result.otherMatches
  if (others.length > 0) {
    const named = others.slice(-OTHERS_SHOWN).join(', ')
    const more = others.length > OTHERS_SHOWN ? `the latest ${OTHERS_SHOWN}: ` : ''
    lines.push(style.dim(`It was dead-lettered ${plural(others.length + 1, 'time', 'times')}; this is the latest. Earlier entries (${more}${named}) show with their own ID.`))
  }
  lines.push('')
  return lines
}
