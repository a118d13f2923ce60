import type {ChainableCommander} from 'ioredis'

import type {RedisClient} from '../redis/client.js'
import {pipelineByKey, type PipelineReply} from '../redis/keyed-pipeline.js'
import {timeReplyMs} from '../redis/redis-time.js'
import {isNoGroup, isNoSuchKey, isPermissionDenied, isWrongType} from '../redis/reply-errors.js'
import {ACTIVE_WINDOW_MS, readTopics, type RawGroup} from '../stats/topic-reading.js'
import {LAG_COUNT_LIMIT} from '../stats/topic-stats.js'
import {idMs, infoObject, stringOf} from '../stats/xinfo.js'
import {PARKED_CONSUMER} from '../worker/group-ops.js'
import type {Inventory, RetryHashPlace, SchedulePlace, StreamPlace, WrongTypeKey} from './inventory.js'
import {stuckAfterMs, type DoctorThresholds} from './types.js'

/**
 * What `qctl doctor` reads of what it found, in passes of pipelined commands (on a Redis Cluster,
 * one pipeline per primary each): qctl's read script for every stream (read-topics-n.lua, as `lag`
 * reads; one call per hundred streams); then only where a check needs more, and bounded: the
 * consumers of groups that may have idle ones, what follows a group whose lag Redis cannot tell (up
 * to 1,000 entries), the memory of streams never trimmed past the limit, the dead letters of the
 * window (up to 100) and a page of each retry hash (`sample` records); last, the oldest pending
 * entries (`sample`) of groups whose oldest entry is idle past the limit and that have entries held
 * by consumers that are not stuck, and the entries the retry records name.
 */

export interface ConsumerFacts {
  name: string
  pending: number
  idleMs: number
}

export interface PendingFacts {
  id: string
  consumer: string
  idleMs: number
  deliveries: number
}

export interface GroupFacts extends Omit<RawGroup, 'replay' | 'activeConsumers' | 'parkedPending' | 'consumers'> {
  consumerCount: number
  activeConsumers: number
  parkedPending: number
  /** Null when not read: every consumer was active in the last minute, and no limit is under a minute. */
  consumers: ConsumerFacts[] | null
  /** The oldest pending entries (up to `sample`); null when not read (the oldest is not idle past the limit). */
  oldestPending: PendingFacts[] | null
  /** Where Redis cannot tell the lag: the entries after the group's position, counted up to 1,000 (null beyond, or not read). */
  entriesAfter: number | null
}

export interface StreamFacts {
  place: StreamPlace
  node: string
  length: number
  firstId: string | null
  lastId: string | null
  entriesAdded: number | null
  groups: GroupFacts[]
  /** XINFO STREAM's max-deleted-entry-id, read where a group's lag is unknown (undefined otherwise). */
  maxDeletedId?: string | null
  /** MEMORY USAGE, read for a stream never trimmed past the limit; null if refused. */
  memoryBytes?: number | null
  /** Dead letters within the window, counted up to DLQ_COUNT_LIMIT (a dead-letter stream whose newest is in the window). */
  recentDeadLetters?: number
}

export interface RetryFacts {
  place: RetryHashPlace
  node: string
  records: number
  /** Entry IDs of the page of records read (`sample` at most; `<id>` and `<id>+` fields are one entry). */
  sampledIds: string[]
  /** Of those, the entries that no longer exist. */
  missingIds: string[]
  /** Whether the group exists where its records' entries are (the stream, or its replay stream). */
  groupExists: boolean
}

/** A schedule holding messages past their due time by more than OVERDUE_AFTER_MS (only those are kept). */
export interface ScheduleFacts {
  place: SchedulePlace
  /** Messages it holds. */
  scheduled: number
  /** Of them, due more than OVERDUE_AFTER_MS ago (by Redis's clock). */
  overdue: number
  /** When the oldest was due (ms, Redis's clock). */
  oldestDueMs: number
}

export interface Facts {
  /** Redis's clock, ms. */
  now: number
  streams: StreamFacts[]
  retries: RetryFacts[]
  schedules: ScheduleFacts[]
  wrongType: WrongTypeKey[]
}

/**
 * A scheduled message due longer ago than this, still in its schedule, has no mover: a running
 * `qctl work` of the topic looks every second, `qctl schedule run --follow` too.
 */
export const OVERDUE_AFTER_MS = 60_000

/** Dead letters of the window counted exactly up to this many (each read is an entry with its fields). */
export const DLQ_COUNT_LIMIT = 100

/** Commands per pipeline: one over 10,000 streams would keep them all and their replies alive at once. */
const ASKS_PER_PIPELINE = 2000

/** One command of a pass: its key (which node), how to send it, and what to do with its reply. */
interface Ask {
  key: string
  send: (pipeline: ChainableCommander) => void
  take: (reply: PipelineReply) => void
}

/** Send asks pipelined per node, in slices. */
async function send(redis: RedisClient, asks: readonly Ask[]): Promise<void> {
  for (let start = 0; start < asks.length; start += ASKS_PER_PIPELINE) {
    const slice = asks.slice(start, start + ASKS_PER_PIPELINE)
    const replies = await pipelineByKey(redis, slice, (ask) => ask.key, (pipeline, ask) => ask.send(pipeline))
    slice.forEach((ask, index) => ask.take(replies[index] ?? [new Error('no reply'), null]))
  }
}

/** A reply's value; gone (deleted meanwhile: no such key, NOGROUP) is undefined; any other error is raised. */
function valueOf(reply: PipelineReply): unknown {
  const [error, value] = reply
  if (error === null) return value
  if (isNoSuchKey(error) || isNoGroup(error)) return undefined
  throw error
}

export async function readFacts(redis: RedisClient, inventory: Inventory, thresholds: DoctorThresholds, serverNode: string): Promise<Facts> {
  const [raw, time] = await Promise.all([
    // Every stream read alone (`deadLetterStream`: without the derived keys a topic's row adds), as each is judged on its own.
    readTopics(redis, inventory.streams.map((place) => ({topic: place.key, deadLetterStream: true})), {reading: 'full'}),
    redis.time(),
  ])
  const now = timeReplyMs(time)
  const wrongType = [...inventory.wrongType]
  const streams: StreamFacts[] = []
  inventory.streams.forEach((place, index) => {
    const topic = raw[index]
    if (topic === undefined || topic.kind === 'missing') return
    if (topic.kind === 'not-a-stream') {
      // A plain topic found by SCAN that changed type since is not qctl's business; a key qctl derives is.
      if (place.role !== 'topic' || place.partition !== null) wrongType.push({key: place.key, expected: 'stream', as: place.role === 'topic' ? 'partition' : place.role, topic: place.topic, partition: place.partition, group: place.group})
      return
    }
    streams.push({
      place,
      node: topic.node ?? serverNode,
      length: topic.length,
      firstId: topic.firstId,
      lastId: topic.lastId,
      entriesAdded: topic.entriesAdded,
      groups: topic.groups.map((group) => ({
        name: group.name,
        lastDeliveredId: group.lastDeliveredId,
        entriesRead: group.entriesRead,
        lag: group.lag,
        pending: group.pending,
        consumerCount: group.consumers,
        activeConsumers: group.activeConsumers ?? 0,
        parkedPending: group.parkedPending ?? 0,
        oldestPendingId: group.oldestPendingId,
        oldestPendingIdleMs: group.oldestPendingIdleMs,
        consumers: null,
        oldestPending: null,
        entriesAfter: null,
      })),
    })
  })

  const retries: RetryFacts[] = inventory.retryHashes.map((place) => ({place, node: serverNode, records: 0, sampledIds: [], missingIds: [], groupExists: false}))
  const schedules: ScheduleFacts[] = []
  await send(redis, [...streamAsks(streams, thresholds, now), ...retryAsks(retries, thresholds.sample, wrongType), ...scheduleAsks(inventory.schedules, now, schedules, wrongType)])
  const retried = retries.filter((retry) => retry.records > 0)
  await send(redis, [...sampleAsks(streams, thresholds), ...existenceAsks(retried)])
  const groupsOf = new Map(streams.map((stream) => [stream.place.key, new Set(stream.groups.map((group) => group.name))]))
  const nodeOf = new Map(streams.map((stream) => [stream.place.key, stream.node]))
  for (const retry of retried) {
    retry.groupExists = groupsOf.get(retry.place.entriesKey)?.has(retry.place.group) === true
    retry.node = nodeOf.get(retry.place.stream.key) ?? nodeOf.get(retry.place.entriesKey) ?? retry.node
  }
  return {now, streams, retries: retried, schedules, wrongType}
}

/**
 * Of each schedule, its oldest message (ZRANGE 0 0 WITHSCORES) and, when that is overdue, how many are
 * held and overdue: a key that is not a sorted set is noted; one the user may not read is skipped (a
 * monitor role older than schedules).
 */
function scheduleAsks(places: readonly SchedulePlace[], now: number, found: ScheduleFacts[], wrongType: WrongTypeKey[]): Ask[] {
  const overdueBefore = now - OVERDUE_AFTER_MS
  return places.flatMap((place): Ask[] => {
    const {key} = place
    const facts: ScheduleFacts = {place, scheduled: 0, overdue: 0, oldestDueMs: 0}
    let oldest: number | undefined
    const usable = (error: Error | null): boolean => {
      if (error === null) return true
      if (isWrongType(error) && !wrongType.some((seen) => seen.key === key)) {
        wrongType.push({key, expected: 'sorted set', as: 'schedule', topic: place.stream.topic, partition: place.stream.partition, group: null})
      }
      if (!isWrongType(error) && !isPermissionDenied(error)) valueOf([error, null])
      return false
    }
    return [
      {
        key,
        send: (pipeline) => pipeline.zrange(key, 0, 0, 'WITHSCORES'),
        take: ([error, value]) => {
          if (!usable(error)) return
          const [, score] = (value as string[] | null) ?? []
          oldest = score === undefined ? undefined : Number(score)
        },
      },
      {
        key,
        send: (pipeline) => pipeline.zcard(key),
        take: ([error, value]) => {
          if (usable(error)) facts.scheduled = Number(value)
        },
      },
      {
        key,
        send: (pipeline) => pipeline.zcount(key, '-inf', overdueBefore),
        take: ([error, value]) => {
          if (!usable(error) || oldest === undefined || Number(value) === 0) return
          facts.overdue = Number(value)
          facts.oldestDueMs = oldest
          found.push(facts)
        },
      },
    ]
  })
}

/** The second pass over streams: only what a check needs, bounded. */
function streamAsks(streams: readonly StreamFacts[], thresholds: DoctorThresholds, now: number): Ask[] {
  const asks: Ask[] = []
  const stuckAfter = stuckAfterMs(thresholds)
  // Idle consumers exist only where some are inactive, unless a limit is shorter than "active" (a minute).
  const readAllConsumers = Math.min(stuckAfter, thresholds.leftoverAfterMs) < ACTIVE_WINDOW_MS
  for (const stream of streams) {
    const key = stream.place.key
    for (const group of stream.groups) {
      if (group.consumerCount > 0 && (readAllConsumers || group.activeConsumers < group.consumerCount)) {
        asks.push({
          key,
          send: (pipeline) => pipeline.call('XINFO', 'CONSUMERS', key, group.name),
          take: (reply) => {
            const rows = valueOf(reply) as unknown[] | undefined
            group.consumers = (rows ?? []).map(infoObject).map((row) => ({name: String(row.name), pending: Number(row.pending), idleMs: Number(row.idle)}))
          },
        })
      }
      if (stream.place.role === 'topic' && group.lag === null) {
        asks.push({
          key,
          send: (pipeline) => pipeline.xrange(key, `(${group.lastDeliveredId}`, '+', 'COUNT', LAG_COUNT_LIMIT + 1),
          take: (reply) => {
            const after = (valueOf(reply) as unknown[] | undefined)?.length
            group.entriesAfter = after === undefined || after > LAG_COUNT_LIMIT ? null : after
          },
        })
      }
    }
    if (stream.place.role === 'topic' && stream.groups.some((group) => group.lag === null)) {
      asks.push({key, send: (pipeline) => pipeline.call('XINFO', 'STREAM', key), take: (reply) => (stream.maxDeletedId = stringOf(infoObject(valueOf(reply))['max-deleted-entry-id']))})
    }
    if (stream.place.role === 'topic' && stream.entriesAdded === stream.length && stream.length > thresholds.maxUntrimmed) {
      asks.push({
        key,
        send: (pipeline) => pipeline.call('MEMORY', 'USAGE', key),
        take: ([error, value]) => {
          if (error !== null && !isPermissionDenied(error)) valueOf([error, value])
          stream.memoryBytes = error === null && value !== null ? Number(value) : null
        },
      })
    }
    const windowStart = now - thresholds.dlqWindowMs
    if (stream.place.role === 'dead-letters' && (idMs(stream.lastId) ?? 0) >= windowStart) {
      asks.push({
        key,
        send: (pipeline) => pipeline.xrange(key, String(Math.max(0, windowStart)), '+', 'COUNT', Math.max(thresholds.dlqGrowth, DLQ_COUNT_LIMIT)),
        take: (reply) => (stream.recentDeadLetters = (valueOf(reply) as unknown[] | undefined)?.length ?? 0),
      })
    }
  }
  return asks
}

/**
 * The oldest pending entries of groups whose oldest is idle past the limit and that have entries held by
 * consumers that are not stuck (a stuck consumer's entries are its finding; parked retries wait out a backoff):
 * read after the consumers, so a database whose workers all died reads no samples.
 */
function sampleAsks(streams: readonly StreamFacts[], thresholds: DoctorThresholds): Ask[] {
  const stuckAfter = stuckAfterMs(thresholds)
  const asks: Ask[] = []
  for (const stream of streams) {
    const key = stream.place.key
    for (const group of stream.groups) {
      if (group.pending === 0 || (group.oldestPendingIdleMs ?? 0) < stuckAfter) continue
      const heldByLive = group.consumers === null ? group.pending - group.parkedPending : realConsumers(group).reduce((sum, consumer) => sum + (isStuck(consumer, stuckAfter) ? 0 : consumer.pending), 0)
      if (heldByLive <= 0) continue
      asks.push({
        key,
        send: (pipeline) => pipeline.xpending(key, group.name, '-', '+', thresholds.sample),
        take: (reply) => {
          const rows = (valueOf(reply) as Array<[string, string, number, number]> | undefined) ?? []
          group.oldestPending = rows.map(([id, consumer, idle, deliveries]) => ({id: String(id), consumer: String(consumer), idleMs: Number(idle), deliveries: Number(deliveries)}))
        },
      })
    }
  }
  return asks
}

/** A page of each retry hash, and how many records it holds; a key that is not a hash is noted. */
function retryAsks(retries: readonly RetryFacts[], sample: number, wrongType: WrongTypeKey[]): Ask[] {
  return retries.flatMap((retry): Ask[] => {
    const {key} = retry.place
    const noteWrongType = (error: Error | null): boolean => {
      if (!isWrongType(error)) return false
      if (!wrongType.some((found) => found.key === key)) {
        wrongType.push({key, expected: 'hash', as: 'retry', topic: retry.place.stream.topic, partition: retry.place.stream.partition, group: retry.place.group})
      }
      return true
    }
    return [
      {key, send: (pipeline) => pipeline.hlen(key), take: ([error, value]) => (noteWrongType(error) ? undefined : (retry.records = Number(valueOf([error, value]) ?? 0)))},
      {
        key,
        send: (pipeline) => pipeline.hscan(key, '0', 'COUNT', sample),
        take: ([error, value]) => {
          if (noteWrongType(error)) return
          const [, flat] = (valueOf([error, value]) as [string, string[]] | undefined) ?? ['0', []]
          const ids = new Set<string>()
          for (let i = 0; i < flat.length && ids.size < sample; i += 2) ids.add(String(flat[i]).replace(/\+$/, ''))
          retry.sampledIds = [...ids]
        },
      },
    ]
  })
}

/** Whether the entries the sampled records name still exist (XRANGE id id, one per record). */
function existenceAsks(retries: readonly RetryFacts[]): Ask[] {
  return retries.flatMap((retry) =>
    retry.sampledIds.map(
      (id): Ask => ({
        key: retry.place.entriesKey,
        send: (pipeline) => pipeline.xrange(retry.place.entriesKey, id, id, 'COUNT', 1),
        take: ([error, value]) => {
          // A field that is not an entry ID, or a replay stream that is not a stream: nothing to look up.
          if (error !== null && (isWrongType(error) || /Invalid stream ID/i.test(error.message))) return
          const found = valueOf([error, value]) as unknown[] | undefined
          if (found === undefined || found.length === 0) retry.missingIds.push(id)
        },
      }),
    ),
  )
}

/** The consumers of a group that are not qctl's parked pseudo-consumer (which holds retries waiting out their backoff). */
export const realConsumers = (group: GroupFacts): ConsumerFacts[] => (group.consumers ?? []).filter((consumer) => consumer.name !== PARKED_CONSUMER)

/** A consumer that holds entries and has been idle past the limit: nobody takes them over. */
export const isStuck = (consumer: ConsumerFacts, stuckAfterMs: number): boolean => consumer.pending > 0 && consumer.idleMs >= stuckAfterMs
