import {QctlError, usageError} from '../errors.js'
import {topicMetadataKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {isPartitioned, resolveTopic, type TopicMetadata} from '../partitions/metadata.js'
import {partitionOfKey} from '../partitions/partition-hash.js'
import {MAX_PARTITIONS, placePartitions} from '../partitions/placement.js'
import {callScript, type ScriptSpec} from '../scripts.js'
import {WireField} from '../wire-format.js'
import {describeLayout, type TopicDescription} from './describe.js'
import {existingKeys, slotLayoutOf} from './partition-state.js'

const ALTER: ScriptSpec = {name: 'qctlTopicAlter', file: 'topic-alter-1.lua', keys: 1}

/** Keys sampled (newest entries of each partition) to say how many keys move to another partition. */
export const ALTER_SAMPLE = 1000

/** What growing a topic does, before it is done (`--dry-run` prints this). */
export interface AlterPlan {
  topic: string
  from: number
  to: number
  /** The streams of the partitions to add. */
  added: string[]
  /** Distinct keys found among the newest entries of the partitions, and how many of them hash to another partition at the new count. */
  sampledKeys: number
  movedKeys: number
  /** The consumer groups of the topic, to be made on the added partitions at their start. */
  groups: string[]
  metadata: TopicMetadata
}

/** `groups`: the consumer groups made on the added partitions (every group of the old ones), read from their start. */
export type AlterResult = TopicDescription & {from: number; to: number; sampledKeys: number; movedKeys: number; dryRun: boolean; changed: boolean; groups: string[]}

/** The consumer groups of any of `streams` (XINFO GROUPS of each; a stream not made yet has none). */
async function groupsOf(redis: RedisClient, streams: readonly string[]): Promise<string[]> {
  const replies = await pipelineByKey(redis, streams, (stream) => stream, (pipeline, stream) => pipeline.call('XINFO', 'GROUPS', stream))
  const names = new Set<string>()
  for (const [error, groups] of replies) {
    if (error !== null) continue
    for (const group of groups as unknown[][]) {
      const at = group.indexOf('name')
      if (at !== -1) names.add(String(group[at + 1]))
    }
  }
  return [...names].sort()
}

/**
 * Make every group of the topic on the added partitions, at their start: lag counts their entries
 * at once, and a worker that notices the new partitions later (or starts later with --from latest)
 * still reads what was published there meanwhile. A group already there (a worker made it) is kept.
 */
async function createGroupsOn(redis: RedisClient, added: readonly string[], groups: readonly string[]): Promise<void> {
  const pairs = added.flatMap((stream) => groups.map((group) => ({stream, group})))
  const replies = await pipelineByKey(redis, pairs, ({stream}) => stream, (pipeline, {stream, group}) => pipeline.xgroup('CREATE', stream, group, '0', 'MKSTREAM'))
  const failed = replies.find(([error]) => error !== null && !error.message.startsWith('BUSYGROUP'))
  if (failed?.[0]) throw failed[0]
}

/** Distinct message keys among the newest entries of each stream (up to ALTER_SAMPLE in all). */
async function sampleKeys(redis: RedisClient, streams: readonly string[]): Promise<Set<string>> {
  const perStream = Math.max(1, Math.ceil(ALTER_SAMPLE / streams.length))
  const replies = await pipelineByKey(redis, streams, (stream) => stream, (pipeline, stream) => pipeline.xrevrange(stream, '+', '-', 'COUNT', perStream))
  const keys = new Set<string>()
  for (const [error, rows] of replies) {
    if (error !== null) continue
    for (const [, fields] of rows as Array<[string, string[]]>) {
      for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === WireField.key) keys.add(fields[i + 1] as string)
    }
  }
  return keys
}

/**
 * Plan `qctl topic alter TOPIC --partitions M`: partitions only grow (a key's messages in a removed
 * partition would be stranded). Growing moves keys: a key hashes to `murmur2 % M` from then on, so its
 * new messages may go to another partition than its older ones, and their order across the two is
 * not kept while the old partition still holds some: the plan counts how many sampled keys move.
 */
export async function planAlter(redis: RedisClient, topic: string, to: number): Promise<AlterPlan> {
  if (!Number.isInteger(to) || to < 1 || to > MAX_PARTITIONS) throw usageError(`--partitions must be between 1 and ${MAX_PARTITIONS} (got ${to})`)
  const layout = await resolveTopic(redis, topic)
  if (!isPartitioned(layout)) {
    const exists = (await existingKeys(redis, [topic])).length > 0
    throw exists
      ? usageError(`topic "${topic}" is a plain stream, not a partitioned topic: its partition count cannot change`, {suggestion: `create a partitioned topic under a new name: qctl topic create NAME --partitions ${to}`})
      : new QctlError('NOT_FOUND', `topic "${topic}" does not exist`, {suggestion: `create it: qctl topic create ${topic} --partitions ${to}`})
  }
  const {metadata} = layout
  if (to < metadata.partitions) {
    throw usageError(`topic "${topic}" has ${metadata.partitions} partitions: partitions can only be added, never removed (asked for ${to})`, {
      suggestion: 'to have fewer, create a new topic and move the messages over',
    })
  }
  const added = placePartitions(topic, metadata.streams, to, slotLayoutOf(redis)).map((partition) => partition.stream)
  const keys = to === metadata.partitions ? new Set<string>() : await sampleKeys(redis, metadata.streams)
  let movedKeys = 0
  for (const key of keys) if (partitionOfKey(key, metadata.partitions) !== partitionOfKey(key, to)) movedKeys++
  const groups = added.length === 0 ? [] : await groupsOf(redis, metadata.streams)
  return {topic, from: metadata.partitions, to, added, sampledKeys: keys.size, movedKeys, groups, metadata}
}

/** Apply a plan, only if the topic is still at the version planned from (topic-alter-1.lua); exit 9 if it changed meanwhile. */
export async function applyAlter(redis: RedisClient, plan: AlterPlan): Promise<AlterResult> {
  const summary = {from: plan.from, to: plan.to, sampledKeys: plan.sampledKeys, movedKeys: plan.movedKeys, dryRun: false}
  if (plan.added.length === 0) return {...(await describeLayout(redis, await resolveTopic(redis, plan.topic))), ...summary, changed: false, groups: []}
  const leftovers = await existingKeys(redis, plan.added)
  if (leftovers.length > 0) {
    throw usageError(`the streams of the new partitions already exist (${leftovers.join(', ')}): written by another program, or left by a deleted topic`, {suggestion: 'delete those keys, then alter the topic again'})
  }
  const streams = [...plan.metadata.streams, ...plan.added]
  const [written, version] = (await callScript(redis, ALTER, [topicMetadataKey(plan.topic), plan.metadata.version, plan.to, JSON.stringify(streams)])) as [number, string | undefined]
  if (Number(written) === -1) throw new QctlError('NOT_FOUND', `topic "${plan.topic}" was deleted while it was being altered`)
  if (Number(written) !== 1) {
    throw new QctlError('CONFLICT', `topic "${plan.topic}" was changed by someone else while it was being altered (now at version ${version ?? '?'}, planned from ${plan.metadata.version}): nothing was changed`, {
      suggestion: `look again with qctl topic describe ${plan.topic}, then alter it again`,
    })
  }
  // Read again after the metadata (a group made since the plan is made too); made after it, since a
  // group made first on a partition the alter then did not add would be a leftover.
  const groups = await groupsOf(redis, plan.metadata.streams)
  await createGroupsOn(redis, plan.added, groups)
  return {...(await describeLayout(redis, await resolveTopic(redis, plan.topic))), ...summary, changed: true, groups}
}
