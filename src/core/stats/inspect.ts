import {decodeDlqEntry} from '../dlq/entry.js'
import {notFoundError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import {consumerDetail, pendingDetail, publishedAtOf, type ConsumerDetail, type PendingDetail} from './details.js'
import {pendingAgeMs} from './pending-age.js'
import {topicStats, type GroupStats} from './topic-stats.js'
import {infoObject} from './xinfo.js'

export type {ConsumerDetail, PendingDetail}

const OLDEST_PENDING_SHOWN = 10
const DEAD_LETTERS_SHOWN = 5

export interface EntryRef {
  id: string
  /** When it was added (ISO), from the ID. */
  at: string | null
}

export interface GroupDetail extends GroupStats {
  /** How long the oldest pending entry has waited (see pendingAgeMs); null when nothing is pending. */
  oldestPendingAgeMs: number | null
  consumerDetails: ConsumerDetail[]
  oldestPending: PendingDetail[]
}

export interface DeadLetterSummary {
  id: string
  originId: string | null
  group: string | null
  attempts: number | null
  errorName: string | null
  errorMessage: string | null
  failedAt: string | null
}

/** The result of `qctl inspect` (its `--json` output). */
export interface InspectResult {
  topic: string
  length: number
  firstEntry: EntryRef | null
  lastEntry: EntryRef | null
  lastGeneratedId: string | null
  entriesAdded: number | null
  groups: GroupDetail[]
  deadLetters: {key: string; length: number; newest: DeadLetterSummary[]}
  /** What is wrong with the topic's keys but did not stop the reading (its dead-letter key is not a stream). */
  warnings: string[]
  /** On a Redis Cluster: the primary (`host:port`) that owns the topic's hash slot; null on a single server. */
  node: string | null
}

const ref = (id: string | null): EntryRef | null => (id === null ? null : {id, at: publishedAtOf(id)})

/** Everything about one topic (optionally one group): streams, groups, consumers, oldest pending entries, newest dead letters. */
export async function inspectTopic(redis: RedisClient, topic: string, onlyGroup?: string): Promise<InspectResult> {
  const [stats] = await topicStats(redis, [topic], {named: true})
  if (stats === undefined) throw notFoundError(`topic "${topic}" does not exist`)
  const groups = onlyGroup === undefined ? stats.groups : stats.groups.filter((group) => group.name === onlyGroup)
  if (onlyGroup !== undefined && groups.length === 0) throw notFoundError(`topic "${topic}" has no consumer group "${onlyGroup}"`)

  const pipeline = redis.pipeline()
  for (const group of groups) {
    pipeline.call('XINFO', 'CONSUMERS', topic, group.name)
    pipeline.xpending(topic, group.name, '-', '+', OLDEST_PENDING_SHOWN)
  }
  // A dead-letter key that is not a stream (warned about) has no entries to show.
  const readDeadLetters = stats.warnings.length === 0
  if (readDeadLetters) pipeline.xrevrange(stats.deadLetterKey, '+', '-', 'COUNT', DEAD_LETTERS_SHOWN)
  const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
    if (error !== null) throw error
    return value
  })
  const now = Date.now()

  const details: GroupDetail[] = groups.map((group, index) => {
    const consumers = (replies[index * 2] as unknown[]).map(infoObject)
    const pending = replies[index * 2 + 1] as Array<[string, string, number, number]>
    return {
      ...group,
      oldestPendingAgeMs: pendingAgeMs(group.oldestPendingId, group.oldestPendingIdleMs, now),
      consumerDetails: consumers.map(consumerDetail),
      oldestPending: pending.map(pendingDetail),
    }
  })

  const newest = ((readDeadLetters ? replies.at(-1) : []) as Array<[string, string[]]>).map(([id, pairs]): DeadLetterSummary => {
    const entry = decodeDlqEntry(id, pairs)
    return {
      id,
      originId: entry.originId,
      group: entry.group,
      attempts: entry.attempts,
      errorName: entry.errorName,
      errorMessage: entry.errorMessage,
      failedAt: entry.lastFailureAt ?? entry.deadLetteredAt,
    }
  })

  return {
    topic,
    length: stats.length,
    firstEntry: ref(stats.firstId),
    lastEntry: ref(stats.lastId),
    lastGeneratedId: stats.lastGeneratedId,
    entriesAdded: stats.entriesAdded,
    groups: details,
    deadLetters: {key: stats.deadLetterKey, length: stats.deadLetters, newest},
    warnings: stats.warnings,
    node: stats.node,
  }
}
