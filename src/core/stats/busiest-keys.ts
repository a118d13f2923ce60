import {waitingKeysKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey, type PipelineReply} from '../redis/keyed-pipeline.js'
import {timeReplyMs} from '../redis/redis-time.js'
import {firstLineOf, isPermissionDenied} from '../redis/reply-errors.js'
import {KEYS_PER_REPORT, parseKeyReports, type WaitingKey} from '../worker/key-report.js'
import type {RateRow} from './rates.js'

/**
 * The busiest keys of a group, as `qctl top` shows them: the keys with the most messages waiting
 * behind an earlier one of theirs in the group's ordered workers (`qctl work --ordered`), from the
 * reports the workers keep per stream (worker/key-report.ts), merged over the group's workers and,
 * for a partitioned topic, over its partitions.
 */

/** How many keys `top` shows (detail view, `--json`): as many as a worker reports per stream. */
export const BUSIEST_KEYS_SHOWN = KEYS_PER_REPORT

export interface BusiestKey {
  key: string
  /** The partition whose stream holds the key's messages; null for a plain topic. */
  partition: number | null
  /** Messages of the key the group's workers hold, waiting behind an earlier one of the key. */
  waiting: number
}

/** One stream's keys, merged over the workers that report on it. */
export interface StreamKeys {
  partition: number | null
  keys: readonly WaitingKey[]
}

/**
 * The fresh keys of one stream's reports, from a TIME reply and the HGETALL of its waiting key,
 * both read in one pipeline on the node that holds the key: freshness is judged by that node's
 * clock, as the workers stamp their reports (the local clock may be off by minutes). The error when
 * either command failed (a refused read: advice for a view is no reason to fail the refresh).
 */
export function streamWaitingKeys([timeError, time]: PipelineReply, [hashError, hash]: PipelineReply, limit = BUSIEST_KEYS_SHOWN): WaitingKey[] | Error {
  if (timeError !== null) return timeError
  if (hashError !== null) return hashError
  return parseKeyReports(hash as Record<string, string>, timeReplyMs(time as [string, string]), limit)
}

/** The most waiting keys over the streams, most first (ties: by partition, then key). */
export function mergeBusiestKeys(streams: readonly StreamKeys[], limit = BUSIEST_KEYS_SHOWN): BusiestKey[] {
  const all: BusiestKey[] = []
  for (const {partition, keys} of streams) for (const {key, waiting} of keys) all.push({key, partition, waiting})
  return all.sort((a, b) => b.waiting - a.waiting || (a.partition ?? -1) - (b.partition ?? -1) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, limit)
}

/** A group whose busiest keys to read, on its streams: a plain topic's one, or each partition's. */
export interface KeysTarget {
  group: string
  streams: ReadonlyArray<{stream: string; partition: number | null}>
}

/**
 * The busiest keys of each target, in order, or the error that kept one of its streams from being
 * read. One pipeline (on a cluster, one per primary, in parallel): per stream, TIME and the HGETALL,
 * side by side so they reach the same node.
 */
export async function readBusiestKeys(redis: RedisClient, targets: readonly KeysTarget[], limit = BUSIEST_KEYS_SHOWN): Promise<Array<BusiestKey[] | Error>> {
  const reads = targets.flatMap((target, index) => target.streams.map(({stream, partition}) => ({index, stream, partition, key: waitingKeysKey(stream, target.group)})))
  const items = reads.flatMap(({stream, key}) => [{stream, key: null}, {stream, key}])
  const replies = await pipelineByKey(redis, items, (item) => item.stream, (pipeline, item) => (item.key === null ? pipeline.time() : pipeline.hgetall(item.key)))
  const parts = targets.map((): StreamKeys[] => [])
  const failures = new Map<number, Error>()
  reads.forEach(({index, partition}, at) => {
    const keys = streamWaitingKeys(replies[2 * at] ?? [new Error('missing reply'), null], replies[2 * at + 1] ?? [new Error('missing reply'), null], limit)
    if (keys instanceof Error) failures.set(index, keys)
    else parts[index]?.push({partition, keys})
  })
  return targets.map((_target, index) => failures.get(index) ?? mergeBusiestKeys(parts[index] ?? [], limit))
}

/**
 * What `top --json` reads for its rows: each group of a topic (not a dead-letter row), on the
 * streams where the group exists; rows without one get none.
 */
export function keysTargetOf(row: RateRow): KeysTarget | null {
  if (row.group === null || row.kind !== 'topic') return null
  if (row.perPartition === null) return {group: row.group, streams: [{stream: row.topic, partition: null}]}
  return {group: row.group, streams: row.perPartition.filter((partition) => partition.groupExists).map(({stream, partition}) => ({stream, partition}))}
}

export interface RowsKeys {
  /** Per row, in order: its busiest keys; null for a row without a group's keys to read, or whose read failed. */
  keys: Array<BusiestKey[] | null>
  /** Reads that failed, in one line (a role without the read: README, Least-privilege ACL roles); null when none did. */
  warning: string | null
}

/** The busiest keys of `top --json`'s rows. */
export async function readRowsBusiestKeys(redis: RedisClient, rows: readonly RateRow[]): Promise<RowsKeys> {
  const targets = rows.map(keysTargetOf)
  const asked = targets.flatMap((target, index) => (target === null ? [] : [{target, index}]))
  const read = await readBusiestKeys(
    redis,
    asked.map(({target}) => target),
  )
  const keys = rows.map((): BusiestKey[] | null => null)
  const failed: string[] = []
  let reason: unknown
  asked.forEach(({index}, at) => {
    const result = read[at]
    if (result === undefined || result instanceof Error) {
      const row = rows[index] as RateRow
      failed.push(`${row.topic}/${row.group ?? ''}`)
      reason ??= result
    } else keys[index] = result
  })
  return {keys, warning: failed.length === 0 ? null : keysWarning(failed, reason)}
}

function keysWarning(failed: readonly string[], reason: unknown): string {
  const which = failed.length === 1 ? (failed[0] as string) : `${failed.length} groups (${failed[0] as string}, …)`
  const hint = isPermissionDenied(reason) ? ': the role needs TIME and HGETALL of {TOPIC}:waiting:* (README, Least-privilege ACL roles)' : ''
  return `the busiest keys of ${which} could not be read (${firstLineOf(reason)})${hint}`
}
