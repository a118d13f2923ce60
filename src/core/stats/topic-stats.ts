import type {Redis} from 'ioredis'

import {deadLetterKey, isDeadLetterKey, isReplayKey, replayKey, topicsOfDeadLetterKey} from '../keys.js'
import {keyTypes, notAStreamText, topicNotAStream} from '../redis/key-type.js'
import {isNoGroup, isNoSuchKey, isWrongType} from '../redis/reply-errors.js'
import {entryId, idMs, infoObject, numberOf, stringOf, type InfoObject} from './xinfo.js'

/** A consumer counts as active if it read within this window. */
export const ACTIVE_WINDOW_MS = 60_000
/** Lag is counted exactly up to this many entries when Redis cannot tell it. */
export const LAG_COUNT_LIMIT = 1000

export interface GroupStats {
  name: string
  lastDeliveredId: string
  entriesRead: number | null
  /** Entries not yet delivered to the group; null when it cannot be known cheaply (never a false 0). */
  lag: number | null
  /** How lag was obtained: Redis's own accounting, counted by qctl, or unknown. */
  lagSource: 'redis' | 'counted' | 'unknown'
  pending: number
  oldestPendingId: string | null
  /** Since the oldest pending entry was last delivered (XPENDING idle time); null when nothing is pending. */
  oldestPendingIdleMs: number | null
  consumers: number
  activeConsumers: number
  /**
   * Entries `qctl dlq replay` put in the group's replay stream (keys.ts `replayKey`) that the group
   * has not acknowledged yet; already counted in `lag` (not yet delivered) and `pending` (delivered).
   */
  replayed: number
}

export interface TopicStats {
  topic: string
  length: number
  firstId: string | null
  lastId: string | null
  lastGeneratedId: string | null
  entriesAdded: number | null
  deadLetterKey: string
  deadLetters: number
  groups: GroupStats[]
  /** What is wrong with the topic's keys but did not stop the reading (its dead-letter key is not a stream). */
  warnings: string[]
}

export interface TopicStatsOptions {
  /**
   * The topics were named by the user: one that is not a stream fails (exit 2, naming the key and
   * its type). Otherwise (topics found by SCAN) it is skipped with a warning.
   */
  named?: boolean | undefined
  /** Topics skipped because they are not streams (only when not `named`). */
  onWarning?: ((message: string) => void) | undefined
  /**
   * Dead-letter streams read as topics of their own (lag over the whole database): kept only when a
   * consumer group reads them (an archiver); otherwise they are the DLQ column of their topic.
   */
  deadLetterStreams?: ReadonlySet<string> | undefined
}

type Reply = [Error | null, unknown]

const replyOf = (replies: Reply[] | null, index: number): Reply => replies?.[index] ?? [new Error('missing reply'), null]

const valueOf = (reply: Reply): unknown => {
  if (reply[0] !== null) throw reply[0]
  return reply[1]
}

/**
 * Consumers alive in the last minute, by `idle`. On Redis 7.2+ `idle` counts from the last read
 * attempt, a read blocked on a quiet stream included (`inactive` counts from the last read that
 * returned entries: a healthy idle worker would look dead after a minute). On 7.0 `idle` counts from
 * the last read that returned something; qctl workers keep it fresh with their liveness beat
 * (worker/liveness.ts), other consumers on 7.0 look inactive once idle for a minute.
 */
export const isActive = (consumer: InfoObject): boolean => Number(consumer.idle) < ACTIVE_WINDOW_MS

/** A reply saying the key is gone (deleted between SCAN and now, or between two round trips). */
const isGone = (error: Error | null): boolean => error !== null && (isNoSuchKey(error) || isNoGroup(error))

/** The warning for a dead-letter key that holds something else: the topic's row shows 0 dead letters. */
export const deadLetterKeyWarning = (topic: string, key: string, type: string | undefined): string =>
  `${notAStreamText(key, type)}: not counted as the dead letters of "${topic}"`

/** The warning for a key found as a topic that is not a stream (any more) when it is read. */
export const skippedTopicWarning = (topic: string, type: string | undefined): string => `${notAStreamText(topic, type)}: skipped`

/**
 * Topics read per pair of pipelines. One pipeline over 10,000 topics keeps 40,000 commands and
 * their replies alive at once, and the garbage collector's copying of them cost more than reading
 * them (a third of the CPU, measured with --cpu-prof); in slices the live set stays small.
 */
export const TOPICS_PER_SLICE = 1000

/**
 * Statistics of several topics, in two pipelined round trips per slice of TOPICS_PER_SLICE topics
 * (streams, groups and dead-letter lengths; then consumers and the oldest pending entry of each
 * group), plus a bounded count where Redis reports lag as unknown. Topics that do not exist are
 * left out; keys that are not streams are skipped with a warning (a dead-letter key) or, for named
 * topics, fail with exit 2 (a third round trip, TYPE, only then).
 */
export async function topicStats(redis: Redis, topics: readonly string[], options: TopicStatsOptions = {}): Promise<TopicStats[]> {
  const stats: TopicStats[] = []
  for (let start = 0; start < topics.length; start += TOPICS_PER_SLICE) {
    for (const topic of await sliceStats(redis, topics.slice(start, start + TOPICS_PER_SLICE), options)) stats.push(topic)
  }
  return stats
}

async function sliceStats(redis: Redis, topics: readonly string[], options: TopicStatsOptions): Promise<TopicStats[]> {
  if (topics.length === 0) return []
  const first = redis.pipeline()
  for (const topic of topics) {
    first.call('XINFO', 'STREAM', topic)
    first.call('XINFO', 'GROUPS', topic)
    first.xlen(deadLetterKey(topic))
  }
  const firstReplies = (await first.exec()) as Reply[] | null

  const read: Array<{topic: string; stream: Reply; groups: Reply; deadLetters: Reply}> = []
  const notStreams: string[] = []
  topics.forEach((topic, index) => {
    const stream = replyOf(firstReplies, index * 3)
    const groups = replyOf(firstReplies, index * 3 + 1)
    const deadLetters = replyOf(firstReplies, index * 3 + 2)
    if (isWrongType(stream[0]) || isWrongType(groups[0])) notStreams.push(topic)
    else if (isWrongType(deadLetters[0])) notStreams.push(deadLetterKey(topic))
    read.push({topic, stream, groups, deadLetters})
  })
  const types = await keyTypes(redis, notStreams)

  const found: Array<{stats: TopicStats; groups: InfoObject[]}> = []
  for (const {topic, stream: streamReply, groups: groupsReply, deadLetters} of read) {
    if (isWrongType(streamReply[0]) || isWrongType(groupsReply[0])) {
      if (options.named === true) throw topicNotAStream(topic, types.get(topic), streamReply[0] ?? groupsReply[0])
      options.onWarning?.(skippedTopicWarning(topic, types.get(topic)))
      continue
    }
    if (isGone(streamReply[0]) || isGone(groupsReply[0])) {
      // Deleted, its dead letters left behind: shown (they still need replaying or purging), and counted by --max-dlq.
      const left = deadLetters[0] === null ? Number(deadLetters[1]) : 0
      if (left > 0) found.push({groups: [], stats: orphanedDeadLetters(topic, left)})
      continue
    }
    // The stream's own replies first: a refusal names the command that read the topic.
    const stream = infoObject(valueOf(streamReply))
    const groups = (valueOf(groupsReply) as unknown[]).map(infoObject)
    if (groups.length === 0 && options.deadLetterStreams?.has(topic) === true) continue
    const warnings: string[] = []
    let deadLetterCount = 0
    if (isWrongType(deadLetters[0])) warnings.push(deadLetterKeyWarning(topic, deadLetterKey(topic), types.get(deadLetterKey(topic))))
    else deadLetterCount = Number(valueOf(deadLetters))
    found.push({
      groups,
      stats: {
        topic,
        length: Number(stream.length),
        firstId: entryId(stream['first-entry']),
        lastId: entryId(stream['last-entry']),
        lastGeneratedId: stringOf(stream['last-generated-id']),
        entriesAdded: numberOf(stream['entries-added']),
        deadLetterKey: deadLetterKey(topic),
        deadLetters: deadLetterCount,
        groups: [],
        warnings,
      },
    })
  }

  const second = redis.pipeline()
  for (const {stats, groups} of found) {
    for (const group of groups) {
      second.call('XINFO', 'CONSUMERS', stats.topic, String(group.name))
      // The oldest pending entry (its ID, and its idle time: its age when its ID's time cannot be
      // trusted). The pending count is XINFO GROUPS's: no XPENDING summary, a command per group less.
      second.xpending(stats.topic, String(group.name), '-', '+', 1)
      // Replayed entries wait for this group in its replay stream: its lag and pending too.
      second.call('XINFO', 'GROUPS', replayKey(stats.topic, String(group.name)))
    }
  }
  // The replay streams' lag, added once the topic's own lag is known (it may still be counted below).
  const replayLag = new Map<GroupStats, number | null>()
  const secondReplies = found.some(({groups}) => groups.length > 0) ? ((await second.exec()) as Reply[] | null) : []
  let cursor = 0
  for (const {stats, groups} of found) {
    for (const group of groups) {
      const consumersReply = replyOf(secondReplies, cursor++)
      const oldestReply = replyOf(secondReplies, cursor++)
      const replay = replayState(replyOf(secondReplies, cursor++), String(group.name))
      // The group was destroyed (or the stream deleted) between the two round trips: it is gone.
      if (isGone(consumersReply[0]) || isGone(oldestReply[0])) continue
      const consumers = (valueOf(consumersReply) as unknown[]).map(infoObject)
      const [oldestEntry] = valueOf(oldestReply) as Array<[string, string, number, number]>
      // Acknowledged between the two round trips: nothing is pending any more.
      const pending = oldestEntry === undefined ? 0 : Math.max(1, Number(group.pending))
      const redisLag = numberOf(group.lag)
      stats.groups.push({
        name: String(group.name),
        lastDeliveredId: String(group['last-delivered-id']),
        entriesRead: numberOf(group['entries-read']),
        lag: redisLag,
        lagSource: redisLag === null ? 'unknown' : 'redis',
        pending: pending + replay.pending,
        oldestPendingId: oldestEntry === undefined ? null : String(oldestEntry[0]),
        oldestPendingIdleMs: oldestEntry === undefined ? null : Number(oldestEntry[2]),
        consumers: consumers.length,
        activeConsumers: consumers.filter(isActive).length,
        replayed: replay.lag === null ? replay.pending : replay.lag + replay.pending,
      })
      replayLag.set(stats.groups.at(-1) as GroupStats, replay.lag)
    }
    stats.groups.sort((a, b) => a.name.localeCompare(b.name))
  }

  // Redis reports lag as unknown after deletions or an arbitrary SETID: count what follows the
  // group's last-delivered ID, exactly, up to a limit.
  for (const {stats} of found) {
    for (const group of stats.groups) {
      if (group.lagSource !== 'unknown') continue
      const after = await redis.xrange(stats.topic, `(${group.lastDeliveredId}`, '+', 'COUNT', LAG_COUNT_LIMIT + 1)
      if (after.length <= LAG_COUNT_LIMIT) {
        group.lag = after.length
        group.lagSource = 'counted'
      }
    }
  }
  for (const [group, lag] of replayLag) {
    // Unknown in the replay stream is unknown for the group: a gate never passes on a guess.
    if (group.lag !== null) group.lag = lag === null ? null : group.lag + lag
    if (lag === null) group.lagSource = 'unknown'
  }
  return found.map(({stats}) => stats)
}

/**
 * A group's state in its replay stream, from XINFO GROUPS of that stream: nothing when the stream
 * does not exist (nothing was ever replayed to the group, and no worker of it ran since) or the group
 * has no group there; lag null when Redis cannot tell it.
 */
function replayState(reply: Reply, group: string): {lag: number | null; pending: number} {
  if (isGone(reply[0])) return {lag: 0, pending: 0}
  const mine = (valueOf(reply) as unknown[]).map(infoObject).find((row) => String(row.name) === group)
  if (mine === undefined) return {lag: 0, pending: 0}
  return {lag: numberOf(mine.lag), pending: Number(mine.pending)}
}

/** The stats of a topic that no longer exists but whose dead-letter stream holds entries. */
const orphanedDeadLetters = (topic: string, deadLetters: number): TopicStats => ({
  topic,
  length: 0,
  firstId: null,
  lastId: null,
  lastGeneratedId: null,
  entriesAdded: null,
  deadLetterKey: deadLetterKey(topic),
  deadLetters,
  groups: [],
  warnings: [`topic "${topic}" does not exist; its dead-letter stream "${deadLetterKey(topic)}" still holds ${deadLetters} entr${deadLetters === 1 ? 'y' : 'ies'}`],
})

/** Every stream key in the database (SCAN … TYPE stream), optionally matching a glob. */
export async function findStreams(redis: Redis, match: string): Promise<Set<string>> {
  const keys = new Set<string>()
  let cursor = '0'
  do {
    const [next, batch] = (await redis.call('SCAN', cursor, 'MATCH', match, 'COUNT', 1000, 'TYPE', 'stream')) as [string, string[]]
    cursor = next
    for (const key of batch) keys.add(key)
  } while (cursor !== '0')
  return keys
}

/** Every stream key in the database (SCAN … TYPE stream), optionally matching a glob, without dead-letter streams of listed topics. */
export async function findTopics(redis: Redis, match = '*'): Promise<string[]> {
  return withoutDeadLetterStreams(await findStreams(redis, match))
}

/**
 * What `lag` reads over the whole database: every topic; the topic of a dead-letter stream whose
 * topic was deleted (shown with its dead letters); and the dead-letter streams themselves, which
 * `topicStats` keeps only when a consumer group reads them (`deadLetterStreams`).
 */
export async function findTopicsAndDeadLetters(redis: Redis, match = '*'): Promise<{topics: string[]; deadLetterStreams: Set<string>}> {
  const keys = await findStreams(redis, match)
  const topics = new Set(withoutDeadLetterStreams(keys))
  const deadLetterStreams = new Set([...keys].filter((key) => !topics.has(key) && !isReplayKey(key)))
  for (const key of deadLetterStreams) {
    const candidates = topicsOfDeadLetterKey(key)
    if (candidates.length > 0 && !candidates.some((topic) => keys.has(topic))) topics.add(candidates[0] as string)
  }
  return {topics: [...topics, ...deadLetterStreams].sort(), deadLetterStreams}
}

/**
 * Stream keys minus dead-letter streams, sorted: those of other keys in the set, and any key that
 * is qctl's dead-letter stream of some topic (a glob may match a DLQ without its topic).
 */
export function withoutDeadLetterStreams(keys: Iterable<string>): string[] {
  const all = new Set(keys)
  const deadLetterStreams = new Set([...all].map(deadLetterKey))
  // Replay streams are read by their group's workers and counted in their topic's rows, never topics themselves.
  return [...all].filter((key) => !deadLetterStreams.has(key) && !isDeadLetterKey(key) && !isReplayKey(key)).sort()
}

/** When an entry was added, from its ID. */
export const addedAt = (id: string | null): number | null => idMs(id)
