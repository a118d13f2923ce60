import {topicMetadataKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {isPartitioned, resolveTopic, type TopicLayout} from '../partitions/metadata.js'
import {notFoundError} from '../errors.js'
import {existingKeys, readPartitions, type PartitionState} from './partition-state.js'

/** `qctl topic describe` (its `--json`), also what `topic create` and `topic alter` print. */
export interface TopicDescription {
  topic: string
  /** False for a plain stream (no metadata): one partition, the stream itself. */
  partitioned: boolean
  partitionCount: number
  /** The metadata hash (partitioned topics), else null. */
  metadataKey: string | null
  /** The partitioner (`murmur2`), null for a plain stream. */
  hash: string | null
  createdAt: string | null
  updatedAt: string | null
  version: number | null
  /** Entries in all partitions. */
  messages: number
  deadLetters: number
  partitions: PartitionState[]
  /** Things an operator should know (a stream named like a partitioned topic that nobody reads). */
  warnings: string[]
}

const isoOf = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString())

/** Describe a resolved topic: metadata, and each partition's stream (one round trip per primary). */
export async function describeLayout(redis: RedisClient, layout: TopicLayout): Promise<TopicDescription> {
  const partitions = await readPartitions(redis, layout.streams)
  const warnings: string[] = []
  if (isPartitioned(layout) && (await existingKeys(redis, [layout.topic])).length > 0) {
    warnings.push(
      `a stream named "${layout.topic}" exists beside the partitioned topic: nothing qctl runs reads it (a producer that does not know the topic is partitioned wrote to it?); move its entries to the partitioned topic (read them with XRANGE, publish them again) or delete it`,
    )
  }
  const {metadata} = layout
  return {
    topic: layout.topic,
    partitioned: metadata !== undefined,
    partitionCount: layout.streams.length,
    metadataKey: metadata === undefined ? null : topicMetadataKey(layout.topic),
    hash: metadata?.hash ?? null,
    createdAt: isoOf(metadata?.createdAt),
    updatedAt: isoOf(metadata?.updatedAt),
    version: metadata?.version ?? null,
    messages: partitions.reduce((sum, partition) => sum + partition.length, 0),
    deadLetters: partitions.reduce((sum, partition) => sum + partition.deadLetters, 0),
    partitions,
    warnings,
  }
}

/** `qctl topic describe TOPIC`: exit 6 when it is neither a partitioned topic nor a stream. */
export async function describeTopic(redis: RedisClient, topic: string): Promise<TopicDescription> {
  const layout = await resolveTopic(redis, topic)
  const description = await describeLayout(redis, layout)
  if (!description.partitioned && !(description.partitions[0]?.exists ?? false)) {
    throw notFoundError(`topic "${topic}" does not exist (no partitioned topic and no stream by that name)`, {suggestion: `create it: qctl topic create ${topic} --partitions N`})
  }
  return description
}
