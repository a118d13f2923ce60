import type {Redis} from 'ioredis'

import {deadLetterKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {classifyRedisError, type RedisErrorContext} from '../redis/redis-errors.js'
import {firstLineOf} from '../redis/reply-errors.js'
import type {GroupSnapshot, SnapshotSource, Snapshot, TopicSnapshot} from './snapshot.js'
import {focusParts, mergeFocusParts, queueFocus, type FocusPart, type FocusRead, type Reply} from './snapshot-focus.js'
import {metadataReplies, metadataScanArgs, queueMetadata, type MetadataReply} from './snapshot-metadata.js'
import {lagWithReplay, readOnOneNode, type RawGroup, type RawTopic, type TopicRead} from './topic-reading.js'
import {streamScanArgs} from './topic-stats.js'

/** Keys one refresh's SCAN step looks at; a big keyspace is covered over several refreshes. */
export const SCAN_STEP = 1000

export interface SnapshotExtras {
  /** A group to read in detail (consumers, oldest pending entries), on these streams. */
  focus?: FocusRead | null
  /**
   * Dead-letter streams to read as topics of their own: kept when consumer groups read them (an
   * archiver), left out otherwise (they are the DLQ column of their topic).
   */
  deadLetterStreams?: readonly string[]
  /** One SCAN step to add to the same round trip (topic discovery). */
  scan?: {cursor: string; match: string}
  /** One SCAN step over partitioned topics' metadata keys (`qctl:topic:{<match>}`), in the same round trip. */
  metadataScan?: {cursor: string; match: string}
  /** Topics whose metadata hash to read in the same round trip: new ones, and known ones now and then (snapshot-partitions.ts). */
  metadataTopics?: readonly string[]
  /**
   * What to read of the topics: `full` (the default) all `top` shows, read as topic-reading.ts's
   * `top` (no stream IDs: `top` shows none); `rates` only for a snapshot that serves as the start of rates.
   */
  reading?: 'full' | 'rates'
}

/** A key read as a topic or a dead-letter stream that holds something else. */
export interface NotAStream {
  key: string
  /** The topic it was read for. */
  topic: string
  role: 'topic' | 'dead-letter stream'
}

export interface Reading {
  /** A row per stream read: a partitioned topic's partitions are rows named by their streams here (snapshot-partitioned.ts merges them). */
  snapshot: Snapshot
  /** The SCAN step's reply, when one was asked for. */
  scanned?: {cursor: string; keys: string[]}
  /** The metadata SCAN step's reply, when one was asked for. */
  metadataScanned?: {cursor: string; keys: string[]}
  /** The metadata hashes asked for, by topic. */
  metadata: Map<string, MetadataReply>
  /** The focused group's detail on each stream read here that has the group (`snapshot.focus` is their merge). */
  focusParts: FocusPart[]
  /** Keys that are not streams: such a topic is left out, such a dead-letter stream counts 0. */
  notStreams: NotAStream[]
}

/** A group as top shows it, with its replay stream's entries in its lag and pending (as `lag` counts them). */
function groupSnapshot(group: RawGroup): GroupSnapshot {
  return {
    name: group.name,
    entriesRead: group.entriesRead,
    lag: lagWithReplay(group.lag, group.replay.lag),
    pending: group.pending + group.replay.pending,
    parkedPending: group.parkedPending,
    oldestPendingId: group.oldestPendingId,
    oldestPendingIdleMs: group.oldestPendingIdleMs,
    consumers: group.consumers,
    activeConsumers: group.activeConsumers,
  }
}

/**
 * The row of a topic whose stream does not exist: deleted while its dead-letter stream still holds
 * entries, or not made yet while messages are scheduled for it (its first entries, when due).
 */
const missingTopic = ({topic, deadLetters, scheduled, scheduledDue}: Extract<RawTopic, {kind: 'missing'}>): TopicSnapshot => ({
  topic,
  length: 0,
  entriesAdded: deadLetters > 0 ? null : 0,
  deadLetters,
  deadLettersAdded: null,
  scheduled,
  scheduledDue,
  groups: [],
  kind: deadLetters > 0 ? 'orphaned-dead-letters' : 'topic',
})

/** The replies of one pipeline, in the order the commands were queued. */
class ReplyReader {
  private index = 0
  constructor(private readonly replies: readonly Reply[]) {}
  next(): Reply {
    return this.replies[this.index++] ?? [new Error('missing reply'), null]
  }
}

/** A SCAN step's reply; an error (a refused SCAN) fails the refresh. */
function scanReply([error, reply]: Reply): {cursor: string; keys: string[]} {
  if (error !== null) throw error
  const [cursor, keys] = reply as [string, string[]]
  return {cursor, keys}
}

/**
 * One reading of many topics in ONE round trip, whatever their number: the topics, their groups,
 * consumers, oldest pending entries and dead-letter streams (topic-reading.ts: a script call per
 * hundred topics), and, in a pipeline sent in the same write on the same connection, the SCAN
 * steps (streams, partitioned topics' metadata keys), the metadata hashes asked for and the detail
 * of a focused group. (A user who may not run the script reads with plain commands: two round trips.)
 * Topics that vanished are left out; keys that are not streams are left out (a topic) or count 0
 * (a dead-letter stream), and listed in `notStreams`. A partitioned topic's partitions are read as
 * the streams they are; the caller merges them.
 */
export async function readSnapshot(redis: Redis, topics: readonly string[], extras: SnapshotExtras = {}, callPerSlot = false): Promise<Reading> {
  const reads: TopicRead[] = topics.map((topic) => ({topic}))
  for (const stream of extras.deadLetterStreams ?? []) reads.push({topic: stream, deadLetterStream: true})
  const pipeline = redis.pipeline()
  if (extras.scan !== undefined) pipeline.call('SCAN', extras.scan.cursor, ...streamScanArgs(extras.scan.match, SCAN_STEP))
  if (extras.metadataScan !== undefined) pipeline.call('SCAN', extras.metadataScan.cursor, ...metadataScanArgs(extras.metadataScan.match, SCAN_STEP))
  const focus = extras.focus ?? null
  if (focus !== null) queueFocus(pipeline, focus)
  const metadataTopics = extras.metadataTopics ?? []
  queueMetadata(pipeline, metadataTopics)
  const reading = {reading: extras.reading === 'rates' ? 'rates' : 'top'} as const
  // The script's pipeline and this one leave in ONE write: as two, a fast reply to the first could
  // come back before the second was sent, a turn of the conversation more (seen through a counting
  // proxy on a busy machine). Both are written synchronously, so corking the socket around them
  // joins them.
  const socket = redis.status === 'ready' ? redis.stream : undefined
  socket?.cork()
  let sent: Promise<[Awaited<ReturnType<typeof readOnOneNode>>, unknown]>
  try {
    sent = Promise.all([readOnOneNode(redis, reads, reading, callPerSlot), pipeline.length > 0 ? pipeline.exec() : Promise.resolve([])])
  } finally {
    socket?.uncork()
  }
  const [raw, replies] = await sent
  const at = Date.now()

  const reader = new ReplyReader((replies ?? []) as Reply[])
  const next = (): Reply => reader.next()
  const scanned = extras.scan === undefined ? undefined : scanReply(next())
  const metadataScanned = extras.metadataScan === undefined ? undefined : scanReply(next())
  const parts = focus === null ? [] : focusParts(next, focus, at)
  const metadata = metadataReplies(next, metadataTopics)

  const snapshots: TopicSnapshot[] = []
  const notStreams: NotAStream[] = []
  raw.forEach((topic, index) => {
    const deadLetterStream = (reads[index] as TopicRead).deadLetterStream === true
    if (topic.kind === 'not-a-stream') {
      notStreams.push({key: topic.topic, topic: topic.topic, role: 'topic'})
      return
    }
    if (topic.kind === 'missing') {
      // Deleted, its dead letters left behind: shown (they still need replaying or purging), as `lag` does.
      // Or not made yet, messages scheduled for it: shown with them.
      if (topic.deadLetters > 0 || (topic.scheduled ?? 0) > 0) snapshots.push(missingTopic(topic))
      return
    }
    if (deadLetterStream && topic.groups.length === 0) return
    if (topic.deadLetters.state === 'not-a-stream') notStreams.push({key: deadLetterKey(topic.topic), topic: topic.topic, role: 'dead-letter stream'})
    const dlq = topic.deadLetters.state === 'stream' ? topic.deadLetters : undefined
    snapshots.push({
      topic: topic.topic,
      length: topic.length,
      entriesAdded: topic.entriesAdded,
      deadLetters: dlq?.length ?? 0,
      deadLettersAdded: dlq?.entriesAdded ?? null,
      scheduled: topic.scheduled,
      scheduledDue: topic.scheduledDue,
      groups: topic.groups.map(groupSnapshot),
      kind: deadLetterStream ? 'dead-letter-stream' : 'topic',
    })
  })

  const snapshot: Snapshot = {at, topics: snapshots, focus: focus === null ? null : mergeFocusParts(focus, parts)}
  return {
    snapshot,
    metadata,
    focusParts: parts,
    notStreams,
    ...(scanned === undefined ? {} : {scanned}),
    ...(metadataScanned === undefined ? {} : {metadataScanned}),
  }
}

/**
 * The source, with failures explained in qctl's one-line words (the classification every command
 * uses, redis-errors.ts), by the connection's own last error while it is down: a refresh queued
 * during a reconnect only says "Command timed out", the client's error event says why (connection
 * refused, DNS, TLS). Errors Redis does not explain keep their first line.
 */
export function explainingConnectionErrors(source: SnapshotSource, redis: RedisClient, context: RedisErrorContext): SnapshotSource {
  const explained = (error: unknown): string => classifyRedisError(error, context)?.message ?? firstLineOf(error)
  let lastError: Error | undefined
  redis.on('error', (error: Error) => {
    lastError = error
  })
  redis.on('ready', () => {
    lastError = undefined
  })
  return {
    async refresh(focus) {
      try {
        return await source.refresh(focus)
      } catch (error) {
        if (redis.status === 'ready' || lastError === undefined) throw new Error(explained(error), {cause: error})
        throw new Error(`${explained(lastError)} (retrying)`, {cause: error})
      }
    },
  }
}
