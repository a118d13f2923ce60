import type {Redis} from 'ioredis'

import {notFoundError, usageError} from '../errors.js'
import type {DlqEntry} from './entry.js'
import {dlqLength, getDlqEntry, listDlqEntries} from './read.js'
import {parseStreamId} from './stream-id.js'

/** The result of `qctl dlq list` (its `--json` output). */
export interface DlqListResult {
  /** The dead-letter stream. */
  dlq: string
  /** Entries in it (0 when it does not exist). */
  total: number
  order: 'newest' | 'oldest'
  /** At most `--limit` entries, in `order`. */
  entries: DlqEntry[]
}

export async function listDlq(redis: Redis, request: {key: string; order: 'newest' | 'oldest'; limit: number}): Promise<DlqListResult> {
  if (!Number.isInteger(request.limit) || request.limit < 1) throw usageError(`limit must be a whole number of at least 1, not ${request.limit}`)
  const total = await dlqLength(redis, request.key)
  const entries = total === 0 ? [] : await listDlqEntries(redis, request)
  return {dlq: request.key, total, order: request.order, entries}
}

/** One entry (the `--json` output of `qctl dlq show`); NOT_FOUND (exit 6) when there is none. */
export async function showDlqEntry(redis: Redis, key: string, id: string): Promise<DlqEntry> {
  if (parseStreamId(id) === undefined) throw usageError(`invalid entry ID "${id}": a dead-letter entry ID looks like 1700000000000-0`)
  const entry = await getDlqEntry(redis, key, id)
  if (entry === undefined) {
    const where = (await redis.exists(key)) === 0 ? `no entry ${id}: the dead-letter stream ${key} does not exist` : `no entry ${id} in the dead-letter stream ${key}`
    throw notFoundError(where, {suggestion: 'list the entries with qctl dlq list TOPIC'})
  }
  return entry
}
