import type {Redis} from 'ioredis'

import {retryDueKey, retryKey} from '../../src/core/keys.js'
import {formatAttemptRecord, parseAttemptRecord} from '../../src/core/worker/attempts.js'
import {GroupOps, type ParkOutcome} from '../../src/core/worker/group-ops.js'

/**
 * Arranging and reading a consumer group's state for the tests of the worker's scripts (test/lua/):
 * topics with entries, deliveries to named consumers, and what Redis holds of one entry.
 */

export const GROUP = 'billing'

/** A topic with `entries` entries (`n` = 1, 2, …) and the group at the start. */
export interface Topic {
  name: string
  ids: string[]
  /** GroupOps of `consumer` on this topic: the worker's own calls. */
  ops(consumer: string): GroupOps
}

export async function createTopic(redis: Redis, name: string, entries: number): Promise<Topic> {
  const pipeline = redis.pipeline()
  for (let n = 1; n <= entries; n++) pipeline.xadd(name, '*', 'n', String(n))
  const replies = (await pipeline.exec()) ?? []
  await redis.xgroup('CREATE', name, GROUP, '0', 'MKSTREAM')
  return {name, ids: replies.map(([, id]) => String(id)), ops: (consumer: string) => new GroupOps(redis, name, GROUP, consumer)}
}

/** Deliver the next `count` new entries to `consumer` (XREADGROUP `>`); returns their IDs. */
export async function deliver(redis: Redis, topic: string, consumer: string, count: number): Promise<string[]> {
  // COUNT 0 would mean no limit.
  if (count === 0) return []
  const reply = (await redis.xreadgroup('GROUP', GROUP, consumer, 'COUNT', count, 'STREAMS', topic, '>')) as Array<[string, Array<[string, string[]]>]> | null
  return (reply?.[0]?.[1] ?? []).map(([id]) => id)
}

/** An entry's row in the group's pending list, or undefined if it is not pending. */
export interface PendingRow {
  consumer: string
  idleMs: number
  deliveries: number
}

export async function pendingRow(redis: Redis, topic: string, id: string): Promise<PendingRow | undefined> {
  const [row] = (await redis.xpending(topic, GROUP, id, id, 1)) as Array<[string, string, number, number]>
  return row === undefined ? undefined : {consumer: row[1], idleMs: Number(row[2]), deliveries: Number(row[3])}
}

/** Everything Redis holds of one entry for the group: pending row, attempt record, due time, whether it is in the stream. */
export interface EntryState {
  pending: PendingRow | undefined
  record: string | null
  dueMs: number | null
  inStream: boolean
}

/** The record as the scripts see it: `<id>` as written, with the `<id>+` starts (HINCRBY) folded in when there are any. */
async function recordOf(redis: Redis, topic: string, id: string): Promise<string | null> {
  const [text, plus] = await redis.hmget(retryKey(topic, GROUP), id, `${id}+`)
  if (plus === null || plus === undefined) return text ?? null
  const record = parseAttemptRecord(text, plus)
  return record === undefined ? null : formatAttemptRecord(record)
}

export async function entryState(redis: Redis, topic: string, id: string): Promise<EntryState> {
  const due = await redis.zscore(retryDueKey(topic, GROUP), id)
  return {
    pending: await pendingRow(redis, topic, id),
    record: await recordOf(redis, topic, id),
    dueMs: due === null ? null : Number(due),
    inStream: (await redis.xrange(topic, id, id)).length === 1,
  }
}

/** Write attempt records (id -> "first:starts:settled:solo", or an older worker's "first:due"). */
export async function writeRecords(redis: Redis, topic: string, records: Record<string, string>): Promise<void> {
  await redis.hset(retryKey(topic, GROUP), records)
}

/** Make entries `consumer` holds look idle for `idleMs` (XCLAIM … IDLE … JUSTID: no delivery counted). */
export async function makeIdle(redis: Redis, topic: string, consumer: string, ids: readonly string[], idleMs: number): Promise<void> {
  await new GroupOps(redis, topic, GROUP, consumer).setIdle(ids, idleMs)
}

/** Redis's clock, ms. */
export async function redisTimeMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time()
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
}

/** Calls per command so far (INFO commandstats; commands a script runs are counted too). */
export async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>()
  for (const match of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1] as string, Number(match[2]))
  return calls
}

/** Calls per command between two `commandCalls` readings, without `leaving` out (e.g. the INFO that read them). */
export function callsBetween(before: Map<string, number>, after: Map<string, number>, leaving: readonly string[] = ['info']): Record<string, number> {
  const delta: Record<string, number> = {}
  for (const [command, calls] of after) {
    const made = calls - (before.get(command) ?? 0)
    if (made > 0 && !leaving.includes(command)) delta[command] = made
  }
  return delta
}

/** Park one entry (GroupOps parks in batches): its outcome. */
export async function parkOne(ops: GroupOps, id: string, delayMs: number, attempt: number): Promise<ParkOutcome> {
  const [outcome] = await ops.park([{id, delayMs, attempt}])
  return outcome
}

/**
 * Mark a start as the worker does: a suspect (solo) through mark-start-2.lua, which refuses an entry
 * no longer this consumer's (false); any other by a plain HINCRBY, which always counts (true).
 */
export async function markStartAs(ops: GroupOps, id: string, solo: boolean): Promise<boolean> {
  if (solo) return ops.markSoloStart(id)
  // As the worker does: the record it read when it took the entry, written back with one more start.
  const [record] = await ops.records([id])
  await ops.markStarts([{id, record}])
  return true
}

/** Park one entry that must be parked: its due and first-failure times. */
export async function parkOk(ops: GroupOps, id: string, delayMs: number, attempt: number): Promise<{dueMs: number; firstFailureMs: number}> {
  const outcome = await parkOne(ops, id, delayMs, attempt)
  if (outcome === undefined || outcome === 'deleted') throw new Error(`${id} was not parked: ${String(outcome)}`)
  return outcome
}
