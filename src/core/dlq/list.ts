import {notFoundError, usageError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import {dlqEntryJson, type DlqEntry, type DlqEntryJson} from './entry.js'
import {dlqLength, getDlqEntry, listDlqEntries, scanDlq} from './read.js'
import {matchesFilters, recordsTopic, rangeOf, type Selection} from './selection.js'
import {firstIdAt, formatStreamId, parseStreamId} from './stream-id.js'

/** One dead-letter stream's entries, as `listDlq` reads them (`qctl dlq list` of a plain topic). */
export interface DlqListResult {
  /** The dead-letter stream. */
  dlq: string
  /** Entries in it (0 when it does not exist), filtered or not. */
  total: number
  order: 'newest' | 'oldest'
  /** Whether filters (--error, --group, --since, --until, --older-than) narrowed the entries. */
  filtered: boolean
  /** Whether more entries (that pass the filters) exist than `entries` shows. */
  more: boolean
  /** At most `--limit` entries (those that pass the filters), in `order`. */
  entries: DlqEntry[]
}

/** One partition's dead-letter stream in `qctl dlq list` (`partitions` in its --json). */
export interface ListPartition {
  partition: number
  /** Its dead-letter stream. */
  dlq: string
  /** Entries in it (0 when it does not exist), filtered or not. */
  total: number
}

/**
 * The result of `qctl dlq list`: a plain topic's dead-letter stream, or a partitioned topic's
 * partitions' dead-letter streams as one (entries merged in ID order, each with its partition).
 */
export interface TopicDlqListResult extends Omit<DlqListResult, 'dlq'> {
  topic: string
  partitioned: boolean
  /** The dead-letter stream when one was read (a plain topic's, or the one of `--partition`); null over several partitions. */
  dlq: string | null
  /** Each partition's dead-letter stream and its entry count (`total` sums them); null for a plain topic. */
  partitions: ListPartition[] | null
}

/** Its `--json` output: the entries with their payload parsed. */
export interface DlqListJson extends Omit<TopicDlqListResult, 'entries'> {
  entries: DlqEntryJson[]
}

export const dlqListJson = (result: TopicDlqListResult): DlqListJson => ({...result, entries: result.entries.map(dlqEntryJson)})

/** Filters of `qctl dlq list`: every given one must hold. */
export type ListFilters = Omit<Selection, 'topic' | 'ids'>

export interface ListRequest {
  key: string
  order: 'newest' | 'oldest'
  limit: number
  filters?: ListFilters | undefined
  /** The partition whose dead-letter stream `key` is (recorded in each entry); null for a plain topic. */
  partition?: number | null | undefined
}

export const hasFilters = (filters: ListFilters | undefined): filters is ListFilters =>
  filters !== undefined && Object.values(filters).some((value) => value !== undefined)

/**
 * The first `limit` entries in `order` that pass the filters. With filters, the stream is read a
 * page at a time (within the --since/--until range) until one more than `limit` passed or it ends.
 */
export async function listDlq(redis: RedisClient, request: ListRequest): Promise<DlqListResult> {
  const {key, order, limit, filters} = request
  const partition = request.partition ?? null
  if (!Number.isInteger(limit) || limit < 1) throw usageError(`limit must be a whole number of at least 1, not ${limit}`)
  const total = await dlqLength(redis, key)
  const filtered = hasFilters(filters)
  if (total === 0) return {dlq: key, total, order, filtered, more: false, entries: []}
  if (!filtered) {
    const entries = await listDlqEntries(redis, {key, order, limit, partition})
    return {dlq: key, total, order, filtered, more: entries.length < total, entries}
  }
  // One more than asked for, to know whether there are more.
  const entries: DlqEntry[] = []
  await scanDlq(redis, key, {...rangeOf(filters), order}, (entry) => {
    if (matchesFilters(entry, filters)) entries.push(entry)
    return entries.length <= limit
  }, partition)
  const more = entries.length > limit
  return {dlq: key, total, order, filtered, more, entries: more ? entries.slice(0, limit) : entries}
}

/** The result of `qctl dlq show`: one entry, and how the ID given found it. */
export interface DlqShowResult {
  entry: DlqEntry
  /** The dead-letter stream it is in. */
  dlq: string
  /** `dlqId`: the ID is the entry's own; `originId`: the ID the message had on its topic (`dlq.id`). */
  matchedBy: 'dlqId' | 'originId'
  /** Other dead-letter entries with the same origin ID (the message dead-lettered more than once), oldest first. */
  otherMatches: string[]
}

/** Its `--json` output: the entry as `qctl dlq list` gives it, plus `matchedBy`, `otherMatches` and `dlq`. */
export type DlqShowJson = DlqEntryJson & Omit<DlqShowResult, 'entry'>

export const dlqShowJson = (result: DlqShowResult): DlqShowJson => ({...dlqEntryJson(result.entry), matchedBy: result.matchedBy, otherMatches: result.otherMatches, dlq: result.dlq})

/**
 * One entry by its dead-letter ID, or else by its origin ID (what `qctl work` prints when it
 * dead-letters): the latest of the entries dead-lettered from TOPIC with that origin ID, the
 * others listed. NOT_FOUND (exit 6) when neither matches.
 */
export async function showDlqEntry(redis: RedisClient, request: {key: string; topic: string; id: string; partitionOf?: string | undefined}): Promise<DlqShowResult> {
  const {key, topic} = request
  const {id, ms} = parseShowId(request.id)
  const entry = await getDlqEntry(redis, key, id)
  if (entry !== undefined) return {entry, dlq: key, matchedBy: 'dlqId', otherMatches: []}

  const found = originMatch(await findByOriginId(redis, key, topic, id, ms, null, request.partitionOf), key)
  if (found !== undefined) return found
  const where =
    (await redis.exists(key)) === 0
      ? `no entry ${id}: the dead-letter stream ${key} does not exist`
      : `no entry ${id} in the dead-letter stream ${key} (as a dead-letter ID or the origin ID of a message of ${topic})`
  throw notFoundError(where, {suggestion: 'list the entries with qctl dlq list TOPIC'})
}

/** The ID `qctl dlq show` was given, checked (exit 2 when it is no entry ID). */
export function parseShowId(text: string): {id: string; ms: number} {
  const id = text.trim()
  const parsed = parseStreamId(id)
  if (parsed === undefined) throw usageError(`invalid entry ID "${text}": a dead-letter or origin entry ID looks like 1700000000000-0`)
  return {id, ms: parsed.ms}
}

/** The latest of the entries an origin ID matched, the others named; undefined for none. */
export function originMatch(matches: readonly DlqEntry[], key: string): DlqShowResult | undefined {
  const latest = matches.at(-1)
  if (latest === undefined) return undefined
  return {entry: latest, dlq: key, matchedBy: 'originId', otherMatches: matches.slice(0, -1).map((match) => match.dlqId)}
}

/**
 * Entries dead-lettered from `topic` whose origin ID is `originId`, oldest first. A message is
 * dead-lettered after it was added, so the entries after its time are read first; the rest only
 * when none is there (an origin ID from a clock ahead of the server's).
 */
export async function findByOriginId(redis: RedisClient, key: string, topic: string, originId: string, originMs: number, partition: number | null = null, partitionOf?: string): Promise<DlqEntry[]> {
  const matches: DlqEntry[] = []
  const visit = (entry: DlqEntry): boolean => {
    if (entry.originId === originId && recordsTopic(entry, topic, partitionOf)) matches.push(entry)
    return true
  }
  const from = formatStreamId(firstIdAt(originMs))
  await scanDlq(redis, key, {start: from, end: '+'}, visit, partition)
  if (matches.length === 0 && originMs > 0) await scanDlq(redis, key, {start: '-', end: `(${from}`}, visit, partition)
  return matches
}
