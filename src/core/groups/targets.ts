import {compareIdText} from '../dlq/stream-id.js'
import {usageError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {timeReplyMs} from '../redis/redis-time.js'
import {entriesAfter, type EntriesAfter} from './entries.js'
import {parsePosition, timeOf, type PositionSpec} from './position.js'
import type {PartitionGroups, TopicGroups} from './topic-groups.js'

/**
 * Where a position flag (`--from`, `--to`) puts the group on each partition: `0-0` (before every
 * entry), `$` (after the last, read when applied), or an entry ID: the one given (a plain topic), or
 * for a time, per partition, the last entry added before it (`0-0` when there is none), so that every
 * entry added at or after the time is delivered, and nothing before it.
 */
export interface Targets {
  spec: PositionSpec
  /** The time a `time` or `ago` spec came to (ms since the epoch, Redis's clock), else undefined. */
  timeMs: number | undefined
  /** Per partition, in order. */
  positions: string[]
}

/** A partitioned topic's partitions each number their entries: an ID is only a position in one of them. */
const idOnPartitions = (flag: string, text: string): Error =>
  usageError(`${flag} ${text}: an entry ID is a position in one stream, and each partition of a partitioned topic has IDs of its own`, {
    suggestion: `give a time instead (${flag} 2026-11-28T10:00:00Z, or ${flag} 15m-ago), or start or end`,
  })

/** A position past the stream's last ID: every entry added until the clock got there would be skipped, unseen. */
export function pastTheEnd(stream: string, position: string, lastGeneratedId: string | null, flag: string): Error {
  return usageError(`${flag}: ${position} is past the last entry of "${stream}" (its last ID is ${lastGeneratedId ?? '0-0'}): the group would skip every entry added until Redis's clock passes it`, {
    // --to-group names a group, not a position: the flag that moves to the end is --to.
    suggestion: `use ${flag === '--to-group' ? '--to' : flag} end to skip everything added so far`,
  })
}

export async function resolveTargets(redis: RedisClient, topic: TopicGroups, text: string, flag: string): Promise<Targets> {
  const spec = parsePosition(text, flag)
  const {partitions} = topic
  if (spec.kind === 'start') return {spec, timeMs: undefined, positions: partitions.map(() => '0-0')}
  if (spec.kind === 'end') return {spec, timeMs: undefined, positions: partitions.map(() => '$')}
  if (spec.kind === 'id') {
    if (topic.partitioned) throw idOnPartitions(flag, text)
    const [plain] = partitions as [PartitionGroups]
    if (compareIdText(spec.id, plain.lastGeneratedId ?? '0-0') > 0) throw pastTheEnd(plain.stream, spec.id, plain.lastGeneratedId, flag)
    return {spec, timeMs: undefined, positions: [spec.id]}
  }
  const timeMs = timeOf(spec, timeReplyMs(await redis.time()), flag, text)
  return {spec, timeMs, positions: await lastBefore(redis, partitions, timeMs)}
}

/** Per partition, the ID of the last entry added before `ms` (XREVRANGE … COUNT 1), or 0-0. */
async function lastBefore(redis: RedisClient, partitions: readonly PartitionGroups[], ms: number): Promise<string[]> {
  const asked = ms > 0 ? partitions.filter((partition) => partition.exists) : []
  const replies = await pipelineByKey(redis, asked, (partition) => partition.stream, (pipeline, partition) => pipeline.xrevrange(partition.stream, `(${ms}-0`, '-', 'COUNT', 1))
  const found = new Map<string, string>()
  asked.forEach((partition, index) => {
    const [error, rows] = replies[index] ?? [new Error('missing reply'), null]
    if (error !== null) throw error
    const [row] = rows as Array<[string, string[]]>
    if (row !== undefined) found.set(partition.stream, row[0])
  })
  return partitions.map((partition) => found.get(partition.stream) ?? '0-0')
}

/**
 * The entries after each partition's position, counted where the position takes a count (an ID
 * between the stream's first and last entries): undefined at `0-0`, at `$`, and on a partition
 * without a stream, whose counter needs none (group-position-1.lua).
 */
export async function countsAt(redis: RedisClient, partitions: readonly PartitionGroups[], positions: readonly string[]): Promise<Array<EntriesAfter | undefined>> {
  return Promise.all(
    partitions.map(async (partition, index) => {
      const position = positions[index] as string
      return position === '$' || position === '0-0' || !partition.exists ? undefined : entriesAfter(redis, partition.stream, position)
    }),
  )
}
