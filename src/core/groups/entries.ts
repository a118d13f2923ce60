import {compareIdText} from '../dlq/stream-id.js'
import {QctlError} from '../errors.js'
import {retryDueKey, retryKey, takeoverKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {callScript, type ScriptSpec} from '../scripts.js'

/**
 * A consumer group's position in one stream, exactly: how many entries lie after an ID (for the
 * entries-read counter that keeps `XINFO GROUPS` lag exact, and for what a seek skips or delivers
 * again), the atomic create-or-move (group-position-1.lua), and dropping a group's pending entries.
 */

const COUNT: ScriptSpec = {name: 'qctlCountEntries', file: 'count-entries-1.lua', keys: 1}
const POSITION: ScriptSpec = {name: 'qctlGroupPosition', file: 'group-position-1.lua', keys: 1}
const DROP_PENDING: ScriptSpec = {name: 'qctlDropPending', file: 'drop-pending-4.lua', keys: 4}

/** Entries one count call reads at most (a call holds Redis a few milliseconds), and per XRANGE page in it. */
export const COUNT_PER_CALL = 2000
const COUNT_PAGE = 100
/** Counts started again (entries were deleted while counting) before giving up. */
const COUNT_ATTEMPTS = 3
/** Pending entries acknowledged per drop-pending call. */
const DROP_BATCH = 1000

/** A stream's counters when it was counted: a count is right only while no entry is deleted (`deleted` and `maxDeletedId` unchanged). */
export interface StreamCounters {
  exists: boolean
  entriesAdded: number
  length: number
  /** Entries added and no longer there: entries-added minus length. */
  deleted: number
  maxDeletedId: string
  lastGeneratedId: string
  firstId: string | null
}

/** How many entries of a stream lie after a position, and the stream's counters at that instant. */
export interface EntriesAfter {
  after: number
  counters: StreamCounters
}

type CountReply = [number, string, number, number, string, string, string] | [number]

interface CountCall {
  count: number
  last: string
  counters: StreamCounters
}

const MISSING: StreamCounters = {exists: false, entriesAdded: 0, length: 0, deleted: 0, maxDeletedId: '0-0', lastGeneratedId: '0-0', firstId: null}

async function countCall(redis: RedisClient, stream: string, start: string, end: string): Promise<CountCall> {
  const reply = (await callScript(redis, COUNT, [stream, start, end, COUNT_PER_CALL, COUNT_PAGE])) as CountReply
  if (reply.length === 1) return {count: 0, last: '', counters: MISSING}
  const [count, last, entriesAdded, length, maxDeletedId, lastGeneratedId, firstId] = reply
  return {
    count: Number(count),
    last: String(last),
    counters: {exists: true, entriesAdded: Number(entriesAdded), length: Number(length), deleted: Number(entriesAdded) - Number(length), maxDeletedId: String(maxDeletedId), lastGeneratedId: String(lastGeneratedId), firstId: firstId === '' ? null : String(firstId)},
  }
}

const unchanged = (a: StreamCounters, b: StreamCounters): boolean => a.deleted === b.deleted && a.maxDeletedId === b.maxDeletedId

/**
 * The entries after `position` (an ID) in `stream`, counted inside Redis. Cheap at either end: before
 * the first entry it is the length, at or past the last generated ID none, and otherwise the count
 * runs from both sides in turn, so it costs about twice the smaller side (entries after the position,
 * or up to it: then the length minus those). Over several calls the count holds while entries are
 * only added (they come after the position; the count of the side after is bounded by the last ID of
 * the first call); if any is deleted meanwhile it starts again.
 */
export async function entriesAfter(redis: RedisClient, stream: string, position: string): Promise<EntriesAfter> {
  for (let attempt = 0; attempt < COUNT_ATTEMPTS; attempt++) {
    const first = await countCall(redis, stream, `(${position}`, '+')
    const {counters} = first
    if (!counters.exists || counters.length === 0 || counters.firstId === null || compareIdText(position, counters.firstId) < 0) return {after: counters.length, counters}
    if (compareIdText(position, counters.lastGeneratedId) >= 0 || first.count < COUNT_PER_CALL) return {after: first.count, counters}
    let after = first.count
    let afterFrom = first.last
    let upTo = 0
    let upToFrom = '-'
    for (;;) {
      const low = await countCall(redis, stream, upToFrom, position)
      if (!unchanged(low.counters, counters)) break
      upTo += low.count
      if (low.count < COUNT_PER_CALL) return {after: counters.length - upTo, counters}
      upToFrom = `(${low.last}`
      const high = await countCall(redis, stream, `(${afterFrom}`, counters.lastGeneratedId)
      if (!unchanged(high.counters, counters)) break
      after += high.count
      if (high.count < COUNT_PER_CALL) return {after, counters}
      afterFrom = high.last
    }
  }
  throw new QctlError('CONFLICT', `entries of "${stream}" kept being deleted or trimmed while qctl counted them (${COUNT_ATTEMPTS} times): nothing was changed`, {
    suggestion: 'run it again; if something trims the stream all the time (XADD … MAXLEN), pause it meanwhile',
  })
}

export type PositionMode = 'setid' | 'create' | 'create-mkstream'

/** What group-position-1.lua did: the position and entries-read set, or why not. */
export type PositionOutcome =
  | {done: true; position: string; entriesRead: number}
  | {done: false; reason: 'exists' | 'no-stream' | 'no-group'}
  | {done: false; reason: 'past-end'; lastGeneratedId: string}

/**
 * Create the group at `position` (an ID, or `$`), or move it there (`setid`), with the entries-read
 * counter that keeps its lag exact (group-position-1.lua): counted first where it takes a count
 * (`known`: a count already made, e.g. by the plan), counted again when entries were deleted meanwhile.
 */
export async function setGroupPosition(redis: RedisClient, stream: string, group: string, mode: PositionMode, position: string, known?: EntriesAfter): Promise<PositionOutcome> {
  // At either end the script needs no count.
  let count = position === '$' || position === '0-0' ? undefined : known
  for (let attempt = 0; attempt <= COUNT_ATTEMPTS; attempt++) {
    const args = count === undefined ? ['', '', ''] : [count.counters.entriesAdded - count.after, count.counters.deleted, count.counters.maxDeletedId]
    const reply = (await callScript(redis, POSITION, [stream, mode, group, position, ...args])) as [number, string?, (string | number)?]
    const code = Number(reply[0])
    if (code === 1) return {done: true, position: String(reply[1]), entriesRead: Number(reply[2])}
    if (code === 0) return {done: false, reason: 'exists'}
    if (code === -1) return {done: false, reason: 'no-stream'}
    if (code === -3) return {done: false, reason: 'past-end', lastGeneratedId: String(reply[1])}
    if (code === -4) return {done: false, reason: 'no-group'}
    count = await entriesAfter(redis, stream, position)
  }
  throw new QctlError('CONFLICT', `entries of "${stream}" kept being deleted or trimmed while qctl set the group's position: nothing was changed there`, {suggestion: 'run it again'})
}

/**
 * Acknowledge every pending entry of `group` in `stream` and forget their retry state (retry hash,
 * due set, takeover marks), a batch at a time, each batch one step (drop-pending-4.lua). Returns how
 * many were acknowledged.
 */
export async function dropPending(redis: RedisClient, stream: string, group: string): Promise<number> {
  let dropped = 0
  for (;;) {
    const acknowledged = Number(await callScript(redis, DROP_PENDING, [stream, retryKey(stream, group), retryDueKey(stream, group), takeoverKey(stream, group), group, DROP_BATCH]))
    if (acknowledged <= 0) return dropped
    dropped += acknowledged
    if (acknowledged < DROP_BATCH) return dropped
  }
}
