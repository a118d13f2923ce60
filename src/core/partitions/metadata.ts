/**
 * A partitioned topic's metadata: one hash per topic at `qctl:topic:{<topic>}` (keys.ts), documented in
 * the README ("Partitioned topics"):
 *
 *   format     1 (the layout of this record; a qctl that does not know a higher one refuses it)
 *   partitions the partition count, N
 *   streams    the partitions' stream names, a JSON array of N strings (index = partition)
 *   hash       murmur2 (the partitioner: partition-hash.ts)
 *   createdAt  Redis's clock, ms
 *   updatedAt  Redis's clock, ms, of the last change
 *   version    1, then one more on every change (topic alter)
 *
 * A topic without this key is a plain stream: one partition, the stream named like the topic. Only
 * `qctl topic create` and `topic alter` write it (topic-create-1.lua, topic-alter-1.lua).
 */

import {QctlError, usageError} from '../errors.js'
import {hashTag, topicMetadataKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {keyTypeOf, typeNoun} from '../redis/key-type.js'
import {isWrongType} from '../redis/reply-errors.js'
import {MAX_PARTITIONS} from './placement.js'

export const METADATA_FORMAT = 1
/**
 * How often a running worker of a partitioned topic looks for partitions `qctl topic alter` added
 * (one HGETALL of the metadata): with a blocking read's wait (--block), the bound on how long the
 * first messages of a new partition wait for running workers.
 */
export const GROWTH_POLL_MS = 5000
export const PARTITIONER = 'murmur2'

export interface TopicMetadata {
  format: number
  partitions: number
  streams: string[]
  hash: string
  createdAt: number
  updatedAt: number
  version: number
}

/**
 * A topic as commands work with it: its streams (one per partition, in partition order) and, for a
 * partitioned topic, its metadata. A plain stream is `{streams: [topic], metadata: undefined}`.
 */
export interface TopicLayout {
  topic: string
  streams: readonly string[]
  metadata: TopicMetadata | undefined
}

export const isPartitioned = (layout: TopicLayout): layout is TopicLayout & {metadata: TopicMetadata} => layout.metadata !== undefined

/** The layout of a topic that has no metadata: the stream itself. */
export const plainTopic = (topic: string): TopicLayout => ({topic, streams: [topic], metadata: undefined})

/**
 * Whether a topic name may be partitioned: each partition's stream is named `{<topic>:p<i>:<salt>}`,
 * the whole name one hash tag, which a brace inside the topic would cut short.
 */
export const mayBePartitioned = (topic: string): boolean => !topic.includes('{') && !topic.includes('}')

/** A metadata hash that qctl cannot use: exit 5, naming the key and what is wrong with it. */
function badMetadata(topic: string, problem: string): QctlError {
  const key = topicMetadataKey(topic)
  return new QctlError('BAD_METADATA', `the metadata of topic "${topic}" (${key}) ${problem}`, {
    suggestion: `it is not a record qctl wrote: inspect it with HGETALL ${key}, and if it is not qctl's, delete that key (DEL ${key}): qctl topic delete reads it too`,
    details: {key},
  })
}

const integerField = (fields: Record<string, string>, name: string): number | undefined => {
  const text = fields[name]
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : undefined
}

/** Parse an HGETALL reply of a metadata hash; throws BAD_METADATA for anything qctl did not write. */
export function parseMetadata(topic: string, fields: Record<string, string>): TopicMetadata {
  const format = integerField(fields, 'format')
  if (format === undefined) throw badMetadata(topic, 'has no valid "format" field')
  if (format > METADATA_FORMAT) {
    throw new QctlError('BAD_METADATA', `topic "${topic}" was created by a newer qctl (metadata format ${format}, this one knows ${METADATA_FORMAT}): upgrade qctl`, {
      details: {key: topicMetadataKey(topic), format},
    })
  }
  const partitions = integerField(fields, 'partitions')
  if (partitions === undefined || partitions < 1 || partitions > MAX_PARTITIONS) throw badMetadata(topic, `has an invalid partition count (${JSON.stringify(fields.partitions ?? null)})`)
  let streams: unknown
  try {
    streams = JSON.parse(fields.streams ?? '')
  } catch {
    throw badMetadata(topic, 'has a "streams" field that is not JSON')
  }
  if (!Array.isArray(streams) || streams.length !== partitions || !streams.every((stream) => typeof stream === 'string' && stream !== '' && hashTag(stream) !== undefined)) {
    throw badMetadata(topic, `has a "streams" field that is not ${partitions} hash-tagged stream names`)
  }
  if (new Set(streams).size !== streams.length) throw badMetadata(topic, 'names the same stream for two partitions')
  const hash = fields.hash ?? ''
  if (hash !== PARTITIONER) throw badMetadata(topic, `names a partitioner qctl does not know (${JSON.stringify(hash)})`)
  const createdAt = integerField(fields, 'createdAt')
  const updatedAt = integerField(fields, 'updatedAt')
  const version = integerField(fields, 'version')
  if (createdAt === undefined || updatedAt === undefined || version === undefined || version < 1) throw badMetadata(topic, 'has invalid createdAt, updatedAt or version fields')
  return {format, partitions, streams: streams as string[], hash, createdAt, updatedAt, version}
}

/** A metadata key that holds something other than a hash: exit 2, naming the key and its type. */
async function notAHash(redis: RedisClient, topic: string, cause: unknown): Promise<QctlError> {
  const key = topicMetadataKey(topic)
  const type = await keyTypeOf(redis, key)
  const what = type === undefined ? 'is not a hash' : `is ${typeNoun(type)}, not a hash`
  return usageError(`the metadata key of topic "${topic}" (${key}) ${what}`, {cause, details: {key, type: type ?? null}})
}

/**
 * The layouts of `topics`, in order: one pipelined HGETALL per topic that may be partitioned (on a
 * cluster, one pipeline per primary); names with braces cannot be, and cost nothing.
 */
export async function resolveTopics(redis: RedisClient, topics: readonly string[]): Promise<TopicLayout[]> {
  const asked = topics.filter(mayBePartitioned)
  const replies = await pipelineByKey(redis, asked, topicMetadataKey, (pipeline, topic) => pipeline.hgetall(topicMetadataKey(topic)))
  const found = new Map<string, TopicLayout>()
  for (const [index, topic] of asked.entries()) {
    const [error, fields] = replies[index] ?? [new Error('no reply'), null]
    if (error !== null) {
      if (isWrongType(error)) throw await notAHash(redis, topic, error)
      throw error
    }
    const record = fields as Record<string, string>
    if (Object.keys(record).length === 0) continue
    const metadata = parseMetadata(topic, record)
    found.set(topic, {topic, streams: metadata.streams, metadata})
  }
  return topics.map((topic) => found.get(topic) ?? plainTopic(topic))
}

export async function resolveTopic(redis: RedisClient, topic: string): Promise<TopicLayout> {
  return (await resolveTopics(redis, [topic]))[0] as TopicLayout
}
