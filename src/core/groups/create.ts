import {QctlError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import {GroupOps} from '../worker/group-ops.js'
import {setGroupPosition} from './entries.js'
import {describePosition} from './position.js'
import {countsAt, pastTheEnd, resolveTargets} from './targets.js'
import {groupOn, partitionList, readTopicGroups, type PartitionGroups, type TopicGroups} from './topic-groups.js'

/** `qctl group create TOPIC GROUP --from …`. */
export interface GroupCreateRequest {
  topic: string
  group: string
  /** As given to --from: start, latest/end, an ID, a time or a duration ago. */
  from: string
  ifNotExists: boolean
  dryRun: boolean
}

/** One partition (a plain topic's one stream) in `group create --json`. */
export interface CreatePartition {
  /** Null for a plain topic. */
  partition: number | null
  stream: string
  /** The group was there already (left as it is: --if-not-exists). */
  existed: boolean
  /** Made by this run (with --dry-run: would be). */
  created: boolean
  /** Its last-delivered ID: where it was made, or where it is. */
  position: string | null
  /** Its entries-read counter as set (null for a group that existed). */
  entriesRead: number | null
  /** Entries after the position, which the group will be delivered (null for a group that existed). */
  lag: number | null
}

/** The result of `qctl group create` (its `--json`). */
export interface GroupCreateResult {
  topic: string
  group: string
  partitioned: boolean
  /** --from as understood: start, end, the ID, or the time (ISO). */
  from: string
  partitions: CreatePartition[]
  /** The group was made on some partition. */
  created: boolean
  /** Replay streams on which the group was made (`{S}:replay:GROUP`, read by the group's workers), as `qctl work` makes them. */
  replayGroupsCreated: number
  dryRun: boolean
}

function alreadyExists(request: GroupCreateRequest, topic: TopicGroups, existing: TopicGroups['partitions']): QctlError {
  const where = topic.partitioned ? ` on ${existing.length === topic.partitions.length ? 'every partition' : `partitions ${partitionList(existing)} of ${topic.partitions.length}`}` : ''
  return new QctlError('ALREADY_EXISTS', `group "${request.group}" already exists on topic "${request.topic}"${where}`, {
    suggestion: `--if-not-exists makes it only where it is missing; to move it, qctl group seek ${request.topic} ${request.group} --to …`,
    details: {partitions: existing.map((partition) => partition.partition)},
  })
}

/**
 * Make a consumer group on every partition of a topic (a plain topic's one stream) at `--from`, with
 * the entries-read counter that keeps its lag exact, and on each partition's replay stream as
 * `qctl work` makes it there (from its start), so a worker started later finds both as its own.
 * A group that exists anywhere exits 9 (ALREADY_EXISTS) naming the partitions, unless `ifNotExists`:
 * then it is made only where missing.
 */
export async function createGroup(redis: RedisClient, request: GroupCreateRequest): Promise<GroupCreateResult> {
  const topic = await readTopicGroups(redis, request.topic)
  const existing = topic.partitions.filter((partition) => groupOn(partition, request.group) !== undefined)
  if (existing.length > 0 && !request.ifNotExists) throw alreadyExists(request, topic, existing)
  const targets = await resolveTargets(redis, topic, request.from, '--from')
  // Counted only where the group is to be made (`0-0` needs no count).
  const counts = await countsAt(redis, topic.partitions, targets.positions.map((position, index) => (groupOn(topic.partitions[index] as PartitionGroups, request.group) === undefined ? position : '0-0')))

  const partitions: CreatePartition[] = topic.partitions.map((partition, index) => {
    const group = groupOn(partition, request.group)
    if (group !== undefined) return {partition: partition.partition, stream: partition.stream, existed: true, created: false, position: group.lastDeliveredId, entriesRead: null, lag: null}
    const position = targets.positions[index] as string
    const count = counts[index]
    const lag = position === '$' ? 0 : position === '0-0' ? partition.length : (count?.after ?? 0)
    const shownPosition = position === '$' ? (partition.lastGeneratedId ?? '0-0') : position
    const entriesRead = (count?.counters.entriesAdded ?? partition.entriesAdded ?? 0) - lag
    return {partition: partition.partition, stream: partition.stream, existed: false, created: true, position: shownPosition, entriesRead, lag}
  })
  const result = {topic: request.topic, group: request.group, partitioned: topic.partitioned, from: describePosition(targets.spec, targets.timeMs), partitions, created: partitions.some((partition) => partition.created), replayGroupsCreated: 0, dryRun: request.dryRun}
  if (request.dryRun) return result

  await Promise.all(
    partitions.map(async (partition, index) => {
      if (!partition.created) return
      const outcome = await setGroupPosition(redis, partition.stream, request.group, topic.partitioned ? 'create-mkstream' : 'create', targets.positions[index] as string, counts[index])
      if (outcome.done) {
        partition.position = outcome.position
        partition.entriesRead = outcome.entriesRead
        return
      }
      if (outcome.reason === 'exists') {
        // Made by someone else since it was read (a worker starting).
        Object.assign(partition, {existed: true, created: false, position: null, entriesRead: null, lag: null})
        return
      }
      if (outcome.reason === 'past-end') throw pastTheEnd(partition.stream, targets.positions[index] as string, outcome.lastGeneratedId, '--from')
      throw new QctlError('NOT_FOUND', `topic "${request.topic}" was deleted while the group was being made (no stream "${partition.stream}")`)
    }),
  )
  const raced = partitions.filter((partition) => partition.existed && !existing.some((before) => before.stream === partition.stream))
  if (raced.length > 0 && !request.ifNotExists) throw alreadyExists(request, topic, topic.partitions.filter((partition) => raced.some((made) => made.stream === partition.stream)))
  // The replay stream's group, made as the worker makes it (GroupOps.ensureGroup: from its start), on every partition where the group is.
  const replays = await Promise.all(partitions.map(async (partition) => new GroupOps(redis, partition.stream, request.group, '', undefined, 'replay').ensureGroup('start')))
  return {...result, created: partitions.some((partition) => partition.created), replayGroupsCreated: replays.filter(Boolean).length}
}
