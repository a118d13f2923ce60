import {usageError} from '../errors.js'
import {deadLetterKey} from '../keys.js'
import {resolveTopic, type TopicLayout} from '../partitions/metadata.js'
import type {RedisClient} from '../redis/client.js'
import {partitionList} from './partition-list.js'
import {resolveDlqKey} from './read.js'

/**
 * Which dead-letter streams a `qctl dlq` command works on. A plain topic has one: `{TOPIC}:dlq`, or
 * the key given with `--dlq`. A partitioned topic has one per partition, derived from that
 * partition's stream (`{T:p3:x}:dlq`, where its workers dead-letter, recording the partition's stream
 * as `dlq.topic`): all of them, or with `--partition P` that one.
 */
export interface DlqPart {
  /** The partition; null for a plain topic. */
  partition: number | null
  /** The stream its entries were dead-lettered from (the topic, or the partition's stream): what `dlq.topic` records and where a replay sends them. */
  stream: string
  /** Its dead-letter stream. */
  key: string
}

export interface DlqScope {
  /** TOPIC as given. */
  topic: string
  partitioned: boolean
  /** The dead-letter streams to work on, in partition order. */
  parts: DlqPart[]
}

export interface ScopeOptions {
  /** `--dlq`: another dead-letter stream (plain topics only). */
  dlq?: string | undefined
  /** `--partition`: only this partition. */
  partition?: number | undefined
}

/** The scope of a resolved topic. Pure: `--dlq` and `--partition` are checked here (exit 2). */
export function dlqScopeOf(layout: TopicLayout, options: ScopeOptions = {}): DlqScope {
  const {topic} = layout
  const count = layout.streams.length
  const {partition} = options
  if (partition !== undefined && (!Number.isInteger(partition) || partition < 0 || partition >= count)) {
    throw usageError(
      layout.metadata === undefined
        ? `--partition ${partition}: topic "${topic}" is a plain stream, not a partitioned topic (its only partition is 0)`
        : `--partition ${partition}: topic "${topic}" has ${count} partitions (0 … ${count - 1})`,
    )
  }
  if (layout.metadata === undefined) return {topic, partitioned: false, parts: [{partition: null, stream: topic, key: resolveDlqKey(topic, options.dlq)}]}
  if (options.dlq !== undefined && options.dlq !== '') {
    throw usageError(`--dlq cannot be used with topic "${topic}": it is partitioned, and each of its ${count} partitions has its own dead-letter stream`, {
      suggestion: `leave out --dlq (use --partition P for one partition's dead-letter stream, e.g. "${deadLetterKey(layout.streams[0] ?? topic)}")`,
    })
  }
  const parts = layout.streams.map((stream, index): DlqPart => ({partition: index, stream, key: deadLetterKey(stream)}))
  return {topic, partitioned: true, parts: partition === undefined ? parts : parts.filter((part) => part.partition === partition)}
}

/** Read TOPIC's metadata (one HGETALL; none for a name with braces) and build its scope. */
export async function resolveDlqScope(redis: RedisClient, topic: string, options: ScopeOptions = {}): Promise<DlqScope> {
  return dlqScopeOf(await resolveTopic(redis, topic), options)
}

/** The one dead-letter stream of a scope (a plain topic's, or the partition given with `--partition`); null when there are several. */
export const singleKey = (scope: DlqScope): string | null => (scope.parts.length === 1 ? (scope.parts[0] as DlqPart).key : null)

/** Where the entries are, for messages: the one dead-letter stream, or "the dead-letter streams of the 4 partitions of T". */
export function scopeText(scope: DlqScope): string {
  const key = singleKey(scope)
  return key ?? `the dead-letter streams of the ${scope.parts.length} partitions of ${scope.topic}`
}

/**
 * Refuse an ID found in several partitions' dead-letter streams (two partitions can dead-letter in
 * the same millisecond: their entry IDs, and their messages' origin IDs, may be equal): exit 2, naming
 * the partitions and `--partition`.
 */
export function refuseAmbiguous(scope: DlqScope, id: string, what: string, partitions: readonly number[]): void {
  if (partitions.length < 2) return
  throw usageError(`${what} ${id} is in the dead-letter streams of ${partitionList(partitions)} of topic "${scope.topic}": add --partition to say which`, {
    suggestion: `e.g. --partition ${partitions[0]}`,
    details: {id, partitions: [...partitions]},
  })
}
