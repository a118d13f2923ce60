import {metadataKeyPattern, topicOfMetadataKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {globEscape, scanKeys} from '../redis/scan.js'
import {resolveTopics, type TopicLayout} from '../partitions/metadata.js'
import {findTopics} from '../stats/topic-stats.js'

/** One row of `qctl topic list` (its `--json` is an array of these). */
export interface TopicListRow {
  topic: string
  partitioned: boolean
  partitionCount: number
  /** Entries in all partitions. */
  messages: number
}

/** The partitioned topics whose names match `match`: their metadata keys, found with SCAN (one cursor per primary). */
export async function findPartitionedTopics(redis: RedisClient, match = '*'): Promise<TopicLayout[]> {
  const keys = await scanKeys(redis, ['MATCH', metadataKeyPattern(match), 'COUNT', 1000, 'TYPE', 'hash'])
  const topics = [...keys].map(topicOfMetadataKey).filter((topic): topic is string => topic !== undefined).sort()
  // A key deleted between the SCAN and the read has no fields left: it resolves to a plain topic, dropped here.
  return (await resolveTopics(redis, topics)).filter((layout) => layout.metadata !== undefined)
}

/**
 * `qctl topic list [--match GLOB]`: partitioned topics (by their metadata) and plain streams, minus
 * what qctl derives (dead-letter and replay streams) and the partitions' own streams. One SCAN for
 * each, then one pipelined XLEN per stream: linear in the keys, one round trip per primary per step.
 */
export async function listTopics(redis: RedisClient, match = '*'): Promise<TopicListRow[]> {
  const [partitioned, streams] = await Promise.all([findPartitionedTopics(redis, match), findTopics(redis, match)])
  const partitionStreams = new Set(partitioned.flatMap((layout) => layout.streams))
  const named = new Set(partitioned.map((layout) => layout.topic))
  const plain: TopicLayout[] = streams.filter((stream) => !partitionStreams.has(stream) && !named.has(stream)).map((stream) => ({topic: stream, streams: [stream], metadata: undefined}))
  const layouts = [...partitioned, ...plain].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))
  const all = layouts.flatMap((layout) => layout.streams)
  const replies = await pipelineByKey(redis, all, (stream) => stream, (pipeline, stream) => pipeline.xlen(stream))
  const lengths = new Map(all.map((stream, index) => [stream, replies[index]?.[0] === null ? Number(replies[index]?.[1]) : 0]))
  return layouts.map((layout) => ({
    topic: layout.topic,
    partitioned: layout.metadata !== undefined,
    partitionCount: layout.streams.length,
    messages: layout.streams.reduce((sum, stream) => sum + (lengths.get(stream) ?? 0), 0),
  }))
}

/**
 * Topic names starting with `prefix`, sorted (shell completion): what `topic list` lists, without
 * counting messages. One SCAN for partitioned topics' metadata and one for streams.
 */
export async function topicNames(redis: RedisClient, prefix = ''): Promise<string[]> {
  const match = `${globEscape(prefix)}*`
  const [partitioned, streams] = await Promise.all([findPartitionedTopics(redis, match), findTopics(redis, match)])
  const partitionStreams = new Set(partitioned.flatMap((layout) => layout.streams))
  const names = new Set([...partitioned.map((layout) => layout.topic), ...streams.filter((stream) => !partitionStreams.has(stream))])
  return [...names].sort()
}
