import type {Redis} from 'ioredis'

import {notFoundError} from '../errors.js'
import {decodeDlqEntry} from '../dlq/entry.js'
import {topicStats, type GroupStats} from './topic-stats.js'
import {idMs, infoObject, numberOf} from './xinfo.js'

const OLDEST_PENDING_SHOWN = 10
const DEAD_LETTERS_SHOWN = 5

export interface EntryRef {
  id: string
  /** When it was added (ISO), from the ID. */
  at: string | null
}

export interface ConsumerDetail {
  name: string
  pending: number
  /** Since the consumer's last interaction with the group. */
  idleMs: number
  /** Since its last successful read (Redis 7.2+; null on older servers). */
  inactiveMs: number | null
}

export interface PendingDetail {
  id: string
  consumer: string
  idleMs: number
  /** Delivery count: entries delivered many times are the likely poison messages. */
  deliveries: number
  publishedAt: string | null
}

export interface GroupDetail extends GroupStats {
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
}

const ref = (id: string | null): EntryRef | null => {
  if (id === null) return null
  const ms = idMs(id)
  return {id, at: ms === null ? null : new Date(ms).toISOString()}
}

const iso = (id: string): string | null => {
  const ms = idMs(id)
  return ms === null ? null : new Date(ms).toISOString()
}

/** Everything about one topic (optionally one group): streams, groups, consumers, oldest pending entries, newest dead letters. */
export async function inspectTopic(redis: Redis, topic: string, onlyGroup?: string): Promise<InspectResult> {
  const [stats] = await topicStats(redis, [topic])
  if (stats === undefined) throw notFoundError(`topic "${topic}" does not exist (or is not a stream)`)
  const groups = onlyGroup === undefined ? stats.groups : stats.groups.filter((group) => group.name === onlyGroup)
  if (onlyGroup !== undefined && groups.length === 0) throw notFoundError(`topic "${topic}" has no consumer group "${onlyGroup}"`)

  const pipeline = redis.pipeline()
  for (const group of groups) {
    pipeline.call('XINFO', 'CONSUMERS', topic, group.name)
    pipeline.xpending(topic, group.name, '-', '+', OLDEST_PENDING_SHOWN)
  }
  pipeline.xrevrange(stats.deadLetterKey, '+', '-', 'COUNT', DEAD_LETTERS_SHOWN)
  const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
    if (error !== null) throw error
    return value
  })

  const details: GroupDetail[] = groups.map((group, index) => {
    const consumers = (replies[index * 2] as unknown[]).map(infoObject)
    const pending = replies[index * 2 + 1] as Array<[string, string, number, number]>
    return {
      ...group,
      consumerDetails: consumers.map((consumer) => ({
        name: String(consumer.name),
        pending: Number(consumer.pending),
        idleMs: Number(consumer.idle),
        inactiveMs: numberOf(consumer.inactive),
      })),
      oldestPending: pending.map(([id, consumer, idleMs, deliveries]) => ({id, consumer, idleMs: Number(idleMs), deliveries: Number(deliveries), publishedAt: iso(id)})),
    }
  })

  const newest = (replies.at(-1) as Array<[string, string[]]>).map(([id, pairs]): DeadLetterSummary => {
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
  }
}
