import {QctlError, usageError} from '../errors.js'
import {topicMetadataKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {METADATA_FORMAT, mayBePartitioned, PARTITIONER, resolveTopic} from '../partitions/metadata.js'
import {MAX_PARTITIONS, placePartitions} from '../partitions/placement.js'
import {callScript, type ScriptSpec} from '../scripts.js'
import {describeLayout, type TopicDescription} from './describe.js'
import {existingKeys, slotLayoutOf} from './partition-state.js'

const CREATE: ScriptSpec = {name: 'qctlTopicCreate', file: 'topic-create-1.lua', keys: 1}

export interface CreateRequest {
  topic: string
  partitions: number
  /** An existing partitioned topic with this partition count is success, not a conflict (`--if-not-exists`). */
  ifNotExists?: boolean
}

export type CreateResult = TopicDescription & {created: boolean}

/** Refuse, before connecting, what can never be a partitioned topic. */
export function checkCreateRequest(request: CreateRequest): void {
  if (!mayBePartitioned(request.topic)) {
    throw usageError(`a partitioned topic's name may not contain braces ("${request.topic}"): each partition's stream is named {TOPIC:pN:SALT}, a hash tag of its own`)
  }
  if (!Number.isInteger(request.partitions) || request.partitions < 1 || request.partitions > MAX_PARTITIONS) {
    throw usageError(`--partitions must be between 1 and ${MAX_PARTITIONS} (got ${request.partitions})`)
  }
}

/**
 * `qctl topic create TOPIC --partitions N`: name the partitions' streams (spread over the cluster's
 * primaries, placement.ts) and write the metadata atomically (topic-create-1.lua). Refused (exit 9)
 * when the topic exists (unless --if-not-exists finds it as asked), and (exit 2) when a stream by
 * the topic's name exists: its entries would be read by nobody once the name means partitions.
 * The partitions' streams are created by the first publish or group, not here.
 */
export async function createTopic(redis: RedisClient, request: CreateRequest): Promise<CreateResult> {
  checkCreateRequest(request)
  const {topic, partitions} = request
  const current = await resolveTopic(redis, topic)
  if (current.metadata !== undefined) {
    if (request.ifNotExists === true && current.metadata.partitions === partitions) return {...(await describeLayout(redis, current)), created: false}
    const suffix = request.ifNotExists === true ? `, not ${partitions}: --if-not-exists only accepts the same count` : ''
    throw new QctlError('ALREADY_EXISTS', `topic "${topic}" already exists with ${current.metadata.partitions} partitions${suffix}`, {
      suggestion: `see it with qctl topic describe ${topic}; grow it with qctl topic alter ${topic} --partitions M`,
      details: {partitions: current.metadata.partitions},
    })
  }
  const placed = placePartitions(topic, [], partitions, slotLayoutOf(redis))
  const streams = placed.map((partition) => partition.stream)
  const leftovers = await existingKeys(redis, [topic, ...streams])
  if (leftovers.includes(topic)) {
    throw usageError(`a stream named "${topic}" already exists: it is a plain topic (one partition); a partitioned topic needs a new name`, {
      suggestion: 'create the partitioned topic under another name and move the entries over, or delete the stream first',
    })
  }
  if (leftovers.length > 0) {
    throw usageError(`the streams of the new partitions already exist (${leftovers.join(', ')}): left behind by a topic of that name whose deletion did not finish, or written by another program`, {
      suggestion: 'delete those keys, then create the topic again',
    })
  }
  const [created] = (await callScript(redis, CREATE, [topicMetadataKey(topic), METADATA_FORMAT, partitions, JSON.stringify(streams), PARTITIONER])) as [number, string | null]
  if (Number(created) !== 1) {
    // Another `topic create` won the race: report what it made.
    return createTopic(redis, request)
  }
  return {...(await describeLayout(redis, await resolveTopic(redis, topic))), created: true}
}
