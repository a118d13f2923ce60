import {waitingKeysKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'

/**
 * The busiest keys of an ordered group (`qctl work --ordered`), as its workers report them for
 * `qctl top`: per stream (a partition's, or a plain topic's), the keys with the most messages
 * waiting behind an earlier one of theirs in a worker, written to `waitingKeysKey(stream, group)`
 * (keys.ts: a hash, field = consumer, value = JSON) every KEY_REPORT_MS by each worker reading the
 * stream, and read by `top`'s detail view.
 */

/** How often a worker writes its report. */
export const KEY_REPORT_MS = 2000
/** A report older than this (its worker stopped or lost the partition) is not shown. */
export const KEY_REPORT_STALE_MS = 3 * KEY_REPORT_MS
/** The report key expires this long after the last write (nobody reports any more). */
const KEY_REPORT_TTL_MS = 5 * KEY_REPORT_MS
/** Keys per report: the busiest, most waiting first. */
export const KEYS_PER_REPORT = 10

export interface WaitingKey {
  key: string
  /** Messages of the key held by the worker and waiting behind an earlier one of the key (read ahead, or only their IDs kept). */
  waiting: number
}

/** One worker's report on one stream. */
export interface KeyReport {
  stream: string
  /** Redis's clock (ms) when it was written. */
  at: number
  keys: WaitingKey[]
}

/** Write this consumer's reports (one round trip per node), each field expiring with its hash. */
export async function writeKeyReports(redis: RedisClient, group: string, consumer: string, reports: readonly KeyReport[]): Promise<void> {
  // pipelineByKey pairs one reply with each item: two commands queued for one item left the second
  // half of the replies unread (a failed write or, on a cluster, a redirection went unnoticed). So
  // each command is an item; keyed on the same stream, a report's two go to the same node, in order.
  const commands = reports.flatMap((report) => [{report, command: 'hset' as const}, {report, command: 'pexpire' as const}])
  const replies = await pipelineByKey(
    redis,
    commands,
    ({report}) => report.stream,
    (pipeline, {report, command}) => {
      const key = waitingKeysKey(report.stream, group)
      if (command === 'hset') pipeline.hset(key, consumer, JSON.stringify({at: report.at, keys: report.keys}))
      else pipeline.pexpire(key, KEY_REPORT_TTL_MS)
    },
  )
  const failed = replies.find(([error]) => error !== null)
  if (failed?.[0]) throw failed[0]
}

/** Remove this consumer's reports (a clean stop, or a partition given up). */
export async function clearKeyReports(redis: RedisClient, group: string, consumer: string, streams: readonly string[]): Promise<void> {
  await pipelineByKey(redis, streams, (stream) => stream, (pipeline, stream) => pipeline.hdel(waitingKeysKey(stream, group), consumer))
}

/**
 * The busiest keys of a stream's reports (HGETALL of its waiting key), the fresh ones only (`nowMs`:
 * Redis's clock), merged over workers (a key counts in each worker that holds some of it), most first.
 * A value that is not a report qctl wrote is skipped: the hash is only advice for a view.
 */
export function parseKeyReports(hash: Readonly<Record<string, string>>, nowMs: number, limit = KEYS_PER_REPORT): WaitingKey[] {
  const merged = new Map<string, number>()
  for (const value of Object.values(hash)) {
    const report = parseReport(value)
    if (report === undefined || nowMs - report.at > KEY_REPORT_STALE_MS) continue
    for (const {key, waiting} of report.keys) merged.set(key, (merged.get(key) ?? 0) + waiting)
  }
  return [...merged]
    .map(([key, waiting]) => ({key, waiting}))
    .sort((a, b) => b.waiting - a.waiting || (a.key < b.key ? -1 : 1))
    .slice(0, limit)
}

function parseReport(value: string): {at: number; keys: WaitingKey[]} | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const {at, keys} = parsed as {at?: unknown; keys?: unknown}
  if (typeof at !== 'number' || !Array.isArray(keys)) return undefined
  // A count below 1 is not a waiting key: merged, a negative one would hide other workers' messages.
  const valid = keys.filter((entry): entry is WaitingKey => typeof entry === 'object' && entry !== null && typeof (entry as WaitingKey).key === 'string' && Number.isInteger((entry as WaitingKey).waiting) && (entry as WaitingKey).waiting > 0)
  return {at, keys: valid}
}
