import {notFoundError, usageError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import {dlqEntryJson, type DlqEntry, type DlqEntryJson} from './entry.js'
import {dlqLength, getDlqEntry, listDlqEntries, scanDlq} from './read.js'
import {matchesFilters, rangeOf, type Selection} from './selection.js'
import {firstIdAt, formatStreamId, parseStreamId} from './stream-id.js'

/** The result of `qctl dlq list`. */
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

/** Its `--json` output: the entries with their payload parsed. */
export interface DlqListJson extends Omit<DlqListResult, 'entries'> {
  entries: DlqEntryJson[]
}

export const dlqListJson = (result: DlqListResult): DlqListJson => ({...result, entries: result.entries.map(dlqEntryJson)})

/** Filters of `qctl dlq list`: every given one must hold. */
export type ListFilters = Omit<Selection, 'topic' | 'ids'>

export interface ListRequest {
  key: string
  order: 'newest' | 'oldest'
  limit: number
  filters?: ListFilters | undefined
}

const hasFilters = (filters: ListFilters | undefined): filters is ListFilters =>
  filters !== undefined && Object.values(filters).some((value) => value !== undefined)

/**
 * The first `limit` entries in `order` that pass the filters. With filters, the stream is read a
 * page at a time (within the --since/--until range) until one more than `limit` passed or it ends.
 */
export async function listDlq(redis: RedisClient, request: ListRequest): Promise<DlqListResult> {
  const {key, order, limit, filters} = request
  if (!Number.isInteger(limit) || limit < 1) throw usageError(`limit must be a whole number of at least 1, not ${limit}`)
  const total = await dlqLength(redis, key)
  const filtered = hasFilters(filters)
  if (total === 0) return {dlq: key, total, order, filtered, more: false, entries: []}
  if (!filtered) {
    const entries = await listDlqEntries(redis, {key, order, limit})
    return {dlq: key, total, order, filtered, more: entries.length < total, entries}
  }
  // One more than asked for, to know whether there are more.
  const entries: DlqEntry[] = []
  await scanDlq(redis, key, {...rangeOf(filters), order}, (entry) => {
    if (matchesFilters(entry, filters)) entries.push(entry)
    return entries.length <= limit
  })
  const more = entries.length > limit
  return {dlq: key, total, order, filtered, more, entries: more ? entries.slice(0, limit) : entries}
}

/** The result of `qctl dlq show`: one entry, and how the ID given found it. */
export interface DlqShowResult {
  entry: DlqEntry
  /** `dlqId`: the ID is the entry's own; `originId`: the ID the message had on its topic (`dlq.id`). */
  matchedBy: 'dlqId' | 'originId'
  /** Other dead-letter entries with the same origin ID (the message dead-lettered more than once), oldest first. */
  otherMatches: string[]
}

/** Its `--json` output: the entry as `qctl dlq list` gives it, plus `matchedBy` and `otherMatches`. */
export type DlqShowJson = DlqEntryJson & Omit<DlqShowResult, 'entry'>

export const dlqShowJson = (result: DlqShowResult): DlqShowJson => ({...dlqEntryJson(result.entry), matchedBy: result.matchedBy, otherMatches: result.otherMatches})

/**
 * One entry by its dead-letter ID, or else by its origin ID (what `qctl work` prints when it
 * dead-letters): the latest of the entries dead-lettered from TOPIC with that origin ID, the
 * others listed. NOT_FOUND (exit 6) when neither matches.
 */
export async function showDlqEntry(redis: RedisClient, request: {key: string; topic: string; id: string}): Promise<DlqShowResult> {
  const {key, topic} = request
  const id = request.id.trim()
  const parsed = parseStreamId(id)
  if (parsed === undefined) throw usageError(`invalid entry ID "${request.id}": a dead-letter or origin entry ID looks like 1700000000000-0`)
  const entry = await getDlqEntry(redis, key, id)
  if (entry !== undefined) return {entry, matchedBy: 'dlqId', otherMatches: []}

  const matches = await findByOriginId(redis, key, topic, id, parsed.ms)
  const latest = matches.at(-1)
  if (latest !== undefined) return {entry: latest, matchedBy: 'originId', otherMatches: matches.slice(0, -1).map((match) => match.dlqId)}
  const where =
    (await redis.exists(key)) === 0
      ? `no entry ${id}: the dead-letter stream ${key} does not exist`
      : `no entry ${id} in the dead-letter stream ${key} (as a dead-letter ID or the origin ID of a message of ${topic})`
  throw notFoundError(where, {suggestion: 'list the entries with qctl dlq list TOPIC'})
}

/**
 * Entries dead-lettered from `topic` whose origin ID is `originId`, oldest first. A message is
 * dead-lettered after it was added, so the entries after its time are read first; the rest only
 * when none is there (an origin ID from a clock ahead of the server's).
 */
async function findByOriginId(redis: RedisClient, key: string, topic: string, originId: string, originMs: number): Promise<DlqEntry[]> {
  const matches: DlqEntry[] = []
  const visit = (entry: DlqEntry): boolean => {
    if (entry.originId === originId && (entry.originTopic === null || entry.originTopic === topic)) matches.push(entry)
    return true
  }
  const from = formatStreamId(firstIdAt(originMs))
  await scanDlq(redis, key, {start: from, end: '+'}, visit)
  if (matches.length === 0 && originMs > 0) await scanDlq(redis, key, {start: '-', end: `(${from}`}, visit)
  return matches
}
