import type {ScheduleRunRow} from '../core/schedule/run.js'
import {plural} from './numbers.js'
import {shown} from './terminal-text.js'

/** `qctl schedule run`: a line per topic. */
export function formatScheduleRun(rows: readonly ScheduleRunRow[]): string[] {
  return rows.map((row) => {
    const left = row.scheduled === 0 ? 'none left scheduled' : `${plural(row.scheduled, 'message')} still scheduled${row.nextDueAt === null ? '' : `, the next due ${row.nextDueAt}`}`
    const foreign = row.foreign === 0 ? '' : `; ${plural(row.foreign, 'due member')} another program wrote left in place`
    return `${shown(row.topic)}: appended ${plural(row.moved, 'due message')}; ${left}${foreign}`
  })
}
