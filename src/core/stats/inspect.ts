import {decodeDlqEntry} from '../dlq/entry.js'
import {notFoundError} from '../errors.js'
import {scheduleKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {consumerDetail, pendingDetail, publishedAtOf, type ConsumerDetail, type PendingDetail} from './details.js'
import {pendingAgeMs} from './pending-age.js'
import {resolveTopics} from '../partitions/metadata.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {compareIdText} from '../dlq/stream-id.js'
import {statsOfLayouts} from './partitioned-stats.js'
import {topicStats, type GroupStats, type TopicStats} from './topic-stats.js'
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
  /** On a partitioned topic, each consumer over all partitions: pending summed, idle and inactive the least. */
  consumerDetails: ConsumerDetail[]
  /** `partition`: where the entry is pending (null for a plain topic). */
  oldestPending: Array<PendingDetail & {partition: number | null}>
}

export interface DeadLetterSummary {
  id: string
  /** The partition whose dead-letter stream holds it; null for a plain topic. */
  partition: number | null
  originId: string | null
  group: string | null
  attempts: number | null
  errorName: string | null
  errorMessage: string | null
  failedAt: string | null
}

/** One partition of a partitioned topic, in `inspect` (`partitions` in its --json). */
export interface PartitionSummary {
  partition: number
  stream: string
  node: string | null
  length: number
  lastEntry: EntryRef | null
  deadLetterKey: string
  deadLetters: number
  /** Messages held in the partition's schedule (null: could not be read), and of them those already due. */
  scheduled: number | null
  scheduledDue: number | null
  /** The topic's groups on this partition (`inspect --partitions` shows them); a group missing here is absent. */
  groups: GroupStats[]
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
  /** `key`: the dead-letter stream; null for a partitioned topic (each partition has its own: see `partitions`). */
  deadLetters: {key: string | null; length: number; newest: DeadLetterSummary[]}
  /**
   * Messages held until due (publish --delay / --at), in no stream yet. `key`: the schedule (null for
   * a partitioned topic: each partition has its own); `messages` and `due` (already past their time:
   * nothing appends them) null when the schedule could not be read; `nextDueAt` the earliest due time
   * (ISO), null when nothing is held or it could not be read.
   */
  scheduled: {key: string | null; messages: number | null; due: number | null; nextDueAt: string | null}
  /** What is wrong with the topic's keys but did not stop the reading (its dead-letter key is not a stream). */
  warnings: string[]
  /** On a Redis Cluster: the primary (`host:port`) that owns the topic's hash slot; null on a single server or for a partitioned topic. */
  node: string | null
  /** A partitioned topic's partitions; null for a plain stream. */
  partitions: PartitionSummary[] | null
}

const ref = (id: string | null): EntryRef | null => (id === null ? null : {id, at: publishedAtOf(id)})

type Ask = {kind: 'consumers' | 'pending'; part: TopicStats; group: string} | {kind: 'dead-letters' | 'next-due'; part: TopicStats}

/** A consumer of several partitions' groups, as one: what it holds in all, and its most recent activity. */
function mergeConsumers(details: readonly ConsumerDetail[]): ConsumerDetail[] {
  const byName = new Map<string, ConsumerDetail>()
  for (const detail of details) {
    const seen = byName.get(detail.name)
    if (seen === undefined) byName.set(detail.name, {...detail})
    else {
      seen.pending += detail.pending
      seen.idleMs = Math.min(seen.idleMs, detail.idleMs)
      seen.inactiveMs = seen.inactiveMs === null || detail.inactiveMs === null ? (seen.inactiveMs ?? detail.inactiveMs) : Math.min(seen.inactiveMs, detail.inactiveMs)
    }
  }
  return [...byName.values()]
}

/**
 * Everything about one topic (optionally one group): streams, groups, consumers, oldest pending
 * entries, newest dead letters. For a partitioned topic, over all its partitions (each entry shown
 * with its partition), read in one round trip per primary.
 */
export async function inspectTopic(redis: RedisClient, topic: string, onlyGroup?: string): Promise<InspectResult> {
  const [stats] = await statsOfLayouts(await resolveTopics(redis, [topic]), async (streams) => topicStats(redis, streams, {named: true}))
  if (stats === undefined) throw notFoundError(`topic "${topic}" does not exist`)
  const groups = onlyGroup === undefined ? stats.groups : stats.groups.filter((group) => group.name === onlyGroup)
  if (onlyGroup !== undefined && groups.length === 0) throw notFoundError(`topic "${topic}" has no consumer group "${onlyGroup}"`)

  const parts = stats.partitions ?? [stats]
  const asks: Ask[] = []
  for (const group of groups) {
    for (const part of parts) {
      if (!part.groups.some((candidate) => candidate.name === group.name)) continue
      asks.push({kind: 'consumers', part, group: group.name}, {kind: 'pending', part, group: group.name})
    }
  }
  // A dead-letter key that is not a stream (warned about, counted 0) has no entries to show.
  for (const part of parts) if (part.deadLetters > 0) asks.push({kind: 'dead-letters', part})
  for (const part of parts) if ((part.scheduled ?? 0) > 0) asks.push({kind: 'next-due', part})
  const replies = await pipelineByKey(redis, asks, (ask) => ask.part.stream, (pipeline, ask) => {
    if (ask.kind === 'consumers') pipeline.call('XINFO', 'CONSUMERS', ask.part.stream, ask.group)
    else if (ask.kind === 'pending') pipeline.xpending(ask.part.stream, ask.group, '-', '+', OLDEST_PENDING_SHOWN)
    else if (ask.kind === 'next-due') pipeline.zrange(scheduleKey(ask.part.stream), 0, 0, 'WITHSCORES')
    else pipeline.xrevrange(ask.part.deadLetterKey, '+', '-', 'COUNT', DEAD_LETTERS_SHOWN)
  })
  const values = replies.map(([error, value], index) => {
    // The next due time is a detail: a role that may count the schedule but not range over it (or a
    // schedule emptied meanwhile) leaves it unknown, it does not fail the report.
    if (error !== null && asks[index]?.kind === 'next-due') return []
    if (error !== null) throw error
    return value
  })
  const now = Date.now()
  const answered = (kind: Ask['kind'], group?: string): Array<{ask: Ask; value: unknown}> =>
    asks.map((ask, index) => ({ask, value: values[index]})).filter(({ask}) => ask.kind === kind && (group === undefined || ('group' in ask && ask.group === group)))

  const details: GroupDetail[] = groups.map((group) => {
    const consumers = answered('consumers', group.name).flatMap(({value}) => (value as unknown[]).map(infoObject).map(consumerDetail))
    const pending = answered('pending', group.name)
      .flatMap(({ask, value}) => (value as Array<[string, string, number, number]>).map((row) => ({...pendingDetail(row), partition: ask.part.partition})))
      .sort((a, b) => compareIdText(a.id, b.id))
      .slice(0, OLDEST_PENDING_SHOWN)
    return {
      ...group,
      oldestPendingAgeMs: pendingAgeMs(group.oldestPendingId, group.oldestPendingIdleMs, now),
      consumerDetails: stats.partitions === undefined ? consumers : mergeConsumers(consumers),
      oldestPending: pending,
    }
  })

  const newest = answered('dead-letters')
    .flatMap(({ask, value}) =>
      (value as Array<[string, string[]]>).map(([id, pairs]): DeadLetterSummary => {
        const entry = decodeDlqEntry(id, pairs)
        return {
          id,
          partition: ask.part.partition,
          originId: entry.originId,
          group: entry.group,
          attempts: entry.attempts,
          errorName: entry.errorName,
          errorMessage: entry.errorMessage,
          failedAt: entry.lastFailureAt ?? entry.deadLetteredAt,
        }
      }),
    )
    .sort((a, b) => compareIdText(b.id, a.id))
    .slice(0, DEAD_LETTERS_SHOWN)
  const dueTimes = answered('next-due').flatMap(({value}) => {
    const [, score] = value as string[]
    return score === undefined ? [] : [Number(score)]
  })

  return {
    topic,
    length: stats.length,
    firstEntry: ref(stats.firstId),
    lastEntry: ref(stats.lastId),
    lastGeneratedId: stats.lastGeneratedId,
    entriesAdded: stats.entriesAdded,
    groups: details,
    deadLetters: {key: stats.partitions === undefined ? stats.deadLetterKey : null, length: stats.deadLetters, newest},
    scheduled: {
      key: stats.partitions === undefined ? scheduleKey(stats.stream) : null,
      messages: stats.scheduled,
      due: stats.scheduledDue,
      nextDueAt: dueTimes.length === 0 ? null : new Date(Math.min(...dueTimes)).toISOString(),
    },
    warnings: stats.warnings,
    node: stats.node,
    partitions:
      stats.partitions?.map((part) => ({
        partition: part.partition ?? 0,
        stream: part.stream,
        node: part.node,
        length: part.length,
        lastEntry: ref(part.lastId),
        deadLetterKey: part.deadLetterKey,
        deadLetters: part.deadLetters,
        scheduled: part.scheduled,
        scheduledDue: part.scheduledDue,
        groups: onlyGroup === undefined ? part.groups : part.groups.filter((group) => group.name === onlyGroup),
      })) ?? null,
  }
}
