import {deadLetterKey} from '../keys.js'
import {isCluster, type RedisClient} from '../redis/client.js'
import {ownerOf, primaries} from '../redis/cluster-nodes.js'
import {keySlot} from '../redis/key-slot.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {isNoSuchKey, isWrongType} from '../redis/reply-errors.js'
import type {SlotLayout} from '../partitions/placement.js'
import {entryId, infoObject, numberOf} from '../stats/xinfo.js'
import {topicNotAStream} from '../redis/key-type.js'

/** One partition's stream as `topic describe` shows it (`--json`: one element of `partitions`). */
export interface PartitionState {
  partition: number
  stream: string
  slot: number
  /** The primary that serves the slot (`host:port`), on a Redis Cluster; null on a single server. */
  node: string | null
  /** False until something was published to it (or a group created on it). */
  exists: boolean
  length: number
  firstId: string | null
  lastId: string | null
  groups: number
  /** Entries in the partition's dead-letter stream. */
  deadLetters: number
}

/**
 * The state of each stream of a topic, in one pipelined round trip (one per primary on a cluster):
 * XINFO STREAM of the stream and XLEN of its dead-letter stream, which shares its slot.
 */
export async function readPartitions(redis: RedisClient, streams: readonly string[]): Promise<PartitionState[]> {
  const asks = streams.flatMap((stream) => [{stream, key: stream, info: true}, {stream, key: deadLetterKey(stream), info: false}])
  const replies = await pipelineByKey(redis, asks, (ask) => ask.key, (pipeline, ask) => (ask.info ? pipeline.call('XINFO', 'STREAM', ask.key) : pipeline.xlen(ask.key)))
  return streams.map((stream, partition) => {
    const [infoError, info] = replies[2 * partition] ?? [new Error('no reply'), null]
    const [dlqError, dlqLength] = replies[2 * partition + 1] ?? [new Error('no reply'), null]
    if (infoError !== null && !isNoSuchKey(infoError)) throw isWrongType(infoError) ? topicNotAStream(stream, undefined, infoError) : infoError
    if (dlqError !== null && !isWrongType(dlqError)) throw dlqError
    const fields = infoError === null ? infoObject(info) : undefined
    return {
      partition,
      stream,
      slot: keySlot(stream),
      node: isCluster(redis) ? (ownerOf(redis, stream) ?? null) : null,
      exists: fields !== undefined,
      length: numberOf(fields?.length) ?? 0,
      firstId: entryId(fields?.['first-entry']),
      lastId: entryId(fields?.['last-entry']),
      groups: numberOf(fields?.groups) ?? 0,
      deadLetters: dlqError === null ? Number(dlqLength) : 0,
    }
  })
}

/** The slot layout `placePartitions` spreads over: the cluster's primaries and who owns each slot; undefined on one server. */
export function slotLayoutOf(redis: RedisClient): SlotLayout | undefined {
  if (!isCluster(redis)) return undefined
  const addresses = primaries(redis).map((node) => node.address)
  const index = new Map(addresses.map((address, at) => [address, at]))
  return {primaries: addresses, ownerOfSlot: (slot) => index.get(redis.slots[slot]?.[0] ?? '') ?? -1}
}

/** Whether each key exists, pipelined (one round trip per primary on a cluster). */
export async function existingKeys(redis: RedisClient, keys: readonly string[]): Promise<string[]> {
  const replies = await pipelineByKey(redis, keys, (key) => key, (pipeline, key) => pipeline.exists(key))
  return keys.filter((_key, index) => {
    const [error, found] = replies[index] ?? [new Error('no reply'), 0]
    if (error !== null) throw error
    return Number(found) > 0
  })
}

export {keySlot}
