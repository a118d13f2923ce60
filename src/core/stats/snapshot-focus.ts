import type {ChainableCommander} from 'ioredis'

import {retryDueKey, waitingKeysKey} from '../keys.js'
import {timeReplyMs} from '../redis/redis-time.js'
import {isNoGroup, isNoSuchKey, isWrongType} from '../redis/reply-errors.js'
import type {WaitingKey} from '../worker/key-report.js'
import {mergeBusiestKeys, streamWaitingKeys} from './busiest-keys.js'
import {consumerDetail, pendingDetail, type ConsumerDetail} from './details.js'
import {compareIdText} from '../dlq/stream-id.js'
import {pendingEntryKey, type Focus, type FocusDetail, type FocusPending} from './snapshot.js'
import {infoObject} from './xinfo.js'

/**
 * The detail of the focused group (`top`'s Enter): its consumers, oldest pending entries and busiest
 * keys (busiest-keys.ts), read in the refresh's one pipeline. A partitioned topic's group is read on every partition (on a cluster,
 * each partition on its own primary, in that primary's pipeline) and merged here.
 */

/** How many oldest pending entries the detail lists (read per stream: the oldest across partitions are among them). */
export const FOCUS_PENDING_SHOWN = 10

export type Reply = [Error | null, unknown]

/** One stream of the focused group: the topic itself, or one partition of a partitioned topic. */
export interface FocusStream {
  stream: string
  /** Its partition; null for a plain topic. */
  partition: number | null
  /** Pending entries whose retry due time to read: the previous refresh's oldest pending on this stream (their IDs are not known before this round trip's reply). */
  retryIds: readonly string[]
}

/** What to read of the focused group: on a cluster, each primary gets the streams it owns. */
export interface FocusRead extends Focus {
  /** The topic is partitioned: its detail merges its partitions' (and its pending entries name their partition). */
  partitioned: boolean
  streams: readonly FocusStream[]
}

/** The group's detail on one stream, before the merge. */
export interface FocusPart {
  partition: number | null
  consumers: ConsumerDetail[]
  oldestPending: FocusPending[]
  /** By entry ID (of this stream). */
  retryInMs: Map<string, number>
  /** The keys its ordered workers report waiting on this stream (none when the read was refused). */
  waitingKeys: WaitingKey[]
}

/**
 * Errors a reading may pass over (a topic or group that vanished, or is not a stream; a partition
 * that has no such group); anything else, a refused command above all, fails the refresh.
 */
export const ignorable = (error: Error | null): boolean => error === null || isNoSuchKey(error) || isNoGroup(error) || isWrongType(error)

const throwUnlessIgnorable = (error: Error | null): void => {
  if (!ignorable(error)) throw error
}

/**
 * Queue the focus commands: Redis's clock, then per stream the consumers, oldest pending entries and
 * the workers' reports of waiting keys, then the due times of entries that may be waiting out a backoff.
 */
export function queueFocus(pipeline: ChainableCommander, focus: FocusRead): void {
  if (focus.streams.length === 0) return
  // Due times and the reports' times are on Redis's clock (park-retry-3.lua, key-report.ts): read it
  // in the same round trip, once per node (this pipeline goes to one node).
  pipeline.call('TIME')
  for (const {stream} of focus.streams) {
    pipeline.call('XINFO', 'CONSUMERS', stream, focus.group)
    pipeline.xpending(stream, focus.group, '-', '+', FOCUS_PENDING_SHOWN)
    pipeline.hgetall(waitingKeysKey(stream, focus.group))
  }
  for (const {stream, retryIds} of focus.streams) if (retryIds.length > 0) pipeline.call('ZMSCORE', retryDueKey(stream, focus.group), ...retryIds)
}

/** The replies of queueFocus's commands, in order (`next` gives the next reply): one part per stream that has the group. */
export function focusParts(next: () => Reply, focus: FocusRead, localNow: number): FocusPart[] {
  if (focus.streams.length === 0) return []
  const time = next()
  const parts = new Map<FocusStream, FocusPart>()
  for (const stream of focus.streams) {
    const [consumersError, consumers] = next()
    const [pendingError, pending] = next()
    const waitingKeys = streamWaitingKeys(time, next())
    throwUnlessIgnorable(consumersError)
    throwUnlessIgnorable(pendingError)
    if (consumersError !== null || pendingError !== null) continue
    const partition = stream.partition
    parts.set(stream, {
      partition,
      consumers: (consumers as unknown[]).map(infoObject).map(consumerDetail),
      oldestPending: (pending as Array<[string, string, number, number]>).map((entry) => (partition === null ? pendingDetail(entry) : {...pendingDetail(entry), partition})),
      retryInMs: new Map(),
      waitingKeys: waitingKeys instanceof Error ? [] : waitingKeys,
    })
  }
  for (const stream of focus.streams.filter((read) => read.retryIds.length > 0)) {
    const scores = next()
    const part = parts.get(stream)
    if (part !== undefined) part.retryInMs = retryWaits(stream.retryIds, time, scores, localNow)
  }
  return [...parts.values()]
}

/**
 * How long each entry still waits out its retry backoff (from the group's due set), by ID; entries
 * not waiting are left out. A monitor without access to the due set (or to TIME) sees no marks
 * rather than a failed refresh; without TIME, the local clock stands in for Redis's.
 */
function retryWaits(ids: readonly string[], [timeError, time]: Reply, [scoresError, scores]: Reply, localNow: number): Map<string, number> {
  const waits = new Map<string, number>()
  if (scoresError !== null) return waits
  const redisNow = timeError === null ? timeReplyMs(time as [string, string]) : localNow
  for (const [index, id] of ids.entries()) {
    const due = (scores as Array<string | null>)[index]
    if (due !== null && due !== undefined && Number(due) > redisNow) waits.set(id, Number(due) - redisNow)
  }
  return waits
}

/**
 * The detail from the parts read (on a cluster, from every primary); null when no stream has the
 * group. A plain topic's is its one part. A partitioned topic's: consumers merged by name (a worker
 * is a consumer on each partition it reads: pending summed, idle and inactive the least, i.e. its
 * latest sign of life), the oldest pending entries across partitions (stream IDs are times, so they
 * compare across streams), every partition's retry marks, and the busiest keys across partitions.
 */
export function mergeFocusParts(focus: FocusRead, parts: readonly FocusPart[]): FocusDetail | null {
  const [first] = parts
  if (first === undefined) return null
  const {topic, group} = focus
  const busiestKeys = mergeBusiestKeys(parts.map(({partition, waitingKeys}) => ({partition, keys: waitingKeys})))
  if (!focus.partitioned) return {topic, group, consumers: first.consumers, oldestPending: first.oldestPending, retryInMs: first.retryInMs, busiestKeys}
  const consumers = new Map<string, ConsumerDetail>()
  const pending: FocusPending[] = []
  const retryInMs = new Map<string, number>()
  for (const part of parts) {
    for (const consumer of part.consumers) {
      const seen = consumers.get(consumer.name)
      consumers.set(consumer.name, seen === undefined ? {...consumer} : mergedConsumer(seen, consumer))
    }
    for (const entry of part.oldestPending) pending.push(entry)
    for (const [id, wait] of part.retryInMs) retryInMs.set(pendingEntryKey({id, partition: part.partition ?? undefined}), wait)
  }
  pending.sort((a, b) => compareIdText(a.id, b.id) || (a.partition ?? 0) - (b.partition ?? 0))
  return {
    topic,
    group,
    consumers: [...consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    oldestPending: pending.slice(0, FOCUS_PENDING_SHOWN),
    retryInMs,
    busiestKeys,
    partitions: focus.streams.length,
  }
}

const leastOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b))

function mergedConsumer(seen: ConsumerDetail, more: ConsumerDetail): ConsumerDetail {
  return {name: seen.name, pending: seen.pending + more.pending, idleMs: Math.min(seen.idleMs, more.idleMs), inactiveMs: leastOf(seen.inactiveMs, more.inactiveMs)}
}
