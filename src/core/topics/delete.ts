import {notFoundError} from '../errors.js'
import {deadLetterKey, GROUP_KEY_KINDS, STREAM_KEY_SUFFIXES, topicMetadataKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {globEscape, scanKeys} from '../redis/scan.js'
import {isPartitioned, resolveTopic, type TopicLayout} from '../partitions/metadata.js'
import {readPartitions} from './partition-state.js'

/** `qctl topic delete` (its `--json`). */
export interface DeleteResult {
  topic: string
  partitioned: boolean
  partitionCount: number
  /** Every key deleted (or, with --dry-run, that would be): streams, dead-letter streams, group state, metadata last. */
  keys: string[]
  /** Entries in the topic's streams, and in their dead-letter streams, when it was read. */
  messages: number
  deadLetters: number
  deleted: number
  dryRun: boolean
  cancelled: boolean
}

/**
 * The suffixes of the keys qctl derives from a stream (keys.ts): its dead-letter stream, publish-once
 * keys and scheduled messages (STREAM_KEY_SUFFIXES), and per
 * group every key of GROUP_KEY_KINDS (retry hash, due set, takeover marks, replay stream with its own
 * state, held keys, lease and token counter, waiting-key reports, members).
 */
const DERIVED = new RegExp(`^(${STREAM_KEY_SUFFIXES.join('|')}|(${GROUP_KEY_KINDS.join('|')}):.+)$`, 's')

/** Where a stream's derived keys start: `{T}:` for an untagged T, `T:` for a tagged one (keys.ts, topicKey). */
const derivedPrefix = (stream: string): string => deadLetterKey(stream).slice(0, -'dlq'.length)

/** The keys of a topic: each stream, the keys derived from it (found with SCAN: groups destroyed long ago leave some), the metadata last. */
async function keysOf(redis: RedisClient, layout: TopicLayout): Promise<string[]> {
  const prefixes = layout.streams.map(derivedPrefix)
  // One SCAN for all partitions: their derived keys all start with `{T:p`.
  const match = isPartitioned(layout) ? `${globEscape(`{${layout.topic}:p`)}*` : `${globEscape(prefixes[0] as string)}*`
  const found = await scanKeys(redis, ['MATCH', match, 'COUNT', 1000])
  // A partitioned topic's own derived keys (its ordered groups' members: `{T}:members:G`) start with `{T}:`.
  if (isPartitioned(layout)) {
    const own = derivedPrefix(layout.topic)
    prefixes.push(own)
    for (const key of await scanKeys(redis, ['MATCH', `${globEscape(own)}*`, 'COUNT', 1000])) found.add(key)
  }
  const derived = [...found].filter((key) => prefixes.some((prefix) => key.startsWith(prefix) && DERIVED.test(key.slice(prefix.length)))).sort()
  const streams = await scanKeysThatExist(redis, layout.streams)
  return [...streams, ...derived.filter((key) => !streams.includes(key)), ...(isPartitioned(layout) ? [topicMetadataKey(layout.topic)] : [])]
}

async function scanKeysThatExist(redis: RedisClient, keys: readonly string[]): Promise<string[]> {
  const replies = await pipelineByKey(redis, keys, (key) => key, (pipeline, key) => pipeline.exists(key))
  return keys.filter((_key, index) => Number(replies[index]?.[1] ?? 0) > 0)
}

/**
 * Plan `qctl topic delete TOPIC`: every key of the topic (exit 6 if it has none). A plain stream
 * is deleted the same way, with its dead-letter stream and group state.
 */
export async function planDelete(redis: RedisClient, topic: string): Promise<DeleteResult> {
  const layout = await resolveTopic(redis, topic)
  const keys = await keysOf(redis, layout)
  if (keys.length === 0) throw notFoundError(`topic "${topic}" does not exist (no partitioned topic and no stream by that name)`)
  const partitions = await readPartitions(redis, layout.streams)
  return {
    topic,
    partitioned: isPartitioned(layout),
    partitionCount: layout.streams.length,
    keys,
    messages: partitions.reduce((sum, partition) => sum + partition.length, 0),
    deadLetters: partitions.reduce((sum, partition) => sum + partition.deadLetters, 0),
    deleted: 0,
    dryRun: false,
    cancelled: false,
  }
}

/**
 * Delete the planned keys with UNLINK (memory freed in the background: a stream of millions of
 * entries does not block Redis), the metadata last: a delete cut short leaves the topic findable,
 * and running it again finishes it. Workers and producers still running recreate what they use:
 * stop them first.
 */
export async function applyDelete(redis: RedisClient, plan: DeleteResult): Promise<DeleteResult> {
  const metadata = plan.partitioned ? topicMetadataKey(plan.topic) : undefined
  const data = plan.keys.filter((key) => key !== metadata)
  let deleted = 0
  const unlink = async (keys: readonly string[]): Promise<void> => {
    const replies = await pipelineByKey(redis, keys, (key) => key, (pipeline, key) => pipeline.unlink(key))
    for (const [error, count] of replies) {
      if (error !== null) throw error
      deleted += Number(count)
    }
  }
  await unlink(data)
  if (metadata !== undefined) await unlink([metadata])
  return {...plan, deleted}
}
