import type {Redis} from 'ioredis'

import {missingTopicsError} from '../errors.js'
import {deadLetterKey, isReplayKey, retryDueKey, topicsOfDeadLetterKey} from '../keys.js'
import {commandTimeoutOf, isCluster, setCommandTimeout, type RedisClient} from '../redis/client.js'
import {scanEachPrimary} from '../redis/cluster-nodes.js'
import {keyTypes, topicNotAStream} from '../redis/key-type.js'
import {classifyRedisError, type RedisErrorContext} from '../redis/redis-errors.js'
import {firstLineOf, isNoGroup, isNoSuchKey, isWrongType} from '../redis/reply-errors.js'
import {readClusterSnapshot} from './cluster-snapshot.js'
import {consumerDetail, pendingDetail} from './details.js'
import type {Focus, FocusDetail, GroupSnapshot, Snapshot, SnapshotSource, TopicSnapshot} from './snapshot.js'
import {lagWithReplay, readOnOneNode, type RawGroup, type TopicRead} from './topic-reading.js'
import {deadLetterKeyWarning, findStreams, skippedTopicWarning, streamScanArgs, withoutDeadLetterStreams} from './topic-stats.js'
import {infoObject} from './xinfo.js'

/** How many oldest pending entries the detail of a focused group lists. */
const FOCUS_PENDING_SHOWN = 10

/** Keys one refresh's SCAN step looks at; a big keyspace is covered over several refreshes. */
const SCAN_STEP = 1000

type Reply = [Error | null, unknown]

export interface SnapshotExtras {
  /** A group to read in detail (consumers, oldest pending entries). */
  focus?: Focus | null
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
  snapshot: Snapshot
  /** The SCAN step's reply, when one was asked for. */
  scanned?: {cursor: string; keys: string[]}
  /** Keys that are not streams: such a topic is left out, such a dead-letter stream counts 0. */
  notStreams: NotAStream[]
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

/** The row of a topic that was deleted while its dead-letter stream still holds entries. */
const orphanedDeadLetters = (topic: string, deadLetters: number): TopicSnapshot => ({
  topic,
  length: 0,
  entriesAdded: null,
  deadLetters,
  deadLettersAdded: null,
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

const scanArgs = (cursor: string, match: string): Array<string | number> => [cursor, ...streamScanArgs(match, SCAN_STEP)]

/**
 * One reading of many topics in ONE round trip, whatever their number: the topics, their groups,
 * consumers, oldest pending entries and dead-letter streams (topic-reading.ts: a script call per
 * hundred topics), and, in a pipeline sent right behind it on the same connection, one SCAN step
 * and the detail of a focused group. (A user who may not run the script reads with plain
 * commands: two round trips.) Topics that vanished are left out; keys that are not streams are
 * left out (a topic) or count 0 (a dead-letter stream), and listed in `notStreams`.
 */
export async function readSnapshot(redis: Redis, topics: readonly string[], extras: SnapshotExtras = {}, callPerSlot = false): Promise<Reading> {
  const reads: TopicRead[] = topics.map((topic) => ({topic}))
  for (const stream of extras.deadLetterStreams ?? []) reads.push({topic: stream, deadLetterStream: true})
  const pipeline = redis.pipeline()
  if (extras.scan !== undefined) pipeline.call('SCAN', ...scanArgs(extras.scan.cursor, extras.scan.match))
  const focus = extras.focus ?? null
  if (focus !== null) {
    pipeline.call('XINFO', 'CONSUMERS', focus.topic, focus.group)
    pipeline.xpending(focus.topic, focus.group, '-', '+', FOCUS_PENDING_SHOWN)
  }
  const retryIds = focus === null ? [] : (extras.retryIds ?? [])
  if (focus !== null && retryIds.length > 0) {
    // Due times are on Redis's clock (see park-retry-3.lua): read it in the same round trip.
    pipeline.call('TIME')
    pipeline.call('ZMSCORE', retryDueKey(focus.topic, focus.group), ...retryIds)
  }
  const reading = {reading: extras.reading === 'rates' ? 'rates' : 'top'} as const
  const [raw, replies] = await Promise.all([readOnOneNode(redis, reads, reading, callPerSlot), pipeline.length > 0 ? pipeline.exec() : Promise.resolve([])])
  const at = Date.now()

  const reader = new ReplyReader((replies ?? []) as Reply[])
  let scanned: Reading['scanned']
  if (extras.scan !== undefined) {
    const [scanError, scanReply] = reader.next()
    if (scanError !== null) throw scanError
    const [nextCursor, keys] = scanReply as [string, string[]]
    scanned = {cursor: nextCursor, keys}
  }

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
      if (topic.deadLetters > 0) snapshots.push(orphanedDeadLetters(topic.topic, topic.deadLetters))
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
      groups: topic.groups.map(groupSnapshot),
      kind: deadLetterStream ? 'dead-letter-stream' : 'topic',
    })
  })

  let focusDetail: FocusDetail | null = null
  if (focus !== null) {
    const [consumersError, consumers] = reader.next()
    const [pendingError, pending] = reader.next()
    throwUnlessIgnorable(consumersError)
    throwUnlessIgnorable(pendingError)
    if (consumersError === null && pendingError === null) {
      focusDetail = {
        ...focus,
        consumers: (consumers as unknown[]).map(infoObject).map(consumerDetail),
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
  return {snapshot: {at, topics: snapshots, focus: focusDetail}, notStreams, ...(scanned === undefined ? {} : {scanned})}
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
  private topics: string[]
  private deadLetterStreams: string[] = []
  /** Per node (a cluster primary's address; '' for a single server): where its SCAN cycle is. */
  private cursors = new Map<string, string>()
  /** The stream keys the topic lists were last worked out from. */
  private streamKeys = new Set<string>()
  /** Per node: the keys its last whole SCAN cycle found, and those of the current one. */
  private nodeKeys = new Map<string, Set<string>>()
  /** Per node: keys seen since its current SCAN cycle began; they replace its keys when it ends. */
  private cycles = new Map<string, Set<string>>()
  /** What each key found not to be a stream holds, read once (TYPE), so later refreshes stay one round trip. */
  private readonly strayTypes = new Map<string, string | undefined>()
  /** Warnings not yet taken with `takeWarnings()`, each said once. */
  private pendingWarnings: string[] = []
  private readonly warned = new Set<string>()
  /** The last detail read, whose pending entries' retry due times the next refresh reads. */
  private lastFocus: FocusDetail | null = null

  private constructor(
    private readonly redis: RedisClient,
    private readonly selection: TopicSelection,
    topics: string[],
  ) {
    this.topics = topics
  }

  static async open(redis: RedisClient, selection: TopicSelection): Promise<RedisSnapshotSource> {
    const source = new RedisSnapshotSource(redis, selection, selection.topics === undefined ? [] : [...selection.topics])
    if (selection.topics === undefined) await source.scanEverything()
    return source
  }

  /** A whole SCAN of every node: at open, and on a cluster whenever a primary left (failed over). */
  private async scanEverything(): Promise<void> {
    const match = this.selection.match ?? '*'
    this.nodeKeys = isCluster(this.redis) ? await scanEachPrimary(this.redis, streamScanArgs(match)) : new Map([['', await findStreams(this.redis, match)]])
    this.cycles = new Map()
    this.cursors = new Map()
    this.discovered(this.knownKeys())
  }

  private knownKeys(): Set<string> {
    const keys = new Set<string>()
    for (const known of this.nodeKeys.values()) for (const key of known) keys.add(key)
    return keys
  }

  /**
   * What to read from the stream keys found: the topics; the topic of each dead-letter stream
   * (reading it says whether the topic was deleted, leaving its dead letters: an orphan row); and
   * the dead-letter streams themselves, which get rows when consumer groups read them.
   */
  private discovered(keys: Iterable<string>): void {
    const all = new Set(keys)
    this.streamKeys = all
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
  }

  /** The connection's command timeout before fitReplyTimeout adjusted it. */
  private baseReplyTimeoutMs: number | undefined

  /**
   * The first snapshot. A named topic it does not hold (the key does not exist) fails it, exit 6
   * naming it, unless `allowMissing`: a typo must not look like an idle queue. (Later refreshes
   * show a topic deleted meanwhile as gone, without failing.)
   */
  async first(reading: 'full' | 'rates' = 'full'): Promise<Snapshot> {
    const snapshot = await this.refresh(null, reading)
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
  async refresh(focus: Focus | null, what: 'full' | 'rates' = 'full'): Promise<Snapshot> {
    const match = this.selection.match ?? '*'
    const last = this.lastFocus
    const retryIds = focus !== null && last !== null && last.topic === focus.topic && last.group === focus.group ? last.oldestPending.map((entry) => entry.id) : []
    const extras = {focus, retryIds, reading: what, deadLetterStreams: this.deadLetterStreams}
    const started = Date.now()
    let snapshot: Snapshot
    let notStreams: NotAStream[]
    if (isCluster(this.redis)) {
      const reading = await readClusterSnapshot(this.redis, this.topics, {...extras, ...(this.discovering ? {scan: {cursors: this.cursors, match}} : {})})
      snapshot = {at: reading.at || Date.now(), topics: reading.topics, focus: reading.focus, clusterNodes: reading.nodes}
      notStreams = reading.notStreams
      if (this.discovering) await this.absorbClusterScans(reading.nodes, reading.scanned)
    } else {
      const reading = await readSnapshot(this.redis, this.topics, {...extras, ...(this.discovering ? {scan: {cursor: this.cursors.get('') ?? '0', match}} : {})})
      snapshot = reading.snapshot
      notStreams = reading.notStreams
      if (reading.scanned !== undefined) this.absorbScan('', reading.scanned)
    }
    this.fitReplyTimeout(Date.now() - started)
    this.lastFocus = snapshot.focus
    if (notStreams.length > 0) await this.noteNotStreams(notStreams)
    return snapshot
  }

  /**
   * The command timeout (live `top`) runs per command of a refresh's one pipeline, and over 10,000
   * topics (50,000 commands) the last replies come more than a second after the first command was
   * sent: a fixed bound would fail healthy refreshes as "reconnecting". So it is the connection's own
   * bound or three times the last refresh, whichever is longer; a silent Redis still shows within it.
   * (ioredis reads `options.commandTimeout` as each command is sent.)
   */
  private fitReplyTimeout(tookMs: number): void {
    const current = commandTimeoutOf(this.redis)
    if (current === undefined) return
    this.baseReplyTimeoutMs ??= current
    setCommandTimeout(this.redis, Math.max(this.baseReplyTimeoutMs, 3 * tookMs))
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

  /** A cluster refresh's SCAN steps; a primary gone from the slot map (a failover) means a whole new SCAN. */
  private async absorbClusterScans(nodes: readonly string[], scanned: ReadonlyMap<string, {cursor: string; keys: string[]}>): Promise<void> {
    const current = new Set(nodes)
    if ([...this.nodeKeys.keys()].some((address) => !current.has(address))) {
      await this.scanEverything()
      return
    }
    for (const [address, step] of scanned) this.absorbScan(address, step)
  }

  private absorbScan(address: string, {cursor, keys}: {cursor: string; keys: string[]}): void {
    const cycle = this.cycles.get(address) ?? new Set<string>()
    this.cycles.set(address, cycle)
    for (const key of keys) cycle.add(key)
    this.cursors.set(address, cursor)
    // Mid-cycle with nothing new (nearly every refresh): the lists stand; working them out again
    // over 10,000 keys cost 20 ms a refresh.
    if (cursor !== '0' && keys.every((key) => this.streamKeys.has(key))) return
    // New keys join at once; vanished ones drop out when a whole cycle (of their node) has not seen them.
    if (cursor === '0') {
      this.nodeKeys.set(address, cycle)
      this.cycles.set(address, new Set())
    } else {
      const known = this.nodeKeys.get(address) ?? new Set<string>()
      for (const key of keys) known.add(key)
      this.nodeKeys.set(address, known)
    }
    this.discovered(this.knownKeys())
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
