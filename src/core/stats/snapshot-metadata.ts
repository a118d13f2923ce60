import type {ChainableCommander} from 'ioredis'

import {metadataKeyPattern, topicMetadataKey, topicOfMetadataKey} from '../keys.js'
import {isWrongType} from '../redis/reply-errors.js'
import type {Reply} from './snapshot-focus.js'

/**
 * The metadata hashes of partitioned topics (partitions/metadata.ts) as `top` reads them: inside a
 * refresh's one pipeline (on a cluster, the pipeline of the primary that owns each key), never in a
 * round trip of their own.
 */

/** A metadata hash as read: its fields, none (no such key: a plain topic, or a deleted one), or a key of another type. */
export type MetadataReply = {state: 'hash'; fields: Record<string, string>} | {state: 'none'} | {state: 'not-a-hash'}

/** SCAN's arguments after the cursor for the metadata keys of topics matching a glob (as findPartitionedTopics). */
export const metadataScanArgs = (match: string, count: number): Array<string | number> => ['MATCH', metadataKeyPattern(match), 'COUNT', count, 'TYPE', 'hash']

/** The topic a metadata key found by SCAN is of. */
export {topicOfMetadataKey}

export function queueMetadata(pipeline: ChainableCommander, topics: readonly string[]): void {
  for (const topic of topics) pipeline.hgetall(topicMetadataKey(topic))
}

/**
 * The replies of queueMetadata's commands, in order. A key of another type is said so (a warning,
 * not a failure: the topic is shown as it was); any other error, a refusal or a redirection (which a
 * cluster reading retries), fails the reading.
 */
export function metadataReplies(next: () => Reply, topics: readonly string[]): Map<string, MetadataReply> {
  const replies = new Map<string, MetadataReply>()
  for (const topic of topics) {
    const [error, fields] = next()
    if (error !== null && !isWrongType(error)) throw error
    if (error !== null) replies.set(topic, {state: 'not-a-hash'})
    else {
      const record = fields as Record<string, string>
      replies.set(topic, Object.keys(record).length === 0 ? {state: 'none'} : {state: 'hash', fields: record})
    }
  }
  return replies
}
