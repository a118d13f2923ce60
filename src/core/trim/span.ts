import type {RedisClient} from '../redis/client.js'
import {callScript, type ScriptSpec} from '../scripts.js'

/**
 * Entries of a run of a stream and their bytes, counted inside Redis a slice at a time
 * (src/lua/count-span-1.lua): what a trim would remove, without reading it out of Redis.
 */

const COUNT_SCRIPT: ScriptSpec = {name: 'qctlCountSpan', file: 'count-span-1.lua', keys: 1}

/** Entries per script call: about a millisecond of Redis's time for small entries (see the README, Performance). */
export const SPAN_SLICE = 2000

export interface Span {
  entries: number
  /** Field names and values, as XRANGE returns them. */
  bytes: number
  /** The last entry counted; undefined when none was. */
  lastId: string | undefined
}

export const EMPTY_SPAN: Span = {entries: 0, bytes: 0, lastId: undefined}

/**
 * Count the entries of `stream` after `after` (undefined: from its start) and below `before` (an ID;
 * undefined: to its end), at most `most`.
 */
export async function countSpan(redis: RedisClient, stream: string, range: {after?: string | undefined; before?: string | undefined; most?: number}): Promise<Span> {
  const most = range.most ?? Number.POSITIVE_INFINITY
  // No entry is below 0-0 (and Redis refuses `(0-0` as an end).
  if (range.before === '0-0') return EMPTY_SPAN
  let span = EMPTY_SPAN
  let after = range.after
  while (span.entries < most) {
    const slice = Math.min(SPAN_SLICE, most - span.entries)
    const [entries, bytes, lastId] = (await callScript(redis, COUNT_SCRIPT, [stream, after === undefined ? '-' : `(${after}`, range.before ?? '+', slice])) as [number, number, string | null]
    if (Number(entries) === 0) break
    span = {entries: span.entries + Number(entries), bytes: span.bytes + Number(bytes), lastId: lastId ?? undefined}
    if (Number(entries) < slice || lastId === null) break
    after = lastId
  }
  return span
}

