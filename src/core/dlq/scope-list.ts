import {usageError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {decodeDlqEntry, type DlqEntry} from './entry.js'
import {hasFilters, listDlq, type DlqListResult, type ListFilters, type TopicDlqListResult} from './list.js'
import {dlqErrorIn} from './read.js'
import type {DlqPart, DlqScope} from './scope.js'
import {compareIdText} from './stream-id.js'

export interface ScopeListRequest {
  order: 'newest' | 'oldest'
  limit: number
  filters?: ListFilters | undefined
}

/** Entries of several dead-letter streams in one ID order (equal IDs of two partitions: the lower partition first). */
export function mergeEntries(lists: ReadonlyArray<readonly DlqEntry[]>, order: 'newest' | 'oldest'): DlqEntry[] {
  const sign = order === 'newest' ? -1 : 1
  return lists.flat().sort((a, b) => sign * compareIdText(a.dlqId, b.dlqId) || (a.partition ?? 0) - (b.partition ?? 0))
}

/**
 * `qctl dlq list` over a scope. A plain topic (or one partition) is listed as before. Over several
 * partitions, the first `limit` entries in `order` of all of them: without filters, each partition's
 * length and its first `limit` entries in one round trip (one per primary on a cluster), then merged,
 * so no more than `limit` entries per partition are ever read; with filters, each partition is read
 * as a plain topic's stream is (a page at a time until one more than `limit` passed), then merged.
 */
export async function listScope(redis: RedisClient, scope: DlqScope, request: ScopeListRequest): Promise<TopicDlqListResult> {
  const {order, limit, filters} = request
  if (!Number.isInteger(limit) || limit < 1) throw usageError(`limit must be a whole number of at least 1, not ${limit}`)
  const lists =
    scope.parts.length > 1 && !hasFilters(filters)
      ? await firstOfEach(redis, scope.parts, order, limit)
      : await Promise.all(scope.parts.map(async (part) => listDlq(redis, {key: part.key, order, limit, filters, partition: part.partition})))
  const merged = mergeEntries(
    lists.map((list) => list.entries),
    order,
  )
  const total = lists.reduce((sum, list) => sum + list.total, 0)
  const entries = merged.slice(0, limit)
  const filtered = hasFilters(filters)
  // Unfiltered, `total` says whether more exist; filtered, a stream that found more, or the merge cut some.
  const more = filtered ? merged.length > limit || lists.some((list) => list.more) : entries.length < total
  return {
    topic: scope.topic,
    partitioned: scope.partitioned,
    dlq: scope.parts.length === 1 ? (lists[0] as DlqListResult).dlq : null,
    partitions: scope.partitioned ? scope.parts.map((part, index) => ({partition: part.partition ?? 0, dlq: part.key, total: lists[index]?.total ?? 0})) : null,
    total,
    order,
    filtered,
    more,
    entries,
  }
}

type Reading = {part: DlqPart; read: 'length' | 'entries'}

/** Each part's XLEN and first `limit` entries in `order`, pipelined per primary. */
async function firstOfEach(redis: RedisClient, parts: readonly DlqPart[], order: 'newest' | 'oldest', limit: number): Promise<DlqListResult[]> {
  const readings = parts.flatMap((part): Reading[] => [
    {part, read: 'length'},
    {part, read: 'entries'},
  ])
  const replies = await pipelineByKey(redis, readings, (reading) => reading.part.key, (pipeline, {part, read}) => {
    if (read === 'length') pipeline.xlen(part.key)
    else if (order === 'newest') pipeline.xrevrange(part.key, '+', '-', 'COUNT', limit)
    else pipeline.xrange(part.key, '-', '+', 'COUNT', limit)
  })
  const lists: DlqListResult[] = []
  for (const [index, part] of parts.entries()) {
    const [lengthError, length] = replies[2 * index] ?? [new Error('no reply'), null]
    const [entriesError, rows] = replies[2 * index + 1] ?? [new Error('no reply'), null]
    const error = lengthError ?? entriesError
    if (error !== null) throw await dlqErrorIn(redis, error, part.key)
    const entries = (rows as Array<[string, string[]]>).map(([id, pairs]) => decodeDlqEntry(id, pairs, part.partition))
    const total = length as number
    lists.push({dlq: part.key, total, order, filtered: false, more: entries.length < total, entries})
  }
  return lists
}
