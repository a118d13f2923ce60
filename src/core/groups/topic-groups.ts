import {missingTopicsError} from '../errors.js'
import {isPartitioned, resolveTopic, type TopicLayout} from '../partitions/metadata.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {topicNotAStreamIn} from '../redis/key-type.js'
import {isNoGroup, isNoSuchKey} from '../redis/reply-errors.js'
import {consumerDetail, type ConsumerDetail} from '../stats/details.js'
import {ACTIVE_WINDOW_MS, readTopics, type RawGroup} from '../stats/topic-reading.js'
import {infoObject} from '../stats/xinfo.js'
import {PARKED_CONSUMER} from '../worker/group-ops.js'

/**
 * A topic as the `qctl group` commands that change a group see it: each partition's stream (a plain
 * topic's one stream) with its counters and consumer groups, read as `lag` reads them
 * (stats/topic-reading.ts), and the consumers of one group there.
 */

export interface PartitionGroups {
  /** The partition's index; null for a plain topic. */
  partition: number | null
  stream: string
  /** False for a partition whose stream does not exist yet (nothing published to it, no group made). */
  exists: boolean
  length: number
  firstId: string | null
  lastGeneratedId: string | null
  entriesAdded: number | null
  /** On a Redis Cluster, the primary that owns the stream's slot; null on a single server. */
  node: string | null
  groups: RawGroup[]
}

export interface TopicGroups {
  layout: TopicLayout
  partitioned: boolean
  partitions: PartitionGroups[]
}

/**
 * Read a topic's partitions. A plain topic that does not exist exits 6 and a key that is not a stream
 * exits 2 (naming what it holds), as `lag TOPIC` does; a partitioned topic's partition without a
 * stream yet is there, empty, without groups.
 */
export async function readTopicGroups(redis: RedisClient, topic: string): Promise<TopicGroups> {
  const layout = await resolveTopic(redis, topic)
  const raw = await readTopics(redis, layout.streams.map((stream) => ({topic: stream})), {reading: 'full'})
  const partitions: PartitionGroups[] = []
  for (const [index, read] of raw.entries()) {
    const partition = isPartitioned(layout) ? index : null
    if (read.kind === 'not-a-stream') throw await topicNotAStreamIn(redis, read.topic)
    if (read.kind === 'missing') {
      if (!isPartitioned(layout)) throw missingTopicsError([topic])
      partitions.push({partition, stream: read.topic, exists: false, length: 0, firstId: null, lastGeneratedId: null, entriesAdded: 0, node: read.node ?? null, groups: []})
      continue
    }
    const {length, firstId, lastGeneratedId, entriesAdded, groups} = read
    partitions.push({partition, stream: read.topic, exists: true, length, firstId, lastGeneratedId, entriesAdded, node: read.node ?? null, groups})
  }
  return {layout, partitioned: isPartitioned(layout), partitions}
}

/** The group on a partition, if it has it. */
export const groupOn = (partition: PartitionGroups, group: string): RawGroup | undefined => partition.groups.find((candidate) => candidate.name === group)

/** `0, 2` (partitions' indexes), or '' for a plain topic's. */
export const partitionList = (partitions: ReadonlyArray<{partition: number | null}>): string => partitions.map((partition) => partition.partition ?? '').join(', ')

/**
 * A consumer that is live: seen within the last minute (`lag`'s window for active consumers,
 * topic-reading.ts ACTIVE_WINDOW_MS), not counting qctl's parked pseudo-consumer, which holds retries
 * waiting out their backoff and is no process.
 */
export const isLive = (consumer: ConsumerDetail): boolean => consumer.name !== PARKED_CONSUMER && consumer.idleMs < ACTIVE_WINDOW_MS

/** A consumer seen within the last minute (a live one: seek and delete refuse without --force). */
export interface LiveConsumer {
  partition: number | null
  name: string
  idleMs: number
  pending: number
}

/** The live consumers among each partition's consumers (`consumers[i]`: those of `partitions[i]`). */
export const liveConsumersOf = (partitions: ReadonlyArray<{partition: number | null}>, consumers: ReadonlyArray<readonly ConsumerDetail[]>): LiveConsumer[] =>
  partitions.flatMap((partition, index) =>
    (consumers[index] ?? []).filter(isLive).map((consumer) => ({partition: partition.partition, name: consumer.name, idleMs: consumer.idleMs, pending: consumer.pending})),
  )

/** The consumers of `group` in each stream (XINFO CONSUMERS, pipelined per primary); none where the group or stream is gone. */
export async function consumersOf(redis: RedisClient, streams: readonly string[], group: string): Promise<ConsumerDetail[][]> {
  const replies = await pipelineByKey(redis, streams, (stream) => stream, (pipeline, stream) => pipeline.call('XINFO', 'CONSUMERS', stream, group))
  return replies.map(([error, reply]) => {
    if (error !== null) {
      if (isNoGroup(error) || isNoSuchKey(error)) return []
      throw error
    }
    return (reply as unknown[]).map((row) => consumerDetail(infoObject(row)))
  })
}
