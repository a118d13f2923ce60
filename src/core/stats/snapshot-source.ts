import type {Redis} from 'ioredis'

import {deadLetterKey} from '../keys.js'
import type {GroupSnapshot, Snapshot, TopicSnapshot} from './snapshot.js'
import {ACTIVE_WINDOW_MS} from './topic-stats.js'
import {infoObject, numberOf, type InfoObject} from './xinfo.js'

/** Groups seen in the previous snapshot, per topic: their consumers are read in the same round trip. */
export type KnownGroups = ReadonlyMap<string, readonly string[]>

type Reply = [Error | null, unknown]

const missingKey = (error: Error | null): boolean => error !== null && /no such key/i.test(error.message)

const isActive = (consumer: InfoObject): boolean => Number(consumer.inactive ?? consumer.idle) < ACTIVE_WINDOW_MS

/**
 * One snapshot of many topics in ONE pipelined round trip, whatever their number: per topic
 * XINFO STREAM, XINFO GROUPS and XINFO STREAM of its dead-letter stream; per group known from the
 * previous snapshot, XINFO CONSUMERS and the XPENDING summary. A group that just appeared gets its
 * consumer details on the next refresh. Topics that vanished are left out.
 */
export async function takeSnapshot(redis: Redis, topics: readonly string[], known: KnownGroups = new Map()): Promise<Snapshot> {
  const pipeline = redis.pipeline()
  const plan = topics.map((topic) => {
    pipeline.call('XINFO', 'STREAM', topic)
    pipeline.call('XINFO', 'GROUPS', topic)
    pipeline.call('XINFO', 'STREAM', deadLetterKey(topic))
    const groups = known.get(topic) ?? []
    for (const group of groups) {
      pipeline.call('XINFO', 'CONSUMERS', topic, group)
      pipeline.xpending(topic, group)
    }
    return {topic, groups}
  })
  const replies = ((await pipeline.exec()) ?? []) as Reply[]
  const at = Date.now()

  let cursor = 0
  const next = (): Reply => replies[cursor++] ?? [new Error('missing reply'), null]
  const snapshots: TopicSnapshot[] = []
  for (const {topic, groups: knownGroups} of plan) {
    const [streamError, stream] = next()
    const [groupsError, groupsReply] = next()
    const [dlqError, dlq] = next()
    const details = new Map<string, {consumers: InfoObject[]; oldestPendingId: string | null}>()
    for (const group of knownGroups) {
      const [consumersError, consumers] = next()
      const [pendingError, pending] = next()
      if (consumersError === null && pendingError === null) {
        details.set(group, {consumers: (consumers as unknown[]).map(infoObject), oldestPendingId: (pending as [number, string | null])[1]})
      }
    }
    if (missingKey(streamError) || groupsError !== null) continue
    if (streamError !== null) throw streamError
    if (dlqError !== null && !missingKey(dlqError)) throw dlqError
    const streamInfo = infoObject(stream)
    const dlqInfo = dlqError === null ? infoObject(dlq) : undefined
    snapshots.push({
      topic,
      length: Number(streamInfo.length),
      entriesAdded: numberOf(streamInfo['entries-added']),
      deadLetters: dlqInfo === undefined ? 0 : Number(dlqInfo.length),
      deadLettersAdded: dlqInfo === undefined ? null : numberOf(dlqInfo['entries-added']),
      groups: (groupsReply as unknown[]).map(infoObject).map((group): GroupSnapshot => {
        const detail = details.get(String(group.name))
        return {
          name: String(group.name),
          entriesRead: numberOf(group['entries-read']),
          lag: numberOf(group.lag),
          pending: Number(group.pending),
          oldestPendingId: detail?.oldestPendingId ?? null,
          consumers: Number(group.consumers),
          activeConsumers: detail === undefined ? null : detail.consumers.filter(isActive).length,
        }
      }),
    })
  }
  return {at, topics: snapshots}
}

/** The groups of a snapshot, to pass as `known` to the next one. */
export const groupsOf = (snapshot: Snapshot): KnownGroups =>
  new Map(snapshot.topics.map((topic) => [topic.topic, topic.groups.map((group) => group.name)]))
