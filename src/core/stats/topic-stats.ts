import {deadLetterKey, isDeadLetterKey, isReplayKey, topicsOfDeadLetterKey} from '../keys.js'
import {isCluster, type RedisClient} from '../redis/client.js'
import {scanKeys} from '../redis/scan.js'
import {keyTypes, notAStreamText, topicNotAStream} from '../redis/key-type.js'
import {lagWithReplay, readTopics, type RawTopic} from './topic-reading.js'
import {idMs} from './xinfo.js'

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
  /** The topic's name (for a partition's stats, its partitioned topic's). */
  topic: string
  /** The stream read: the topic itself, or one partition's stream (see `partition`). */
  stream: string
  /** Which partition of a partitioned topic these stats are of; null for a plain topic or a whole partitioned topic. */
  partition: number | null
  /** A whole partitioned topic (partitioned-stats.ts): its partitions' stats, in partition order; undefined otherwise. */
  partitions?: TopicStats[] | undefined
  length: number
  firstId: string | null
  lastId: string | null
  lastGeneratedId: string | null
  entriesAdded: number | null
  deadLetterKey: string
  deadLetters: number
  /**
   * Messages held in the topic's schedule (publish --delay / --at) until due, in no stream yet, so
   * in no lag; null when it could not be read (the user may not, or the key is not a sorted set).
   */
  scheduled: number | null
  /** Of `scheduled`, those already due by Redis's clock: held past their time (no running worker or `schedule run` appends them). */
  scheduledDue: number | null
  groups: GroupStats[]
  /** What is wrong with the topic's keys but did not stop the reading (its dead-letter key is not a stream). */
  warnings: string[]
  /** On a Redis Cluster: the primary (`host:port`) that owns the topic's slot; null on a single server. */
  node: string | null
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
  /** `lag`: without the stream's first, last and last generated IDs and entries added (null), a third cheaper (topic-reading.ts). */
  reading?: 'full' | 'lag' | undefined
}


/** The warning for a dead-letter key that holds something else: the topic's row shows 0 dead letters. */
export const deadLetterKeyWarning = (topic: string, key: string, type: string | undefined): string =>
  `${notAStreamText(key, type)}: not counted as the dead letters of "${topic}"`

/** The warning for a key found as a topic that is not a stream (any more) when it is read. */
export const skippedTopicWarning = (topic: string, type: string | undefined): string => `${notAStreamText(topic, type)}: skipped`

/**
 * Statistics of several topics (topic-reading.ts: one round trip, a script call per hundred
 * topics; two with plain commands), plus a bounded count where Redis reports lag as unknown.
 * Topics that do not exist are left out, unless their dead-letter stream still holds entries (a
 * row saying so); keys that are not streams are skipped with a warning (a dead-letter key) or,
 * for named topics, fail with exit 2 (a TYPE round trip, only then, names what the key holds).
 */
export async function topicStats(redis: RedisClient, topics: readonly string[], options: TopicStatsOptions = {}): Promise<TopicStats[]> {
  const raw = await readTopics(redis, topics.map((topic) => ({topic})), {reading: options.reading ?? 'full'})
  const notStreams: string[] = []
  for (const topic of raw) {
    if (topic.kind === 'not-a-stream') notStreams.push(topic.topic)
    else if (topic.kind === 'stream' && topic.deadLetters.state === 'not-a-stream') notStreams.push(deadLetterKey(topic.topic))
  }
  const types = await keyTypes(redis, notStreams)

  const stats: TopicStats[] = []
  const replayLag = new Map<GroupStats, number | null>()
  for (const topic of raw) {
    if (topic.kind === 'not-a-stream') {
      if (options.named === true) throw topicNotAStream(topic.topic, types.get(topic.topic))
      options.onWarning?.(skippedTopicWarning(topic.topic, types.get(topic.topic)))
      continue
    }
    if (topic.kind === 'missing') {
      // Deleted, its dead letters left behind: shown (they still need replaying or purging), and counted by --max-dlq.
      // Or not made yet, messages scheduled for it: shown, they will be its first entries.
      if (topic.deadLetters > 0 || (topic.scheduled ?? 0) > 0) stats.push(missingTopic(topic))
      continue
    }
    if (topic.groups.length === 0 && options.deadLetterStreams?.has(topic.topic) === true) continue
    const warnings: string[] = []
    if (topic.deadLetters.state === 'not-a-stream') warnings.push(deadLetterKeyWarning(topic.topic, deadLetterKey(topic.topic), types.get(deadLetterKey(topic.topic))))
    const groups = topic.groups.map((group): GroupStats => {
      const row: GroupStats = {
        name: group.name,
        lastDeliveredId: group.lastDeliveredId,
        entriesRead: group.entriesRead,
        lag: group.lag,
        lagSource: group.lag === null ? 'unknown' : 'redis',
        pending: group.pending + group.replay.pending,
        oldestPendingId: group.oldestPendingId,
        oldestPendingIdleMs: group.oldestPendingIdleMs,
        consumers: group.consumers,
        activeConsumers: group.activeConsumers ?? 0,
        replayed: group.replay.lag === null ? group.replay.pending : group.replay.lag + group.replay.pending,
      }
      replayLag.set(row, group.replay.lag)
      return row
    })
    stats.push({
      topic: topic.topic,
      stream: topic.topic,
      partition: null,
      length: topic.length,
      firstId: topic.firstId,
      lastId: topic.lastId,
      lastGeneratedId: topic.lastGeneratedId,
      entriesAdded: topic.entriesAdded,
      deadLetterKey: deadLetterKey(topic.topic),
      deadLetters: topic.deadLetters.state === 'stream' ? topic.deadLetters.length : 0,
      scheduled: topic.scheduled,
      scheduledDue: topic.scheduledDue,
      groups: groups.sort((a, b) => a.name.localeCompare(b.name)),
      warnings,
      node: topic.node ?? null,
    })
  }

  // Redis reports lag as unknown after deletions or an arbitrary SETID: count what follows the
  // group's last-delivered ID, exactly, up to a limit.
  for (const topic of stats) {
    for (const group of topic.groups) {
      if (group.lagSource !== 'unknown') continue
      const after = await redis.xrange(topic.stream, `(${group.lastDeliveredId}`, '+', 'COUNT', LAG_COUNT_LIMIT + 1)
      if (after.length <= LAG_COUNT_LIMIT) {
        group.lag = after.length
        group.lagSource = 'counted'
      }
    }
  }
  for (const [group, lag] of replayLag) {
    group.lag = lagWithReplay(group.lag, lag)
    if (lag === null) group.lagSource = 'unknown'
  }
  return stats
}

/**
 * The stats of a topic that does not exist but whose dead-letter stream holds entries (it was
 * deleted), or whose schedule holds messages (nothing appended to it yet).
 */
function missingTopic({topic, deadLetters, scheduled, scheduledDue, node}: Extract<RawTopic, {kind: 'missing'}>): TopicStats {
  // Scheduled messages alone need no warning: the row shows them, and the first appended makes the stream.
  const warnings = deadLetters > 0 ? [`topic "${topic}" does not exist; its dead-letter stream "${deadLetterKey(topic)}" still holds ${deadLetters} entr${deadLetters === 1 ? 'y' : 'ies'}`] : []
  return {
    topic,
    stream: topic,
    partition: null,
    length: 0,
    firstId: null,
    lastId: null,
    lastGeneratedId: null,
    entriesAdded: null,
    deadLetterKey: deadLetterKey(topic),
    deadLetters,
    scheduled,
    scheduledDue,
    groups: [],
    warnings,
    node: node ?? null,
  }
}

/** SCAN's arguments after the cursor, for stream keys matching a glob, `count` keys looked at per step. */
export const streamScanArgs = (match: string, count = 1000): Array<string | number> => ['MATCH', match, 'COUNT', count, 'TYPE', 'stream']

/** Every stream key in the database (SCAN … TYPE stream), optionally matching a glob; on a cluster, of every primary. */
export async function findStreams(redis: RedisClient, match: string): Promise<Set<string>> {
  return scanKeys(redis, streamScanArgs(match))
}

/** Every stream key in the database (SCAN … TYPE stream), optionally matching a glob, without dead-letter streams of listed topics. */
export async function findTopics(redis: RedisClient, match = '*'): Promise<string[]> {
  return withoutDeadLetterStreams(await findStreams(redis, match))
}

/**
 * What `lag` reads over the whole database: every topic; the topic of a dead-letter stream whose
 * topic was deleted (shown with its dead letters); and the dead-letter streams themselves, which
 * `topicStats` keeps only when a consumer group reads them (`deadLetterStreams`).
 */
export async function findTopicsAndDeadLetters(redis: RedisClient, match = '*'): Promise<{topics: string[]; deadLetterStreams: Set<string>}> {
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
