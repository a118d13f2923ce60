import {compareIdText} from '../dlq/stream-id.js'
import {notFoundError, QctlError, usageError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import type {RawGroup} from '../stats/topic-reading.js'
import {dropPending, entriesAfter, setGroupPosition, type EntriesAfter} from './entries.js'
import {describePosition} from './position.js'
import {countsAt, pastTheEnd, resolveTargets} from './targets.js'
import {consumersOf, groupOn, liveConsumersOf, partitionList, readTopicGroups, type LiveConsumer, type PartitionGroups} from './topic-groups.js'

/** `qctl group seek TOPIC GROUP --to … | --to-group OTHER`. */
export interface SeekRequest {
  topic: string
  group: string
  /** As given to --to (start, end, an ID, a time, a duration ago); or undefined with toGroup. */
  to?: string | undefined
  /** Copy this group's position, partition by partition. */
  toGroup?: string | undefined
  /** Acknowledge the group's pending entries and forget their retry state. */
  dropPending: boolean
}

/** One partition (a plain topic's one stream) in `group seek --json`. */
export interface SeekPartition {
  partition: number | null
  stream: string
  /** False where the group does not exist: that partition is left alone (a warning says so). */
  groupExists: boolean
  /** The group's last-delivered ID before. */
  from: string | null
  /** After (with --dry-run: the position it would get; `end` is the last ID when read). */
  to: string | null
  /** Entries after the old position and after the new one, at the same instant. */
  lagBefore: number | null
  lagAfter: number | null
  /** Entries between the two positions: delivered again (moved back), or never delivered (moved forward). */
  redelivered: number
  skipped: number
  /** The group's pending entries here (delivered, not acknowledged). */
  pending: number
  /** Of them, acknowledged by --drop-pending (with their retry state). */
  pendingDropped: number
  /** The entries-read counter set with the position (so XINFO GROUPS lag stays exact); null where unchanged. */
  entriesRead: number | null
}

/** The result of `qctl group seek` (its `--json`). */
export interface SeekResult {
  topic: string
  group: string
  partitioned: boolean
  /** --to as understood (start, end, the ID, the time as ISO), or null with --to-group. */
  to: string | null
  toGroup: string | null
  partitions: SeekPartition[]
  redelivered: number
  skipped: number
  pending: number
  pendingDropped: number
  dropPending: boolean
  liveConsumers: LiveConsumer[]
  /** Nothing was changed because of --dry-run, or "no" at the prompt. */
  dryRun: boolean
  cancelled: boolean
  /** Positions were set (false with --dry-run and after "no"). A seek to where the group is sets its entries-read counter again, which makes an unknown lag exact. */
  changed: boolean
  warnings: string[]
}

/** A plan: the result before applying, and per partition what the apply needs. */
export interface SeekPlan {
  result: SeekResult
  steps: Array<{index: number; position: string; count: EntriesAfter | undefined}>
}

/** The group's logical counter of entries read (entries-added minus those after its position), from Redis's lag where Redis knows it exactly. */
async function entriesReadOf(redis: RedisClient, partition: PartitionGroups, group: RawGroup): Promise<number> {
  const added = partition.entriesAdded ?? 0
  if (group.lag !== null && group.lag >= 0 && group.lag <= partition.length) return added - group.lag
  const counted = await entriesAfter(redis, partition.stream, group.lastDeliveredId)
  return counted.counters.entriesAdded - counted.after
}

/** The group's new logical counter at `position`, as group-position-1.lua will set it. */
function entriesReadAt(partition: PartitionGroups, position: string, count: EntriesAfter | undefined): number {
  const added = partition.entriesAdded ?? 0
  if (position === '$') return added
  if (count === undefined) return added - partition.length
  return count.counters.entriesAdded - count.after
}

/**
 * Plan a seek: where the group goes on each partition, how many entries that delivers again or
 * skips, its pending entries and live consumers. Exits 6 when the topic or the group does not exist
 * (or the --to-group group is missing on any partition), 2 for a position that cannot be (an ID on a
 * partitioned topic, past the end, a time in the future). Changes nothing.
 */
export async function planSeek(redis: RedisClient, request: SeekRequest): Promise<SeekPlan> {
  if ((request.to === undefined) === (request.toGroup === undefined)) throw usageError('give exactly one of --to and --to-group')
  if (request.toGroup === request.group) throw usageError(`--to-group "${request.toGroup}" is the group being moved`)
  const topic = await readTopicGroups(redis, request.topic)
  const having = topic.partitions.filter((partition) => groupOn(partition, request.group) !== undefined)
  if (having.length === 0) throw notFoundError(`group "${request.group}" does not exist on topic "${request.topic}"`, {suggestion: `make it: qctl group create ${request.topic} ${request.group} --from …`})

  let positions: string[]
  let to: string | null = null
  if (request.toGroup !== undefined) {
    const other = request.toGroup
    const without = topic.partitions.filter((partition) => groupOn(partition, other) === undefined)
    if (without.length > 0) {
      const where = topic.partitioned ? ` on partitions ${partitionList(without)} of ${topic.partitions.length}` : ''
      throw notFoundError(`group "${other}" does not exist on topic "${request.topic}"${where}: there is no position to copy`, {details: {partitions: without.map((partition) => partition.partition)}})
    }
    positions = topic.partitions.map((partition) => (groupOn(partition, other) as RawGroup).lastDeliveredId)
    topic.partitions.forEach((partition, index) => {
      if (compareIdText(positions[index] as string, partition.lastGeneratedId ?? '0-0') > 0) {
        throw pastTheEnd(partition.stream, positions[index] as string, partition.lastGeneratedId, '--to-group')
      }
    })
  } else {
    const targets = await resolveTargets(redis, topic, request.to as string, '--to')
    positions = targets.positions
    to = describePosition(targets.spec, targets.timeMs)
  }

  const counts = await countsAt(redis, topic.partitions, positions.map((position, index) => (groupOn(topic.partitions[index] as PartitionGroups, request.group) === undefined ? '0-0' : position)))
  const consumers = await consumersOf(redis, having.map((partition) => partition.stream), request.group)
  const liveConsumers = liveConsumersOf(having, consumers)
  const partitions: SeekPartition[] = []
  const steps: SeekPlan['steps'] = []
  for (const [index, partition] of topic.partitions.entries()) {
    const group = groupOn(partition, request.group)
    if (group === undefined) {
      partitions.push({partition: partition.partition, stream: partition.stream, groupExists: false, from: null, to: null, lagBefore: null, lagAfter: null, redelivered: 0, skipped: 0, pending: 0, pendingDropped: 0, entriesRead: null})
      continue
    }
    const position = positions[index] as string
    const count = counts[index]
    const before = await entriesReadOf(redis, partition, group)
    const after = entriesReadAt(partition, position, count)
    // Both counters are of entries ever added, so they compare whatever was added meanwhile; the lags are as of the newest reading.
    const added = Math.max(partition.entriesAdded ?? 0, count?.counters.entriesAdded ?? 0)
    partitions.push({
      partition: partition.partition,
      stream: partition.stream,
      groupExists: true,
      from: group.lastDeliveredId,
      to: position === '$' ? (partition.lastGeneratedId ?? '0-0') : position,
      lagBefore: added - before,
      lagAfter: added - after,
      redelivered: Math.max(0, before - after),
      skipped: Math.max(0, after - before),
      pending: group.pending,
      pendingDropped: 0,
      entriesRead: after,
    })
    steps.push({index, position, count})
  }
  const missing = partitions.filter((partition) => !partition.groupExists)
  const warnings =
    missing.length === 0
      ? []
      : [`group "${request.group}" does not exist on partitions ${partitionList(missing)} of "${request.topic}": they are left as they are (qctl group create ${request.topic} ${request.group} --if-not-exists --from … makes it there)`]
  const sum = (pick: (partition: SeekPartition) => number): number => partitions.reduce((total, partition) => total + pick(partition), 0)
  const result: SeekResult = {
    topic: request.topic,
    group: request.group,
    partitioned: topic.partitioned,
    to,
    toGroup: request.toGroup ?? null,
    partitions,
    redelivered: sum((partition) => partition.redelivered),
    skipped: sum((partition) => partition.skipped),
    pending: sum((partition) => partition.pending),
    pendingDropped: 0,
    dropPending: request.dropPending,
    liveConsumers,
    dryRun: false,
    cancelled: false,
    changed: false,
    warnings,
  }
  return {result, steps}
}

/** Whether the seek loses something: entries never delivered are skipped, or pending entries dropped. A prompt (or --yes) guards it. */
export const seekIsDestructive = (result: SeekResult): boolean => result.skipped > 0 || (result.dropPending && result.pending > 0)

/** Refuse (exit 9) to move a group that live consumers read, unless forced: they would go on from where they were. */
export function refuseLiveConsumers(result: {topic: string; group: string; liveConsumers: readonly LiveConsumer[]}, action: string): void {
  if (result.liveConsumers.length === 0) return
  const names = [...new Set(result.liveConsumers.map((consumer) => consumer.name))]
  throw new QctlError('CONFLICT', `refusing to ${action} group "${result.group}" of "${result.topic}": ${names.length === 1 ? 'a consumer was' : `${names.length} consumers were`} seen within the last minute (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})`, {
    suggestion: 'stop its workers first (a consumer counts as live for a minute after its last read), or pass --force',
    details: {liveConsumers: result.liveConsumers},
  })
}

/**
 * Apply a plan: on each partition, the position with its entries-read counter (group-position-1.lua,
 * counting again if entries were deleted since the plan), then with --drop-pending the pending
 * entries acknowledged with their retry state (drop-pending-4.lua). Pending entries are otherwise
 * kept: they stay pending, to be acknowledged or retried.
 */
export async function applySeek(redis: RedisClient, plan: SeekPlan, group: string): Promise<SeekResult> {
  const result = {...plan.result, partitions: plan.result.partitions.map((partition) => ({...partition})), warnings: [...plan.result.warnings]}
  for (const step of plan.steps) {
    const partition = result.partitions[step.index] as SeekPartition
    const outcome = await setGroupPosition(redis, partition.stream, group, 'setid', step.position, step.count)
    if (!outcome.done) {
      if (outcome.reason === 'past-end') throw pastTheEnd(partition.stream, step.position, outcome.lastGeneratedId, result.toGroup === null ? '--to' : '--to-group')
      result.warnings.push(`group "${group}" ${outcome.reason === 'no-stream' ? `lost its stream "${partition.stream}"` : `was deleted from "${partition.stream}"`} while it was being moved: nothing was set there`)
      continue
    }
    partition.to = outcome.position
    partition.entriesRead = outcome.entriesRead
    if (result.dropPending) partition.pendingDropped = await dropPending(redis, partition.stream, group)
  }
  result.pendingDropped = result.partitions.reduce((total, partition) => total + partition.pendingDropped, 0)
  return {...result, changed: true}
}
