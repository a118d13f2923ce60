import type {ReplayOptions, ReplayResult} from '../core/dlq/replay.js'
import {plural} from './numbers.js'
import {shown} from './terminal-text.js'

/** Pure formatting of where `qctl dlq replay` sends entries (its targets), apart from the summary line. */

/** Where a replay sends its entries, for the question and the progress line. */
export const replayDestination = (options: Pick<ReplayOptions, 'topic' | 'toTopic' | 'group'>): string => {
  if (options.toTopic === true) return `topic ${shown(options.topic)} (every group)`
  if (options.group !== undefined) return `group ${shown(options.group)} of ${shown(options.topic)} only`
  return `the groups of ${shown(options.topic)} that failed them`
}

/** Where a replay sent (or would send) its entries: one group when all went to one, else the groups that failed them. */
export function resultDestination(result: Pick<ReplayResult, 'topic' | 'toTopic' | 'targets'>): string {
  const [only, ...others] = result.targets
  const group = others.length === 0 && only !== undefined && only.group !== null ? only.group : undefined
  return replayDestination({topic: result.topic, toTopic: result.toTopic, group})
}

/**
 * One line per target (group, entry count, key) and one for entries left for lack of a group:
 * what a dry run would do, or what a replay did.
 */
export function formatReplayTargets(result: ReplayResult): string[] {
  const verb = result.dryRun ? 'would go' : 'went'
  const lines = result.targets.map((target) =>
    target.group === null
      ? `${plural(target.entries, 'entry', 'entries')} ${verb} to topic ${shown(target.key)}, for every group`
      : `${plural(target.entries, 'entry', 'entries')} ${verb} to group ${shown(target.group)} only, through its replay stream ${shown(target.key)}`,
  )
  if (result.withoutGroup > 0) {
    const left = result.dryRun ? 'would stay' : 'stayed'
    lines.push(`${plural(result.withoutGroup, 'entry records', 'entries record')} no group (written by another program): ${left} in the dead-letter stream; replay them with --to-topic`)
  }
  return lines
}
