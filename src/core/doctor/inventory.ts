import {isQctlError} from '../errors.js'
import {isDeadLetterKey, ownersOfStreamKey, replayKey, replayKeyOwners, replayRetryKeyOwners, retryKeyOwners, topicMetadataKey, topicOfMetadataKey, topicsOfDeadLetterKey} from '../keys.js'
import {parseMetadata, type TopicLayout} from '../partitions/metadata.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {isWrongType} from '../redis/reply-errors.js'
import {scanKeys} from '../redis/scan.js'
import {streamScanArgs} from '../stats/topic-stats.js'

/**
 * What `qctl doctor` looks at, found by two SCANs of every primary (in parallel): the streams
 * (`TYPE stream`, as `lag` finds topics), and every key named like one of qctl's (a `{…}` in the
 * name: dead-letter and replay streams, retry hashes, partitioned topics' metadata and partitions),
 * whatever it holds, so a key that only looks like qctl's is found too.
 */

export type StreamRole = 'topic' | 'dead-letters' | 'replay'

/** Where a stream belongs: a topic (a partition of one), its dead letters, or a group's replay stream. */
export interface StreamPlace {
  key: string
  role: StreamRole
  /** The topic: the stream itself for a plain topic, the partitioned topic's name for its partitions and their keys. */
  topic: string
  partition: number | null
  /** The group a replay stream replays to; null otherwise. */
  group: string | null
}

/** A group's retry hash (`{S}:retry:G`, or its replay stream's `{S}:replay-retry:G`), and the stream its records name entries of. */
export interface RetryHashPlace {
  key: string
  /** The topic stream S (a partition's stream) the hash derives from. */
  stream: StreamPlace
  group: string
  lane: 'topic' | 'replay'
  /** The stream its records' entry IDs are of: S, or the group's replay stream of S. */
  entriesKey: string
}

/** A stream's schedule (`{S}:scheduled`: messages of publish --delay / --at held until due), and the stream they go to. */
export interface SchedulePlace {
  key: string
  /** The topic stream S (a partition's stream) the messages are appended to when due. */
  stream: StreamPlace
}

/** A key named like qctl's that holds another type (found by WRONGTYPE replies). */
export interface WrongTypeKey {
  key: string
  expected: 'stream' | 'hash' | 'sorted set'
  /** What qctl would use it as: `dead-letters`, `replay`, `partition`, `metadata`, `retry`, `schedule`. */
  as: 'dead-letters' | 'replay' | 'partition' | 'metadata' | 'retry' | 'schedule'
  topic: string
  partition: number | null
  group: string | null
}

export interface BadMetadata {
  key: string
  topic: string
  problem: string
}

export interface Inventory {
  /** Every key to read as a stream (those found, the partitions' streams, keys named like dead-letter or replay streams). */
  streams: StreamPlace[]
  partitioned: TopicLayout[]
  retryHashes: RetryHashPlace[]
  schedules: SchedulePlace[]
  wrongType: WrongTypeKey[]
  badMetadata: BadMetadata[]
}

/** SCAN's arguments for keys named like qctl's whose topic matches `match`: a `{…}` holding it. */
const qctlNameScanArgs = (match: string): Array<string | number> => ['MATCH', `*{${match}}*`, 'COUNT', 1000]

export async function takeInventory(redis: RedisClient, match: string): Promise<Inventory> {
  const [streamKeys, qctlNames] = await Promise.all([scanKeys(redis, streamScanArgs(match)), scanKeys(redis, qctlNameScanArgs(match))])
  const {partitioned, wrongType, badMetadata} = await readMetadata(redis, [...qctlNames].filter((key) => topicOfMetadataKey(key) !== undefined).sort())
  const places = new Places(partitioned, new Set([...streamKeys, ...partitioned.flatMap((layout) => layout.streams)]))

  const candidates = new Set(streamKeys)
  for (const layout of partitioned) for (const stream of layout.streams) candidates.add(stream)
  for (const key of qctlNames) if (isDeadLetterKey(key) || replayKeyOwners(key).length > 0) candidates.add(key)
  const streams = [...candidates].sort().map((key) => places.of(key))

  const retryHashes: RetryHashPlace[] = []
  const schedules: SchedulePlace[] = []
  for (const key of [...qctlNames].sort()) {
    const found = places.retryHash(key)
    if (found !== undefined) retryHashes.push(found)
    const schedule = places.schedule(key)
    if (schedule !== undefined) schedules.push(schedule)
  }
  return {streams, partitioned, retryHashes, schedules, wrongType, badMetadata}
}

/** The partitioned topics' metadata (one pipelined HGETALL per key), with the keys that are not hashes or not records qctl wrote. */
async function readMetadata(redis: RedisClient, keys: readonly string[]): Promise<{partitioned: TopicLayout[]; wrongType: WrongTypeKey[]; badMetadata: BadMetadata[]}> {
  const topics = keys.map((key) => topicOfMetadataKey(key) as string)
  const replies = await pipelineByKey(redis, topics, topicMetadataKey, (pipeline, topic) => pipeline.hgetall(topicMetadataKey(topic)))
  const partitioned: TopicLayout[] = []
  const wrongType: WrongTypeKey[] = []
  const badMetadata: BadMetadata[] = []
  topics.forEach((topic, index) => {
    const [error, fields] = replies[index] ?? [new Error('no reply'), null]
    const key = topicMetadataKey(topic)
    if (error !== null) {
      if (!isWrongType(error)) throw error
      wrongType.push({key, expected: 'hash', as: 'metadata', topic, partition: null, group: null})
      return
    }
    const record = fields as Record<string, string>
    // Deleted between the SCAN and the read.
    if (Object.keys(record).length === 0) return
    try {
      const metadata = parseMetadata(topic, record)
      partitioned.push({topic, streams: metadata.streams, metadata})
    } catch (problem) {
      if (!isQctlError(problem)) throw problem
      badMetadata.push({key, topic, problem: problem.message})
    }
  })
  return {partitioned, wrongType, badMetadata}
}

/** Where keys belong, given the partitioned topics and the streams known to exist. */
class Places {
  private readonly partitionOf = new Map<string, {topic: string; partition: number}>()

  constructor(
    partitioned: readonly TopicLayout[],
    private readonly streams: ReadonlySet<string>,
  ) {
    for (const layout of partitioned) layout.streams.forEach((stream, partition) => this.partitionOf.set(stream, {topic: layout.topic, partition}))
  }

  /** Of the streams a derived key could belong to, one that exists (else the first). */
  private pick<T>(owners: readonly T[], streamOf: (owner: T) => string): T | undefined {
    return owners.find((owner) => this.streams.has(streamOf(owner))) ?? owners[0]
  }

  /** A topic stream: a partition of a partitioned topic, or a plain topic. */
  topicStream(key: string): StreamPlace {
    const partition = this.partitionOf.get(key)
    return partition === undefined ? {key, role: 'topic', topic: key, partition: null, group: null} : {key, role: 'topic', topic: partition.topic, partition: partition.partition, group: null}
  }

  of(key: string): StreamPlace {
    if (this.partitionOf.has(key)) return this.topicStream(key)
    if (isDeadLetterKey(key)) {
      const owner = this.pick(topicsOfDeadLetterKey(key), (topic) => topic) as string
      return {...this.topicStream(owner), key, role: 'dead-letters'}
    }
    const replay = this.pick(replayKeyOwners(key), (owner) => owner.stream)
    if (replay !== undefined) return {...this.topicStream(replay.stream), key, role: 'replay', group: replay.group}
    return this.topicStream(key)
  }

  /** A stream's schedule; its stream need not exist yet (a topic published to only with --delay). */
  schedule(key: string): SchedulePlace | undefined {
    const stream = this.pick(ownersOfStreamKey(key, 'scheduled'), (owner) => owner)
    return stream === undefined ? undefined : {key, stream: this.topicStream(stream)}
  }

  retryHash(key: string): RetryHashPlace | undefined {
    const topicLane = this.pick(retryKeyOwners(key), (owner) => owner.stream)
    if (topicLane !== undefined) return {key, stream: this.topicStream(topicLane.stream), group: topicLane.group, lane: 'topic', entriesKey: topicLane.stream}
    const replayLane = this.pick(replayRetryKeyOwners(key), (owner) => owner.stream)
    if (replayLane === undefined) return undefined
    return {key, stream: this.topicStream(replayLane.stream), group: replayLane.group, lane: 'replay', entriesKey: replayKey(replayLane.stream, replayLane.group)}
  }
}
