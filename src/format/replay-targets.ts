import type {ReplayOptions, ReplayResult, ReplayTarget} from '../core/dlq/replay.js'
import {plural} from './numbers.js'
import {partitionList} from '../core/dlq/partition-list.js'
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

/** A target of a replay, with its partition when the topic is partitioned. */
type Target = ReplayTarget & {partition?: number | null | undefined}

/** What the target lines show. */
export type TargetsView = Pick<ReplayResult, 'dryRun' | 'withoutGroup'> & {targets: readonly Target[]}

/**
 * One line per target (group, entry count, key) and one for entries left for lack of a group:
 * what a dry run would do, or what a replay did. A partitioned topic's targets (a replay stream per
 * partition and group) are one line per group, naming the partitions (`--json` lists each target).
 */
export function formatReplayTargets(result: TargetsView): string[] {
  const verb = result.dryRun ? 'would go' : 'went'
  const partitioned = result.targets.some((target) => target.partition !== undefined && target.partition !== null)
  const lines = partitioned ? partitionedTargetLines(result.targets, verb) : result.targets.map((target) =>
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

/** Per group (null: the topic itself, with --to-topic), the entries over all its partitions, and which partitions. */
function partitionedTargetLines(targets: readonly Target[], verb: string): string[] {
  const byGroup = new Map<string | null, {entries: number; partitions: number[]; key: string}>()
  for (const target of targets) {
    const counted = byGroup.get(target.group) ?? {entries: 0, partitions: [], key: target.key}
    counted.entries += target.entries
    counted.partitions.push(target.partition ?? 0)
    byGroup.set(target.group, counted)
  }
  return [...byGroup].map(([group, {entries, partitions, key}]) => {
    const count = plural(entries, 'entry', 'entries')
    const streams = partitions.length === 1 ? `stream of partition ${partitions[0]} (${shown(key)})` : `streams of ${partitionList(partitions)}`
    return group === null
      ? `${count} ${verb} back onto the ${streams}, each to the partition it came from, for every group`
      : `${count} ${verb} to group ${shown(group)} only, through its replay ${streams}`
  })
}
