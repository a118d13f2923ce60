import type {ChalkInstance} from 'chalk'

import {DRY_RUN_TABLE_ROWS, type DlqPlan} from '../core/dlq/plan.js'
import {formatDryRun} from '../format/dlq-summary.js'
import {tableTarget} from '../output/table-target.js'

/**
 * The `--dry-run` of `qctl dlq replay` and `qctl dlq purge`, shared. `--json` lists the selected
 * IDs and builds nothing for people; a human listing keeps at most DRY_RUN_TABLE_ROWS entries in
 * memory and shows a summary beyond that.
 */

/** How many selected entries the plan keeps in full for the listing (`keepEntries`). */
export const dryRunRows = (dryRun: boolean, json: boolean): number => (dryRun && !json ? DRY_RUN_TABLE_ROWS : 0)

/** The listing for people, above the one-line result; nothing with --json. */
export function dryRunLines(plan: Pick<DlqPlan, 'ids' | 'entries' | 'summary'>, json: boolean, style: ChalkInstance): string[] {
  if (json) return []
  return formatDryRun(plan, {width: tableTarget(process.stdout).width, now: Date.now(), style})
}
