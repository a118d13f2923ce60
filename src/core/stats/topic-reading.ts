import type {Redis} from 'ioredis'

import {deadLetterKey, replayKey, scheduleKey, topicKeysShareSlot} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {isCluster} from '../redis/client.js'
import {onEachOwner} from '../redis/cluster-nodes.js'
import {keySlot} from '../redis/key-slot.js'
import {scriptsUnavailable, sendReadOnlyScript, type ScriptCall} from '../redis/read-only-script.js'
import {isNoGroup, isNoSuchKey, isWrongType} from '../redis/reply-errors.js'
import {PARKED_CONSUMER} from '../worker/group-ops.js'
import {entryId, infoObject, numberOf, stringOf, type InfoObject} from './xinfo.js'

/**
 * What Redis says about topics, before any command gives it meaning: the one reading behind
 * `lag`, `inspect` and `top`. Normally read by the script read-topics-n.lua (one short reply per
 * topic); for a user or server that cannot run it, with plain commands (two round trips).
 */

/** A consumer counts as active if it read within this window. */
export const ACTIVE_WINDOW_MS = 60_000

/**
 * Consumers alive in the last minute, by `idle`. On Redis 7.2+ `idle` counts from the last read
 * attempt, a read blocked on a quiet stream included (`inactive` counts from the last read that
 * returned entries: a healthy idle worker would look dead after a minute). On 7.0 `idle` counts from
 * the last read that returned something; qctl workers keep it fresh with their liveness beat
 * (worker/liveness.ts), other consumers on 7.0 look inactive once idle for a minute.
 */
const isActive = (consumer: InfoObject): boolean => Number(consumer.idle) < ACTIVE_WINDOW_MS

export interface TopicRead {
  topic: string
  /** A dead-letter stream read as a topic of its own (for groups reading it): no DLQ or replay streams of its own. */
  deadLetterStream?: boolean
}

export interface ReadTopicsOptions {
  /**
   * - `full` (the default): everything, with the entries ever added to the topic and its
   *   dead-letter stream (for rates) and the stream's first, last and last generated IDs;
   * - `lag`: without those (null): what `lag` shows, at two thirds of the cost;
   * - `top`: as `full` without the stream's IDs (null), which `top` does not show: the entries
   *   ever added come from the groups' counters where they tell it (read-topics-n.lua), so the
   *   costly XINFO STREAM is read only for topics whose groups do not;
   * - `rates`: as `top`, but of each group only its counters (entries read, lag, pending,
   *   consumers, replay; activeConsumers, parkedPending and the oldest pending entry null): the
   *   first reading of `top --once`, which only serves as the start of its rates.
   * (Plain commands, for users who may not run the script, always read everything.)
   */
  reading?: 'full' | 'lag' | 'top' | 'rates'
}

export interface RawGroup {
  name: string
  lastDeliveredId: string
  entriesRead: number | null
  /** Null when Redis cannot tell it. */
  lag: number | null
  pending: number
  consumers: number
  /** Null when not read (`reading: 'rates'`). */
  activeConsumers: number | null
  /** Of `pending`, the entries parked waiting out a retry backoff (qctl's parked pseudo-consumer); null when not read. */
  parkedPending: number | null
  oldestPendingId: string | null
  /** Since the oldest pending entry was last delivered (XPENDING idle time). */
  oldestPendingIdleMs: number | null
  /** The group on its replay stream (`dlq replay`); lag 0 and pending 0 when it has none. */
  replay: {lag: number | null; pending: number}
}

/**
 * A group's lag with its replay stream's (entries `dlq replay` sent it, not yet delivered): unknown
 * in either is unknown for the group, so a gate never passes on a guess.
 */
export const lagWithReplay = (lag: number | null, replayLag: number | null): number | null => (lag === null || replayLag === null ? null : lag + replayLag)

export type RawDeadLetters = {state: 'stream'; length: number; entriesAdded: number | null} | {state: 'none'} | {state: 'not-a-stream'}

/**
 * A topic's schedule (publish --delay / --at; keys.ts scheduleKey): the messages it holds, and of
 * them those already due by Redis's clock (held past their time: nothing appends them). 0 and 0 for
 * a dead-letter stream read as a topic; null where it could not be read (the key holds something
 * else, or the user may not read it: an optional figure never fails a reading).
 */
export interface RawSchedule {
  scheduled: number | null
  scheduledDue: number | null
}

/** `node`: on a Redis Cluster, the primary (`host:port`) the topic was read from, which owns its slot. */
export type RawTopic =
  | ({topic: string; kind: 'missing'; deadLetters: number; node?: string} & RawSchedule)
  | {topic: string; kind: 'not-a-stream'; node?: string}
  | ({
      topic: string
      node?: string
      kind: 'stream'
      length: number
      firstId: string | null
      lastId: string | null
      lastGeneratedId: string | null
      entriesAdded: number | null
      deadLetters: RawDeadLetters
      groups: RawGroup[]
    } & RawSchedule)

/** Topics per script call: each call holds Redis for about 20 µs a topic, so a call stays near 2 ms. */
const TOPICS_PER_CALL = 100

/**
 * Topics read per pair of pipelines on the command path. One pipeline over 10,000 topics keeps
 * 40,000 commands and their replies alive at once, and the garbage collector's copying of them
 * cost more than reading them (measured with --cpu-prof); in slices the live set stays small.
 */
const TOPICS_PER_SLICE = 1000

/** Connections on which the script was refused: they read with commands from then on. */
const commandsOnly = new WeakSet<RedisClient>()

/**
 * Connections on which the script was refused while it named the topics' schedules (an ACL written
 * before qctl read them, whose key patterns leave them out: Redis refuses a call when any declared
 * key is out of reach): they call it without, and their schedules count as unknown.
 */
const withoutSchedules = new WeakSet<RedisClient>()

/**
 * The topics' readings, in the order asked. On a Redis Cluster, per primary in parallel (each
 * primary's topics in one round trip to it; cluster-nodes.ts), with one script call per hash slot:
 * a script may not touch keys of two slots, even on one node. There a topic whose dead-letter and
 * replay keys cannot share its slot (a topic like `x}y`, which qctl refuses to work in cluster
 * mode) is read without them.
 */
export async function readTopics(redis: RedisClient, reads: readonly TopicRead[], options: ReadTopicsOptions = {}): Promise<RawTopic[]> {
  if (reads.length === 0) return []
  if (isCluster(redis)) {
    const safe = reads.map((read) => (read.deadLetterStream === true || topicKeysShareSlot(read.topic) ? read : {...read, deadLetterStream: true}))
    const raw = await onEachOwner(redis, safe, (read) => read.topic, async (node, part) => (await readOnOneNode(node.redis, part, options, true)).map((topic) => ({...topic, node: node.address})))
    // Read without its derived keys, the topic is still a topic (no dead letters counted), not a DLQ.
    return raw.map((topic, index) => (topic.kind === 'stream' && safe[index] !== reads[index] ? {...topic, deadLetters: {state: 'none'}} : topic))
  }
  return readOnOneNode(redis, reads, options, false)
}

/**
 * The readings of topics that all live on the one node `redis` is connected to (a single server, or
 * one cluster primary: then `callPerSlot`, and no redirection is followed: a MOVED fails it).
 */
export async function readOnOneNode(redis: Redis, reads: readonly TopicRead[], options: ReadTopicsOptions, callPerSlot: boolean): Promise<RawTopic[]> {
  if (reads.length === 0) return []
  while (!commandsOnly.has(redis)) {
    const schedules = !withoutSchedules.has(redis)
    try {
      return await readWithScript(redis, reads, options, callPerSlot, schedules)
    } catch (error) {
      if (!scriptsUnavailable(error)) throw error
      if (schedules) withoutSchedules.add(redis)
      else commandsOnly.add(redis)
    }
  }
  const topics: RawTopic[] = []
  for (let start = 0; start < reads.length; start += TOPICS_PER_SLICE) {
    for (const topic of await readWithCommands(redis, reads.slice(start, start + TOPICS_PER_SLICE), options)) topics.push(topic)
  }
  return topics
}

// ---- the script path -------------------------------------------------------------------------

/** Reads in groups of at most TOPICS_PER_CALL; with `perSlot`, each group's topics share a hash slot. */
function callGroups(reads: readonly TopicRead[], perSlot: boolean): Array<Array<{read: TopicRead; index: number}>> {
  const indexed = reads.map((read, index) => ({read, index}))
  const runs: Array<Array<{read: TopicRead; index: number}>> = []
  const bySlot = new Map<number, Array<{read: TopicRead; index: number}>>()
  if (perSlot) {
    for (const entry of indexed) {
      const slot = keySlot(entry.read.topic)
      const run = bySlot.get(slot) ?? []
      run.push(entry)
      bySlot.set(slot, run)
    }
  }
  for (const run of perSlot ? bySlot.values() : [indexed]) {
    for (let start = 0; start < run.length; start += TOPICS_PER_CALL) runs.push(run.slice(start, start + TOPICS_PER_CALL))
  }
  return runs
}

async function readWithScript(redis: Redis, reads: readonly TopicRead[], options: ReadTopicsOptions, perSlot: boolean, schedules: boolean): Promise<RawTopic[]> {
  const calls: ScriptCall[] = []
  const groups = callGroups(reads, perSlot)
  for (const group of groups) {
    const keys: string[] = []
    const args: string[] = [String(ACTIVE_WINDOW_MS), PARKED_CONSUMER, options.reading ?? 'full', schedules ? '1' : '0']
    for (const {read: {topic, deadLetterStream}} of group) {
      keys.push(topic)
      if (deadLetterStream === true) args.push('')
      else {
        keys.push(deadLetterKey(topic))
        if (schedules) keys.push(scheduleKey(topic))
        args.push(replayKeyPrefix(topic))
      }
    }
    calls.push({keys, args})
  }
  // Each call's rows are decoded as its reply arrives, while Redis runs the calls behind it.
  const topics = new Array<RawTopic>(reads.length)
  const decoded = sendReadOnlyScript(redis, 'read-topics-n.lua', calls).map(async (replied, call) => {
    const group = groups[call] ?? []
    const [error, reply] = await replied
    if (error !== null) throw error
    ;(reply as unknown[][]).forEach((row, at) => {
      const {read, index} = group[at] as {read: TopicRead; index: number}
      // A dead-letter stream read as a topic has no schedule: the script says 0 and 0.
      topics[index] = decodeRow(read.topic, row, schedules || read.deadLetterStream === true)
    })
  })
  await Promise.all(decoded)
  return topics
}

/** The replay stream of group G is this prefix followed by G (keys.ts builds every key name). */
const replayKeyPrefix = (topic: string): string => replayKey(topic, '')

const GROUP_FIELDS = 12

/** A schedule as the script read it (`read`: whether it was asked to; if not, the user may not name it: unknown). */
const scheduleRead = (scheduled: unknown, due: unknown, read: boolean): RawSchedule => (read ? {scheduled: numberOf(scheduled), scheduledDue: numberOf(due)} : {scheduled: null, scheduledDue: null})

/** One topic's array from read-topics-n.lua (see its header for the layout). */
function decodeRow(topic: string, row: readonly unknown[], schedules: boolean): RawTopic {
  const kind = String(row[0])
  if (kind === 'missing') return {topic, kind, deadLetters: Number(row[1]), ...scheduleRead(row[2], row[3], schedules)}
  if (kind === 'not-a-stream') return {topic, kind}
  const dlqState = String(row[6])
  const deadLetters: RawDeadLetters =
    dlqState === 'stream' ? {state: 'stream', length: Number(row[7]), entriesAdded: numberOf(row[8])} : {state: dlqState === 'none' ? 'none' : 'not-a-stream'}
  const groups: RawGroup[] = []
  const count = Number(row[9])
  const scheduleAt = 10 + count * GROUP_FIELDS
  for (let g = 0; g < count; g++) {
    const at = 10 + g * GROUP_FIELDS
    groups.push({
      name: String(row[at]),
      lastDeliveredId: String(row[at + 1]),
      entriesRead: numberOf(row[at + 2]),
      lag: numberOf(row[at + 3]),
      pending: Number(row[at + 4]),
      consumers: Number(row[at + 5]),
      activeConsumers: numberOf(row[at + 6]),
      parkedPending: numberOf(row[at + 7]),
      oldestPendingId: stringOf(row[at + 8]),
      oldestPendingIdleMs: numberOf(row[at + 9]),
      replay: {lag: numberOf(row[at + 10]), pending: Number(row[at + 11])},
    })
  }
  return {
    topic,
    kind: 'stream',
    length: Number(row[1]),
    firstId: stringOf(row[2]),
    lastId: stringOf(row[3]),
    lastGeneratedId: stringOf(row[4]),
    entriesAdded: numberOf(row[5]),
    deadLetters,
    groups,
    ...scheduleRead(row[scheduleAt], row[scheduleAt + 1], schedules),
  }
}

// ---- the command path ------------------------------------------------------------------------

type Reply = [Error | null, unknown]

const replyOf = (replies: readonly Reply[] | null, index: number): Reply => replies?.[index] ?? [new Error('missing reply'), null]

const valueOf = (reply: Reply): unknown => {
  if (reply[0] !== null) throw reply[0]
  return reply[1]
}

/** A reply saying the key or group is gone (deleted between SCAN and now, or between two round trips). */
const isGone = (error: Error | null): boolean => error !== null && (isNoSuchKey(error) || isNoGroup(error))

/**
 * The same reading with plain commands, two pipelined round trips: streams, groups and DLQ lengths;
 * then consumers, the oldest pending entry and the replay stream's groups of each group (and the
 * DLQ's entries-added when asked). A group destroyed between the two is left out; a refusal fails.
 */
async function readWithCommands(redis: Redis, reads: readonly TopicRead[], options: ReadTopicsOptions): Promise<RawTopic[]> {
  const first = redis.pipeline()
  // Redis's clock, for the schedules' due messages (a refused TIME leaves them unknown).
  first.call('TIME')
  for (const {topic, deadLetterStream} of reads) {
    first.call('XINFO', 'STREAM', topic)
    first.call('XINFO', 'GROUPS', topic)
    if (deadLetterStream !== true) {
      first.xlen(deadLetterKey(topic))
      first.zcard(scheduleKey(topic))
    }
  }
  const firstReplies = (await first.exec()) as Reply[] | null
  const [timeError, time] = replyOf(firstReplies, 0)
  const nowMs = timeError === null ? redisTimeMs(time) : null

  const topics: RawTopic[] = []
  const found: Array<{topic: Extract<RawTopic, {kind: 'stream'}>; groups: InfoObject[]; replays: boolean}> = []
  let cursor = 1
  for (const {topic, deadLetterStream} of reads) {
    const stream = replyOf(firstReplies, cursor++)
    const groups = replyOf(firstReplies, cursor++)
    const dlq: Reply = deadLetterStream === true ? [null, null] : replyOf(firstReplies, cursor++)
    const schedule = deadLetterStream === true ? {scheduled: 0, scheduledDue: 0} : scheduleHeld(replyOf(firstReplies, cursor++))
    if (isWrongType(stream[0]) || isWrongType(groups[0])) {
      topics.push({topic, kind: 'not-a-stream'})
      continue
    }
    if (isGone(stream[0]) || isGone(groups[0])) {
      topics.push({topic, kind: 'missing', deadLetters: dlq[0] === null ? Number(dlq[1] ?? 0) : 0, ...schedule})
      continue
    }
    const info = infoObject(valueOf(stream))
    const groupInfos = (valueOf(groups) as unknown[]).map(infoObject)
    let deadLetters: RawDeadLetters = {state: 'none'}
    if (isWrongType(dlq[0])) deadLetters = {state: 'not-a-stream'}
    else if (deadLetterStream !== true) deadLetters = {state: 'stream', length: Number(valueOf(dlq)), entriesAdded: null}
    const raw: Extract<RawTopic, {kind: 'stream'}> = {
      topic,
      kind: 'stream',
      length: Number(info.length),
      firstId: entryId(info['first-entry']),
      lastId: entryId(info['last-entry']),
      lastGeneratedId: stringOf(info['last-generated-id']),
      entriesAdded: numberOf(info['entries-added']),
      deadLetters,
      groups: [],
      ...schedule,
    }
    topics.push(raw)
    found.push({topic: raw, groups: groupInfos, replays: deadLetterStream !== true})
  }

  const second = redis.pipeline()
  for (const {topic, groups, replays} of found) {
    for (const group of groups) {
      second.call('XINFO', 'CONSUMERS', topic.topic, String(group.name))
      second.xpending(topic.topic, String(group.name), '-', '+', 1)
      if (replays) second.call('XINFO', 'GROUPS', replayKey(topic.topic, String(group.name)))
    }
    if (options.reading !== 'lag' && topic.deadLetters.state === 'stream' && topic.deadLetters.length > 0) second.call('XINFO', 'STREAM', deadLetterKey(topic.topic))
  }
  // Of the schedules holding messages, how many are due (by Redis's clock, read in the first round trip).
  const dueAsks = topics.filter((topic): topic is Exclude<RawTopic, {kind: 'not-a-stream'}> => topic.kind !== 'not-a-stream' && (topic.scheduled ?? 0) > 0)
  for (const topic of dueAsks) {
    if (nowMs === null) topic.scheduledDue = null
    else second.zcount(scheduleKey(topic.topic), '-inf', nowMs)
  }
  const secondReplies = second.length > 0 ? ((await second.exec()) as Reply[] | null) : []
  cursor = 0
  for (const {topic, groups, replays} of found) {
    for (const group of groups) {
      const consumersReply = replyOf(secondReplies, cursor++)
      const oldestReply = replyOf(secondReplies, cursor++)
      const replay = replays ? replayState(replyOf(secondReplies, cursor++), String(group.name)) : {lag: 0, pending: 0}
      // The group was destroyed (or the stream deleted) between the two round trips: it is gone.
      if (isGone(consumersReply[0]) || isGone(oldestReply[0])) continue
      const consumers = (valueOf(consumersReply) as unknown[]).map(infoObject)
      const [oldest] = valueOf(oldestReply) as Array<[string, string, number, number]>
      topic.groups.push({
        name: String(group.name),
        lastDeliveredId: String(group['last-delivered-id']),
        entriesRead: numberOf(group['entries-read']),
        lag: numberOf(group.lag),
        // Acknowledged between the two round trips: nothing is pending any more.
        pending: oldest === undefined ? 0 : Math.max(1, Number(group.pending)),
        consumers: consumers.length,
        activeConsumers: consumers.filter(isActive).length,
        parkedPending: Number(consumers.find((consumer) => String(consumer.name) === PARKED_CONSUMER)?.pending ?? 0),
        oldestPendingId: oldest === undefined ? null : String(oldest[0]),
        oldestPendingIdleMs: oldest === undefined ? null : Number(oldest[2]),
        replay,
      })
    }
    if (options.reading !== 'lag' && topic.deadLetters.state === 'stream' && topic.deadLetters.length > 0) {
      const reply = replyOf(secondReplies, cursor++)
      // Emptied or deleted between the two round trips: no count of entries ever added.
      if (reply[0] === null) topic.deadLetters.entriesAdded = numberOf(infoObject(reply[1])['entries-added'])
      else if (!isGone(reply[0]) && !isWrongType(reply[0])) throw reply[0]
    }
  }
  if (nowMs !== null) {
    for (const topic of dueAsks) {
      const [error, due] = replyOf(secondReplies, cursor++)
      topic.scheduledDue = error === null ? Number(due) : null
    }
  }
  return topics
}

/** A schedule's ZCARD reply: its size, unknown where refused or not a sorted set (due messages: asked later). */
const scheduleHeld = ([error, held]: Reply): RawSchedule => (error === null ? {scheduled: Number(held), scheduledDue: 0} : {scheduled: null, scheduledDue: null})

/** TIME's reply, in ms. */
const redisTimeMs = (reply: unknown): number => {
  const [seconds, micros] = reply as [string, string]
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
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
