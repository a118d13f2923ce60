import {usageError} from '../errors.js'
import {deadLetterKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {keyTypeOf, notAStreamText} from '../redis/key-type.js'
import {isWrongType} from '../redis/reply-errors.js'
import {decodeDlqEntry, type DlqEntry} from './entry.js'
import {compareIdText} from './stream-id.js'

/** The dead-letter stream of a topic, as `qctl work` derives it, unless `--dlq` names another. */
export const resolveDlqKey = (topic: string, override?: string): string => (override === undefined || override === '' ? deadLetterKey(topic) : override)

type RawEntry = [string, string[]]

/** A Redis WRONGTYPE reply as a usage error that names the key, what it holds, and the flag to change. */
export function dlqError(error: unknown, key: string, type?: string): unknown {
  if (isWrongType(error)) {
    return usageError(`${notAStreamText(key, type)}, so it is not a dead-letter stream`, {
      cause: error,
      suggestion: 'name the dead-letter stream with --dlq KEY',
      details: {key, type: type ?? null},
    })
  }
  return error
}

/** The same, reading what the key holds first. */
export async function dlqErrorIn(redis: RedisClient, error: unknown, key: string): Promise<unknown> {
  return isWrongType(error) ? dlqError(error, key, await keyTypeOf(redis, key)) : error
}

async function guarded<T>(redis: RedisClient, key: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw await dlqErrorIn(redis, error, key)
  }
}

/** How many entries the dead-letter stream holds (0 when it does not exist). */
export async function dlqLength(redis: RedisClient, key: string): Promise<number> {
  return guarded(redis, key, async () => redis.xlen(key))
}

export interface ListRequest {
  key: string
  order: 'newest' | 'oldest'
  limit: number
  /** The partition whose dead-letter stream `key` is (recorded in each entry); null for a plain topic. */
  partition?: number | null | undefined
}

/** The first `limit` entries, newest first (or oldest first). */
export async function listDlqEntries(redis: RedisClient, request: ListRequest): Promise<DlqEntry[]> {
  const rows = (await guarded(redis, request.key, async () =>
    request.order === 'newest'
      ? redis.xrevrange(request.key, '+', '-', 'COUNT', request.limit)
      : redis.xrange(request.key, '-', '+', 'COUNT', request.limit),
  )) as RawEntry[]
  return rows.map(([id, pairs]) => decodeDlqEntry(id, pairs, request.partition ?? null))
}

/** One entry by its dead-letter ID; undefined when there is none. */
export async function getDlqEntry(redis: RedisClient, key: string, id: string): Promise<DlqEntry | undefined> {
  const rows = (await guarded(redis, key, async () => redis.xrange(key, id, id))) as RawEntry[]
  const row = rows[0]
  return row === undefined ? undefined : decodeDlqEntry(row[0], row[1])
}

/** Entries by ID (oldest first) and the IDs that have no entry. */
export async function getDlqEntries(redis: RedisClient, key: string, ids: readonly string[], partition: number | null = null): Promise<{entries: DlqEntry[]; missing: string[]}> {
  const entries: DlqEntry[] = []
  const missing: string[] = []
  const pipeline = redis.pipeline()
  for (const id of ids) pipeline.xrange(key, id, id)
  const replies = (await pipeline.exec()) ?? []
  for (const [index, id] of ids.entries()) {
    const [error, rows] = replies[index] ?? [new Error('no reply'), undefined]
    if (error !== null) throw await dlqErrorIn(redis, error, key)
    const row = (rows as RawEntry[])[0]
    if (row === undefined) missing.push(id)
    else entries.push(decodeDlqEntry(row[0], row[1], partition))
  }
  entries.sort((a, b) => compareIdText(a.dlqId, b.dlqId))
  return {entries, missing}
}

/** The ID of the newest entry right now; undefined when the stream is empty or missing. */
export async function lastDlqId(redis: RedisClient, key: string): Promise<string | undefined> {
  const rows = (await guarded(redis, key, async () => redis.xrevrange(key, '+', '-', 'COUNT', 1))) as RawEntry[]
  return rows[0]?.[0]
}

export interface ScanRange {
  start: string
  end: string
  pageSize?: number
  /** Oldest first (the default) or newest first. */
  order?: 'oldest' | 'newest'
}

/**
 * Every entry in [start, end], oldest first (or newest first), a page at a time: `visit` returns
 * false to stop. Flat memory: only one page is held. Entries record `partition` (the one whose
 * dead-letter stream `key` is; null for a plain topic).
 */
export async function scanDlq(redis: RedisClient, key: string, range: ScanRange, visit: (entry: DlqEntry) => boolean, partition: number | null = null): Promise<void> {
  const pageSize = range.pageSize ?? 1000
  const newestFirst = range.order === 'newest'
  let {start, end} = range
  for (;;) {
    const rows = (await guarded(redis, key, async () =>
      newestFirst ? redis.xrevrange(key, end, start, 'COUNT', pageSize) : redis.xrange(key, start, end, 'COUNT', pageSize),
    )) as RawEntry[]
    for (const [id, pairs] of rows) if (!visit(decodeDlqEntry(id, pairs, partition))) return
    const last = rows.at(-1)
    if (last === undefined || rows.length < pageSize) return
    if (newestFirst) end = `(${last[0]}`
    else start = `(${last[0]}`
  }
}
