import type {Redis} from 'ioredis'

import {deadLetterKey, isDeadLetterKey} from '../keys.js'
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
  consumers: number
  activeConsumers: number
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
}

type Reply = [Error | null, unknown]

const replyOf = (replies: Reply[] | null, index: number): unknown => {
  const reply = replies?.[index]
  if (reply === undefined) throw new Error('missing reply')
  if (reply[0] !== null) throw reply[0]
  return reply[1]
}

/** Consumers that read recently: `inactive` (Redis 7.2+) when reported, else `idle`. */
export const isActive = (consumer: InfoObject): boolean => Number(consumer.inactive ?? consumer.idle) < ACTIVE_WINDOW_MS

/**
 * Statistics of several topics in two pipelined round trips (streams, groups and dead-letter
 * lengths; then consumers and pending summaries), plus a bounded count where Redis reports lag
 * as unknown. Topics that are not streams or do not exist are left out.
 */
export async function topicStats(redis: Redis, topics: readonly string[]): Promise<TopicStats[]> {
  if (topics.length === 0) return []
  const first = redis.pipeline()
  for (const topic of topics) {
    first.call('XINFO', 'STREAM', topic)
    first.call('XINFO', 'GROUPS', topic)
    first.xlen(deadLetterKey(topic))
  }
  const firstReplies = (await first.exec()) as Reply[] | null

  const found: Array<{stats: TopicStats; groups: InfoObject[]}> = []
  topics.forEach((topic, index) => {
    let stream: InfoObject
    let groups: InfoObject[]
    try {
      stream = infoObject(replyOf(firstReplies, index * 3))
      groups = (replyOf(firstReplies, index * 3 + 1) as unknown[]).map(infoObject)
    } catch (error) {
      if (error instanceof Error && /no such key|WRONGTYPE/i.test(error.message)) return
      throw error
    }
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
        deadLetters: Number(replyOf(firstReplies, index * 3 + 2)),
        groups: [],
      },
    })
  })

  const second = redis.pipeline()
  for (const {stats, groups} of found) {
    for (const group of groups) {
      second.call('XINFO', 'CONSUMERS', stats.topic, String(group.name))
      second.xpending(stats.topic, String(group.name))
    }
  }
  const secondReplies = found.some(({groups}) => groups.length > 0) ? ((await second.exec()) as Reply[] | null) : []
  let cursor = 0
  for (const {stats, groups} of found) {
    for (const group of groups) {
      const consumers = (replyOf(secondReplies, cursor++) as unknown[]).map(infoObject)
      const [pending, oldest] = replyOf(secondReplies, cursor++) as [number, string | null]
      const redisLag = numberOf(group.lag)
      stats.groups.push({
        name: String(group.name),
        lastDeliveredId: String(group['last-delivered-id']),
        entriesRead: numberOf(group['entries-read']),
        lag: redisLag,
        lagSource: redisLag === null ? 'unknown' : 'redis',
        pending: Number(pending),
        oldestPendingId: oldest,
        consumers: consumers.length,
        activeConsumers: consumers.filter(isActive).length,
      })
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
  return found.map(({stats}) => stats)
}

/** Every stream key in the database (SCAN … TYPE stream), optionally matching a glob, without dead-letter streams of listed topics. */
export async function findTopics(redis: Redis, match = '*'): Promise<string[]> {
  const keys = new Set<string>()
  let cursor = '0'
  do {
    const [next, batch] = (await redis.call('SCAN', cursor, 'MATCH', match, 'COUNT', 1000, 'TYPE', 'stream')) as [string, string[]]
    cursor = next
    for (const key of batch) keys.add(key)
  } while (cursor !== '0')
  return withoutDeadLetterStreams(keys)
}

/**
 * Stream keys minus dead-letter streams, sorted: those of other keys in the set, and any key that
 * is qctl's dead-letter stream of some topic (a glob may match a DLQ without its topic).
 */
export function withoutDeadLetterStreams(keys: Iterable<string>): string[] {
  const all = new Set(keys)
  const deadLetterStreams = new Set([...all].map(deadLetterKey))
  return [...all].filter((key) => !deadLetterStreams.has(key) && !isDeadLetterKey(key)).sort()
}

/** When an entry was added, from its ID. */
export const addedAt = (id: string | null): number | null => idMs(id)
