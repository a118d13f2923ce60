import type {Redis} from 'ioredis'

import {missingTopicsError} from '../errors.js'

import {deadLetterKey, isReplayKey, retryDueKey, topicsOfDeadLetterKey} from '../keys.js'
import {keyTypes, topicNotAStream} from '../redis/key-type.js'
import {classifyRedisError, type RedisErrorContext} from '../redis/redis-errors.js'
import {firstLineOf, isNoGroup, isNoSuchKey, isWrongType} from '../redis/reply-errors.js'
import {PARKED_CONSUMER} from '../worker/group-ops.js'
import {consumerDetail, pendingDetail} from './details.js'
import type {Focus, FocusDetail, GroupSnapshot, Snapshot, SnapshotSource, TopicSnapshot} from './snapshot.js'
import {deadLetterKeyWarning, findStreams, isActive, skippedTopicWarning, withoutDeadLetterStreams} from './topic-stats.js'
import {infoObject, numberOf, type InfoObject} from './xinfo.js'

/** Groups seen in the previous snapshot, per topic: their consumers are read in the same round trip. */
export type KnownGroups = ReadonlyMap<string, readonly string[]>

/** How many oldest pending entries the detail of a focused group lists. */
const FOCUS_PENDING_SHOWN = 10

/** Keys one refresh's SCAN step looks at; a big keyspace is covered over several refreshes. */
const SCAN_STEP = 1000

type Reply = [Error | null, unknown]

export interface SnapshotExtras {
  /** A group to read in detail (consumers, oldest pending entries). */
  focus?: Focus | null
  /** Dead-letter streams known to exist: read with XINFO STREAM (for their in-rate), the others with XLEN. */
  knownDeadLetters?: ReadonlySet<string>
  /**
   * Dead-letter streams to read as topics of their own: kept when consumer groups read them (an
   * archiver), left out otherwise (they are the DLQ column of their topic).
   */
  deadLetterStreams?: readonly string[]
  /** One SCAN step to add to the same round trip (topic discovery). */
  scan?: {cursor: string; match: string}
  /**
   * Pending entries of the focused group whose retry due time to read (the previous refresh's
   * oldest pending: their IDs are not known before this round trip's reply).
   */
  retryIds?: readonly string[]
}

/** A key read as a topic or a dead-letter stream that holds something else. */
export interface NotAStream {
  key: string
  /** The topic it was read for. */
  topic: string
  role: 'topic' | 'dead-letter stream'
}

export interface Reading {
  snapshot: Snapshot
  /** The SCAN step's reply, when one was asked for. */
  scanned?: {cursor: string; keys: string[]}
  /** Keys that are not streams: such a topic is left out, such a dead-letter stream counts 0. */
  notStreams: NotAStream[]
  /** Dead-letter streams found holding entries through XLEN: read with XINFO STREAM from the next refresh on. */
  foundDeadLetters: string[]
}

/**
 * Errors a reading may pass over (a topic or group that vanished, or is not a stream); anything
 * else, a refused command above all, fails the refresh: a monitor without permission must say
 * so, not show an empty screen.
 */
const ignorable = (error: Error | null): boolean => error === null || isNoSuchKey(error) || isNoGroup(error) || isWrongType(error)

const throwUnlessIgnorable = (error: Error | null): void => {
  if (!ignorable(error)) throw error
}

interface GroupDetails {
  consumers: InfoObject[]
  oldestPendingId: string | null
  oldestPendingIdleMs: number | null
}

/** Entries parked by qctl workers waiting out a retry backoff: the pending count of the parked pseudo-consumer. */
function parkedOf(consumers: readonly InfoObject[]): number {
  for (const consumer of consumers) if (String(consumer.name) === PARKED_CONSUMER) return Number(consumer.pending)
  return 0
}

/** The groups of one topic from its XINFO GROUPS reply, with the details read for known groups. */
function groupSnapshots(reply: readonly unknown[], details: ReadonlyMap<string, GroupDetails>): GroupSnapshot[] {
  const groups: GroupSnapshot[] = []
  for (const entry of reply) {
    const group = infoObject(entry)
    const detail = details.get(String(group.name))
    groups.push({
      name: String(group.name),
      entriesRead: numberOf(group['entries-read']),
      lag: numberOf(group.lag),
      pending: Number(group.pending),
      parkedPending: detail === undefined ? null : parkedOf(detail.consumers),
      oldestPendingId: detail?.oldestPendingId ?? null,
      oldestPendingIdleMs: detail?.oldestPendingIdleMs ?? null,
      consumers: Number(group.consumers),
      activeConsumers: detail === undefined ? null : detail.consumers.filter(isActive).length,
    })
  }
  return groups
}

/** The reply standing in for a command not sent (a dead-letter stream's own dead letters). */
const NO_SUCH_KEY: Reply = [new Error('ERR no such key'), null]

interface DeadLetters {
  length: number
  /** Null when read with XLEN (a dead-letter stream not yet known to exist). */
  entriesAdded: number | null
}

/** A dead-letter stream from its XINFO STREAM or XLEN reply; undefined when it holds nothing. */
function deadLettersOf(reply: unknown): DeadLetters | undefined {
  if (typeof reply === 'number') return reply > 0 ? {length: reply, entriesAdded: null} : undefined
  const info = infoObject(reply)
  return {length: Number(info.length), entriesAdded: numberOf(info['entries-added'])}
}

/** A topic that was deleted while its dead-letter stream still holds entries. */
const orphanedDeadLetters = (topic: string, dlq: DeadLetters): TopicSnapshot => ({
  topic,
  length: 0,
  entriesAdded: null,
  deadLetters: dlq.length,
  deadLettersAdded: dlq.entriesAdded,
  groups: [],
  kind: 'orphaned-dead-letters',
})

/** The replies of one pipeline, in the order the commands were queued. */
class ReplyReader {
  private index = 0
  constructor(private readonly replies: readonly Reply[]) {}
  next(): Reply {
    return this.replies[this.index++] ?? [new Error('missing reply'), null]
  }
}

const scanArgs = (cursor: string, match: string): Array<string | number> => [cursor, 'MATCH', match, 'COUNT', SCAN_STEP, 'TYPE', 'stream']

/**
 * One reading of many topics in ONE pipelined round trip, whatever their number: per topic
 * XINFO STREAM, XINFO GROUPS and XINFO STREAM of its dead-letter stream; per group known from the
 * previous snapshot, XINFO CONSUMERS and its oldest pending entry (`XPENDING key group - + 1`: its
 * ID and idle time); optionally the oldest pending entries of a focused group and one SCAN step.
 * A group that just appeared gets its consumer details on the next refresh. Topics that vanished
 * are left out; keys that are not streams are left out (a topic) or count 0 (a dead-letter
 * stream), and listed in `notStreams`.
 */
export async function readSnapshot(redis: Redis, topics: readonly string[], known: KnownGroups = new Map(), extras: SnapshotExtras = {}): Promise<Reading> {
  const pipeline = redis.pipeline()
  if (extras.scan !== undefined) pipeline.call('SCAN', ...scanArgs(extras.scan.cursor, extras.scan.match))
  // Plain loops, no callbacks made per call: this runs on every refresh of `top` (see lineOf in
  // src/format/top-model/layout.ts for why).
  const plan: Array<{topic: string; groups: readonly string[]; deadLetterStream: boolean}> = []
  const queue = (topic: string, deadLetterStream: boolean): void => {
    pipeline.call('XINFO', 'STREAM', topic)
    pipeline.call('XINFO', 'GROUPS', topic)
    // A dead-letter stream read for its own groups (an archiver) has no dead letters of its own to count.
    // XINFO STREAM (its entries-added gives the DLQ in-rate) only for dead-letter streams known to
    // exist; for the others XLEN, which answers 0 for a missing key where XINFO answers an error:
    // 10,000 topics without dead letters made 10,000 error objects per refresh, half of top's CPU in GC.
    if (!deadLetterStream) {
      if (extras.knownDeadLetters?.has(deadLetterKey(topic)) === true) pipeline.call('XINFO', 'STREAM', deadLetterKey(topic))
      else pipeline.xlen(deadLetterKey(topic))
    }
    const groups = known.get(topic) ?? []
    for (const group of groups) {
      pipeline.call('XINFO', 'CONSUMERS', topic, group)
      pipeline.xpending(topic, group, '-', '+', 1)
    }
    plan.push({topic, groups, deadLetterStream})
  }
  for (const topic of topics) queue(topic, false)
  for (const stream of extras.deadLetterStreams ?? []) queue(stream, true)
  const focus = extras.focus ?? null
  const focusKnown = focus !== null && (known.get(focus.topic) ?? []).includes(focus.group)
  if (focus !== null && focusKnown) pipeline.xpending(focus.topic, focus.group, '-', '+', FOCUS_PENDING_SHOWN)
  const retryIds = focus !== null && focusKnown ? (extras.retryIds ?? []) : []
  if (focus !== null && retryIds.length > 0) {
    // Due times are on Redis's clock (see park-retry-3.lua): read it in the same round trip.
    pipeline.call('TIME')
    pipeline.call('ZMSCORE', retryDueKey(focus.topic, focus.group), ...retryIds)
  }
  const replies = ((await pipeline.exec()) ?? []) as Reply[]
  const at = Date.now()

  const reader = new ReplyReader(replies)
  let scanned: Reading['scanned']
  if (extras.scan !== undefined) {
    const [scanError, scanReply] = reader.next()
    if (scanError !== null) throw scanError
    const [nextCursor, keys] = scanReply as [string, string[]]
    scanned = {cursor: nextCursor, keys}
  }

  const snapshots: TopicSnapshot[] = []
  const foundDeadLetters: string[] = []
  const notStreams: NotAStream[] = []
  let focusConsumers: InfoObject[] | undefined
  for (const {topic, groups: knownGroups, deadLetterStream} of plan) {
    const [streamError, stream] = reader.next()
    const [groupsError, groupsReply] = reader.next()
    const [dlqError, dlqReply] = deadLetterStream ? NO_SUCH_KEY : reader.next()
    const dlqInfo = dlqError === null ? deadLettersOf(dlqReply) : undefined
    if (dlqInfo !== undefined && dlqInfo.entriesAdded === null) foundDeadLetters.push(deadLetterKey(topic))
    const details = new Map<string, GroupDetails>()
    for (const group of knownGroups) {
      const [consumersError, consumers] = reader.next()
      const [pendingError, pending] = reader.next()
      throwUnlessIgnorable(consumersError)
      throwUnlessIgnorable(pendingError)
      if (consumersError === null && pendingError === null) {
        const infos = (consumers as unknown[]).map(infoObject)
        const oldest = (pending as Array<[string, string, number, number]>)[0]
        details.set(group, {consumers: infos, oldestPendingId: oldest === undefined ? null : oldest[0], oldestPendingIdleMs: oldest === undefined ? null : Number(oldest[2])})
        if (focus !== null && focus.topic === topic && focus.group === group) focusConsumers = infos
      }
    }
    throwUnlessIgnorable(streamError)
    throwUnlessIgnorable(groupsError)
    if (isWrongType(streamError) || isWrongType(groupsError)) notStreams.push({key: topic, topic, role: 'topic'})
    if (isNoSuchKey(streamError) && dlqInfo !== undefined && dlqInfo.length > 0) {
      // Deleted, its dead letters left behind: shown (they still need replaying or purging), as `lag` does.
      snapshots.push(orphanedDeadLetters(topic, dlqInfo))
      continue
    }
    if (streamError !== null || groupsError !== null) continue
    if (deadLetterStream && (groupsReply as unknown[]).length === 0) continue
    if (isWrongType(dlqError)) notStreams.push({key: deadLetterKey(topic), topic, role: 'dead-letter stream'})
    else if (dlqError !== null && !isNoSuchKey(dlqError)) throw dlqError
    const streamInfo = infoObject(stream)
    snapshots.push({
      topic,
      length: Number(streamInfo.length),
      entriesAdded: numberOf(streamInfo['entries-added']),
      deadLetters: dlqInfo?.length ?? 0,
      deadLettersAdded: dlqInfo?.entriesAdded ?? null,
      groups: groupSnapshots(groupsReply as unknown[], details),
      kind: deadLetterStream ? 'dead-letter-stream' : 'topic',
    })
  }

  let focusDetail: FocusDetail | null = null
  if (focus !== null && focusKnown) {
    const [pendingError, pending] = reader.next()
    throwUnlessIgnorable(pendingError)
    if (pendingError === null && focusConsumers !== undefined) {
      focusDetail = {
        ...focus,
        consumers: focusConsumers.map(consumerDetail),
        oldestPending: (pending as Array<[string, string, number, number]>).map(pendingDetail),
        retryInMs: new Map(),
      }
    }
    if (retryIds.length > 0) {
      const time = reader.next()
      const scores = reader.next()
      if (focusDetail !== null) focusDetail.retryInMs = retryWaits(retryIds, time, scores, at)
    }
  }
  return {snapshot: {at, topics: snapshots, focus: focusDetail}, notStreams, foundDeadLetters, ...(scanned === undefined ? {} : {scanned})}
}

/**
 * How long each entry still waits out its retry backoff (from the group's due set), by ID; entries
 * not waiting are left out. A monitor without access to the due set (or to TIME) sees no marks
 * rather than a failed refresh; without TIME, the local clock stands in for Redis's.
 */
function retryWaits(ids: readonly string[], [timeError, time]: Reply, [scoresError, scores]: Reply, localNow: number): Map<string, number> {
  const waits = new Map<string, number>()
  if (scoresError !== null) return waits
  const [seconds, micros] = timeError === null ? (time as [string, string]) : [String(localNow / 1000), '0']
  const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  for (const [index, id] of ids.entries()) {
    const due = (scores as Array<string | null>)[index]
    if (due !== null && due !== undefined && Number(due) > redisNow) waits.set(id, Number(due) - redisNow)
  }
  return waits
}

/** The groups of a snapshot, to pass as `known` to the next one. */
export function groupsOf(snapshot: Snapshot): KnownGroups {
  const known = new Map<string, string[]>()
  for (const topic of snapshot.topics) {
    const names: string[] = []
    for (const group of topic.groups) names.push(group.name)
    known.set(topic.topic, names)
  }
  return known
}

export interface TopicSelection {
  /** Exactly these topics (no discovery). */
  topics?: readonly string[] | undefined
  /** Otherwise every stream whose key matches this glob (default `*`). */
  match?: string | undefined
  /** Named topics that do not exist are left out instead of failing (exit 6) when the source opens. */
  allowMissing?: boolean | undefined
}

/**
 * Snapshots for `qctl top`, one round trip per refresh. Without explicit topics it keeps
 * discovering streams: a full SCAN when it opens, then one SCAN step per refresh inside the same
 * pipeline, so topics created later appear within a few refreshes and the cost stays one round
 * trip however many keys the database holds.
 */
export class RedisSnapshotSource implements SnapshotSource {
  private known: KnownGroups = new Map()
  private topics: string[]
  private deadLetterStreams: string[] = []
  /** Dead-letter streams seen (by SCAN, or holding entries when read): read with XINFO STREAM. */
  private readonly knownDeadLetters = new Set<string>()
  private cursor = '0'
  /** Keys seen since the current SCAN cycle began; they replace the topic list when it ends. */
  private cycle = new Set<string>()
  /** What each key found not to be a stream holds, read once (TYPE), so later refreshes stay one round trip. */
  private readonly strayTypes = new Map<string, string | undefined>()
  /** Warnings not yet taken with `takeWarnings()`, each said once. */
  private pendingWarnings: string[] = []
  private readonly warned = new Set<string>()
  /** The last detail read, whose pending entries' retry due times the next refresh reads. */
  private lastFocus: FocusDetail | null = null

  private constructor(
    private readonly redis: Redis,
    private readonly selection: TopicSelection,
    topics: string[],
  ) {
    this.topics = topics
  }

  static async open(redis: Redis, selection: TopicSelection): Promise<RedisSnapshotSource> {
    const source = new RedisSnapshotSource(redis, selection, selection.topics === undefined ? [] : [...selection.topics])
    if (selection.topics === undefined) source.discovered(await findStreams(redis, selection.match ?? '*'))
    // Named topics are few: read their dead-letter streams with XINFO STREAM from the first refresh, for the in-rate.
    else for (const topic of selection.topics) source.knownDeadLetters.add(deadLetterKey(topic))
    return source
  }

  /**
   * What to read from the stream keys found: the topics; the topic of each dead-letter stream
   * (reading it says whether the topic was deleted, leaving its dead letters: an orphan row); and
   * the dead-letter streams themselves, which get rows when consumer groups read them.
   */
  private discovered(keys: Iterable<string>): void {
    const all = new Set(keys)
    const topics = new Set(withoutDeadLetterStreams(all))
    const deadLetterStreams: string[] = []
    for (const key of all) {
      // A replay stream is its group's, read by that group's workers: never a row of its own.
      if (topics.has(key) || isReplayKey(key)) continue
      deadLetterStreams.push(key)
      const candidates = topicsOfDeadLetterKey(key)
      if (candidates.length > 0 && !candidates.some((topic) => all.has(topic))) topics.add(candidates[0] as string)
    }
    this.topics = [...topics].sort()
    this.deadLetterStreams = deadLetterStreams.sort()
    for (const key of deadLetterStreams) this.knownDeadLetters.add(key)
  }

  /**
   * The first snapshot. A named topic it does not hold (the key does not exist) fails it, exit 6
   * naming it, unless `allowMissing`: a typo must not look like an idle queue. (Later refreshes
   * show a topic deleted meanwhile as gone, without failing.)
   */
  /** The connection's command timeout before fitReplyTimeout adjusted it. */
  private baseReplyTimeoutMs: number | undefined

  async first(): Promise<Snapshot> {
    const snapshot = await this.refresh(null)
    if (this.selection.topics !== undefined && this.selection.allowMissing !== true) {
      const present = new Set(snapshot.topics.map((topic) => topic.topic))
      const missing = [...new Set(this.selection.topics)].filter((topic) => !present.has(topic))
      if (missing.length > 0) throw missingTopicsError(missing)
    }
    return snapshot
  }

  private get discovering(): boolean {
    return this.selection.topics === undefined
  }

  /**
   * A named topic (TOPIC arguments) that is not a stream fails the refresh (exit 2 when it is the
   * first); a key found by SCAN that no longer is one, or a dead-letter key that is not a stream,
   * is left out with a warning.
   */
  async refresh(focus: Focus | null): Promise<Snapshot> {
    const scan = this.discovering ? {cursor: this.cursor, match: this.selection.match ?? '*'} : undefined
    const last = this.lastFocus
    const retryIds = focus !== null && last !== null && last.topic === focus.topic && last.group === focus.group ? last.oldestPending.map((entry) => entry.id) : []
    const started = Date.now()
    const reading = await readSnapshot(this.redis, this.topics, this.known, {focus, retryIds, deadLetterStreams: this.deadLetterStreams, knownDeadLetters: this.knownDeadLetters, ...(scan === undefined ? {} : {scan})})
    this.fitReplyTimeout(Date.now() - started)
    this.lastFocus = reading.snapshot.focus
    for (const key of reading.foundDeadLetters) this.knownDeadLetters.add(key)
    if (reading.notStreams.length > 0) await this.noteNotStreams(reading.notStreams)
    this.known = groupsOf(reading.snapshot)
    if (reading.scanned !== undefined) this.absorbScan(reading.scanned)
    return reading.snapshot
  }

  /**
   * The command timeout (live `top`) runs per command of a refresh's one pipeline, and over 10,000
   * topics (50,000 commands) the last replies come more than a second after the first command was
   * sent: a fixed bound would fail healthy refreshes as "reconnecting". So it is the connection's own
   * bound or three times the last refresh, whichever is longer; a silent Redis still shows within it.
   * (ioredis reads `options.commandTimeout` as each command is sent.)
   */
  private fitReplyTimeout(tookMs: number): void {
    const {options} = this.redis
    if (options.commandTimeout === undefined) return
    this.baseReplyTimeoutMs ??= options.commandTimeout
    options.commandTimeout = Math.max(this.baseReplyTimeoutMs, 3 * tookMs)
  }

  /** Warnings since the last call (a key that is not a stream, said once per key and type). */
  takeWarnings(): string[] {
    const taken = this.pendingWarnings
    this.pendingWarnings = []
    return taken
  }

  private async noteNotStreams(notStreams: readonly NotAStream[]): Promise<void> {
    const unknown = notStreams.map(({key}) => key).filter((key) => !this.strayTypes.has(key))
    for (const [key, type] of await keyTypes(this.redis, unknown)) this.strayTypes.set(key, type)
    for (const {key, topic, role} of notStreams) {
      const type = this.strayTypes.get(key)
      if (role === 'topic' && !this.discovering) throw topicNotAStream(key, type)
      const warning = role === 'topic' ? skippedTopicWarning(key, type) : deadLetterKeyWarning(topic, key, type)
      if (!this.warned.has(warning)) this.pendingWarnings.push(warning)
      this.warned.add(warning)
    }
  }

  private absorbScan({cursor, keys}: {cursor: string; keys: string[]}): void {
    for (const key of keys) this.cycle.add(key)
    // New keys join at once; vanished ones drop out when a whole cycle has not seen them.
    const seen = new Set([...this.topics, ...this.deadLetterStreams, ...this.cycle])
    this.discovered(cursor === '0' ? this.cycle : seen)
    this.cursor = cursor
    if (cursor === '0') this.cycle = new Set()
  }
}

/**
 * The source, with failures explained in qctl's one-line words (the classification every command
 * uses, redis-errors.ts), by the connection's own last error while it is down: a refresh queued
 * during a reconnect only says "Command timed out", the client's error event says why (connection
 * refused, DNS, TLS). Errors Redis does not explain keep their first line.
 */
export function explainingConnectionErrors(source: SnapshotSource, redis: Redis, context: RedisErrorContext): SnapshotSource {
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
