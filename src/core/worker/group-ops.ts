import {deadLetterKey, heldKeysKey, leaseKey, replayDueKey, replayKey, replayRetryKey, replayTakeoverKey, retryDueKey, retryKey, takeoverKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {isPermissionDenied} from '../redis/redis-errors.js'
import {callScript, DELETE_CONSUMER_IF_IDLE, type ScriptSpec} from '../scripts.js'
import type {AckReply} from './ack-batcher.js'
import {formatAttemptRecord, parseAttemptRecord, withOneMoreStart, type AttemptRecord} from './attempts.js'

/**
 * The pseudo-consumer that holds parked retries (see park-retry-3.lua). Its name cannot clash with
 * qctl's default consumer names (`<hostname>-<pid>`); `inspect` shows it with the parked count.
 */
export const PARKED_CONSUMER = 'qctl:parked'

/** An entry handed to the worker: its ID, raw field/value pairs and what Redis knows of its attempts. */
export interface DeliveredEntry {
  id: string
  pairs: string[]
  /**
   * Undefined for a first delivery (XREADGROUP `>`); otherwise the attempt record (maybe undefined) and
   * whether it was taken over from another consumer (whose worker then counts a second handling, not this one).
   */
  takenBack: {record: AttemptRecord | undefined; takenOver?: boolean} | undefined
  /** No longer pending anywhere (its consumer was deleted): handled without an acknowledgement. */
  orphan: boolean
}

/** Entries renewed per heartbeat script call (two commands each in Redis). */
const HEARTBEAT_CHUNK = 1000

const SCRIPTS = {
  park: {name: 'qctlParkRetry', file: 'park-retry-3.lua', keys: 3},
  reclaim: {name: 'qctlReclaim', file: 'reclaim-4.lua', keys: 4},
  takeDue: {name: 'qctlTakeDue', file: 'take-due-3.lua', keys: 3},
  markStart: {name: 'qctlMarkStart', file: 'mark-start-2.lua', keys: 2},
  heartbeat: {name: 'qctlHeartbeat', file: 'heartbeat-4.lua', keys: 4},
  deadLetter: {name: 'qctlDeadLetter', file: 'dead-letter-4.lua', keys: 4},
  deadLetterFenced: {name: 'qctlDeadLetterFenced', file: 'dead-letter-fenced-5.lua', keys: 5},
  ackReplayed: {name: 'qctlAckReplayed', file: 'ack-replayed-2.lua', keys: 2},
  ackTaken: {name: 'qctlAckTaken', file: 'ack-taken-3.lua', keys: 3},
  deleteConsumer: DELETE_CONSUMER_IF_IDLE,
  ackFenced: {name: 'qctlAckFenced', file: 'ack-fenced-3.lua', keys: 3},
  readFenced: {name: 'qctlReadFenced', file: 'read-fenced-2.lua', keys: 2},
  claimFenced: {name: 'qctlClaimFenced', file: 'claim-fenced-3.lua', keys: 3},
  recordAttemptFenced: {name: 'qctlRecordAttemptFenced', file: 'record-attempt-fenced-2.lua', keys: 2},
} as const satisfies Record<string, ScriptSpec>

export type ParkOutcome = {dueMs: number; firstFailureMs: number} | 'deleted' | undefined

/** `fenced`: a leased partition's entry, refused because the lease is no longer this worker's (deadLetterFenced). */
export type DeadLetterOutcome = {moved: true; dlqId: string} | {moved: false; reason: 'not-pending' | 'deleted' | 'fenced'}

/** A dead-letter script's reply (dead-letter-4.lua, dead-letter-fenced-5.lua) as an outcome. */
const deadLetterOutcome = (reply: unknown): DeadLetterOutcome => {
  if (typeof reply === 'string') return {moved: true, dlqId: reply}
  const code = Number(reply)
  return {moved: false, reason: code === -2 ? 'fenced' : code === -1 ? 'deleted' : 'not-pending'}
}

export interface GroupState {
  exists: boolean
  pending: number
  /** Entries not yet delivered to the group; computed when Redis reports it as unknown. */
  lag: number
}

export interface ConsumerInfo {
  name: string
  pending: number
  idleMs: number
}

/**
 * What the heartbeat found about a held entry it did not renew (heartbeat-4.lua). `acknowledged`:
 * pending nowhere, and this worker had taken it over from a consumer that finished it meanwhile.
 */
export type HeldEntryFate = 'taken-over' | 'orphaned' | 'deleted' | 'acknowledged'
const FATES: Record<number, HeldEntryFate> = {1: 'taken-over', 2: 'orphaned', 3: 'deleted', 4: 'acknowledged'}

/**
 * What a worker's outcome of entries it took over found (ack-taken-3.lua): `held`, applied while it
 * held them (a dead-letter move, a park); `gone`, they were no longer its own.
 */
export type TakenOutcome = 'held' | 'gone'

/** Pairs of an XINFO reply as an object. */
const infoObject = (reply: unknown[]): Record<string, unknown> => {
  const object: Record<string, unknown> = {}
  for (let i = 0; i + 1 < reply.length; i += 2) object[String(reply[i])] = reply[i + 1]
  return object
}

/** How long takeover marks are kept: long enough for a frozen or cut-off worker to come back and read its own. */
const takeoverMarksTtlMs = (visibilityTimeoutMs: number): number => Math.max(10 * visibilityTimeoutMs, 10 * 60_000)

/** The retry hash's fields of entries' attempt records (see includes/attempt-record.lua). */
const recordFields = (ids: readonly string[]): string[] => ids.flatMap((id) => [id, `${id}+`])

/** The takeover hash's fields of entries: `<id>`, the consumer taken from; `<id>+`, whose outcome came first (ack-taken-3.lua). */
const markFields = recordFields

type TakenRow = [string, string[], string, number?]

const takenBack = (rows: TakenRow[], takenOver = false): DeliveredEntry[] =>
  rows.map(([id, pairs, record, orphan]) => ({id, pairs, takenBack: takenOver ? {record: parseAttemptRecord(record), takenOver} : {record: parseAttemptRecord(record)}, orphan: orphan === 1}))

/**
 * Which stream of the group's a GroupOps works on: the topic, or the group's replay stream (entries
 * `qctl dlq replay` re-delivers to this group only; see keys.ts `replayKey`), each with retry state of its own.
 */
export type LaneKind = 'topic' | 'replay'

/**
 * The Redis operations of one consumer in one group, on one stream (the topic, or the group's
 * replay stream), on the worker's command connection. Every multi-step change that must be atomic
 * is a Lua script in src/lua.
 */
export class GroupOps {
  /** The stream read: the topic, or the group's replay stream. */
  readonly stream: string
  readonly dlqKey: string
  readonly retryKey: string
  readonly dueKey: string
  readonly takeoverKey: string

  constructor(
    private readonly redis: RedisClient,
    readonly topic: string,
    readonly group: string,
    readonly consumer: string,
    deadLetterTopic?: string,
    readonly lane: LaneKind = 'topic',
  ) {
    this.dlqKey = deadLetterTopic ?? deadLetterKey(topic)
    const replay = lane === 'replay'
    this.stream = replay ? replayKey(topic, group) : topic
    this.retryKey = replay ? replayRetryKey(topic, group) : retryKey(topic, group)
    this.dueKey = replay ? replayDueKey(topic, group) : retryDueKey(topic, group)
    this.takeoverKey = replay ? replayTakeoverKey(topic, group) : takeoverKey(topic, group)
  }

  /**
   * Create the group (and the stream) if missing; returns true if it was created. Looks first:
   * Redis refuses XGROUP CREATE when over maxmemory even if the group exists, and a worker must
   * start there, since draining is what frees memory.
   */
  async ensureGroup(from: 'start' | 'latest'): Promise<boolean> {
    // A replay stream's group always starts at its first entry: entries replayed before any worker ran are its own.
    const start = from === 'start' || this.lane === 'replay' ? '0' : '$'
    // A user without XINFO still gets XGROUP CREATE, which then names the refusal that matters.
    if ((await this.state().catch((error: unknown) => (isPermissionDenied(error) ? {exists: false} : Promise.reject(error)))).exists) return false
    try {
      await this.redis.xgroup('CREATE', this.stream, this.group, start, 'MKSTREAM')
      return true
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return false
      throw error
    }
  }

  /** Records of entries taken back from this consumer's own pending list (a restart with a stable --consumer). */
  async records(ids: readonly string[]): Promise<Array<AttemptRecord | undefined>> {
    if (ids.length === 0) return []
    const values = await this.redis.hmget(this.retryKey, ...ids.flatMap((id) => [id, `${id}+`]))
    return ids.map((_id, index) => parseAttemptRecord(values[2 * index], values[2 * index + 1]))
  }

  /**
   * An entry's field/value pairs as exact bytes (undefined if it no longer exists). Entries are
   * read as text; this is for the rare payload that is not valid UTF-8 (see `mayBeBinary`).
   */
  async entryBytes(id: string): Promise<Buffer[] | undefined> {
    const [entry] = await this.redis.xrangeBuffer(this.stream, id, id)
    return entry?.[1]
  }

  /**
   * The field/value pairs of entries by ID (one XRANGE each, pipelined: one round trip), undefined
   * for one that no longer exists. For entries the worker kept by ID only (start-queue.ts, spill).
   */
  async entriesById(ids: readonly string[]): Promise<Array<string[] | undefined>> {
    const pipeline = this.redis.pipeline()
    for (const id of ids) pipeline.xrange(this.stream, id, id)
    const replies = (await pipeline.exec()) ?? []
    return ids.map((_id, index) => {
      const [error, rows] = replies[index] ?? [new Error('missing reply'), null]
      if (error !== null) throw error
      return (rows as Array<[string, string[]]>)[0]?.[1]
    })
  }

  /** Acknowledge entries found deleted from the stream and forget their retry state. */
  async forgetDeleted(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    const replies = await this.redis.pipeline().xack(this.stream, this.group, ...ids).hdel(this.retryKey, ...recordFields(ids)).zrem(this.dueKey, ...ids).exec()
    const failed = replies?.find(([error]) => error !== null)?.[0]
    if (failed) throw failed
  }

  /** Parked entries whose backoff is over, claimed for this consumer (take-due-3.lua). */
  async takeDue(count: number): Promise<{entries: DeliveredEntry[]; lost: string[]; nextDueInMs: number}> {
    const [rows, lost, nextDue] = (await callScript(this.redis, SCRIPTS.takeDue, [this.stream, this.dueKey, this.retryKey, this.group, this.consumer, PARKED_CONSUMER, count])) as [
      TakenRow[],
      string[],
      number,
    ]
    return {entries: takenBack(rows), lost, nextDueInMs: Number(nextDue)}
  }

  /** Entries of `from` idle at least `minIdleMs`, claimed for this consumer (reclaim-4.lua). */
  async reclaim(from: string, minIdleMs: number, count: number): Promise<{entries: DeliveredEntry[]; lost: string[]}> {
    const keys = [this.stream, this.retryKey, this.dueKey, this.takeoverKey]
    const [rows, lost] = (await callScript(this.redis, SCRIPTS.reclaim, [...keys, this.group, this.consumer, from, minIdleMs, count, takeoverMarksTtlMs(minIdleMs)])) as [
      TakenRow[],
      string[],
    ]
    return {entries: takenBack(rows, true), lost}
  }

  /**
   * Record the starts of entries taken back, just before their handlers run: one plain HSET of each
   * entry's record with one more start (see attempts.ts `withOneMoreStart`), for the entries a worker
   * starts together. Written to the socket before this returns (a plain command, not a script, which
   * a server that lost its script cache would only get after a NOSCRIPT reply), so the marks leave
   * the process even if a handler then kills it.
   *
   * The record is written whole, not incremented: only the consumer holding an entry marks it, and
   * it read the record when it took the entry (a start left unreported since makes the entry a
   * suspect, marked alone by mark-start-2.lua instead). One command per wave, not a write and a
   * command per entry (which took half the CPU of a worker taking back 100,000 entries), and no Lua:
   * a script per wave cost Redis four times the HSET.
   */
  async markStarts(entries: ReadonlyArray<{id: string; record: AttemptRecord | undefined}>): Promise<void> {
    if (entries.length === 0) return
    const args: string[] = []
    for (const {id, record} of entries) args.push(id, formatAttemptRecord(withOneMoreStart(record)))
    await this.redis.hset(this.retryKey, ...args)
  }

  /** An ordered retry in place: the failed attempt's record, written whole (the entry stays this consumer's). */
  async recordAttempt(id: string, record: AttemptRecord): Promise<void> {
    await this.redis.hset(this.retryKey, id, formatAttemptRecord(record))
  }

  /**
   * `recordAttempt` for an entry of a leased partition, written only under the lease `lease` as the
   * worker holds it (record-attempt-fenced-2.lua); false when refused (undefined: the worker knows it
   * lost the lease, so nothing is sent): the entry is the partition's next holder's.
   */
  async recordAttemptFenced(id: string, record: AttemptRecord, lease: string | undefined): Promise<boolean> {
    if (lease === undefined) return false
    return Number(await callScript(this.redis, SCRIPTS.recordAttemptFenced, [this.retryKey, leaseKey(this.topic, this.group), lease, id, formatAttemptRecord(record)])) === 1
  }

  /** The keys the group holds on this stream (`--on-dead-letter hold-key`), and the dead letter that began each hold. */
  async heldKeys(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(heldKeysKey(this.topic, this.group))))
  }

  /** Hold a key: its first dead-lettered message is `dlqId`. Kept if already held (the first one stays). */
  async holdKey(key: string, dlqId: string): Promise<void> {
    await this.redis.hsetnx(heldKeysKey(this.topic, this.group), key, dlqId)
  }

  async releaseKey(key: string): Promise<void> {
    await this.redis.hdel(heldKeysKey(this.topic, this.group), key)
  }

  /** Record a start of a suspect, which runs alone; false (nothing written) if it is no longer this consumer's. */
  async markSoloStart(id: string): Promise<boolean> {
    return (await callScript(this.redis, SCRIPTS.markStart, [this.stream, this.retryKey, this.group, this.consumer, id, 1])) !== -1
  }

  /** The consumers of the group, for the takeover of dead ones and the pruning of idle ones. */
  async consumers(): Promise<ConsumerInfo[]> {
    const rows = ((await this.redis.call('XINFO', 'CONSUMERS', this.stream, this.group)) as unknown[][]).map(infoObject)
    return rows.map((row) => ({name: String(row.name), pending: Number(row.pending), idleMs: Number(row.idle)}))
  }

  /** Set the idle time of entries this consumer holds (JUSTID: no delivery counted). */
  async setIdle(ids: readonly string[], idleMs: number): Promise<void> {
    if (ids.length === 0) return
    await this.redis.call('XCLAIM', this.stream, this.group, this.consumer, 0, ...ids, 'IDLE', Math.max(0, Math.round(idleMs)), 'JUSTID')
  }

  /** Renew held entries; returns what became of those no longer this consumer's. */
  async heartbeat(ids: readonly string[]): Promise<Map<string, HeldEntryFate>> {
    const fates = new Map<string, HeldEntryFate>()
    // In calls of HEARTBEAT_CHUNK: an --ordered worker may hold thousands of a hot key's entries by ID,
    // and one script over all of them would keep Redis from answering anyone else meanwhile.
    for (let from = 0; from < ids.length; from += HEARTBEAT_CHUNK) {
      const chunk = ids.slice(from, from + HEARTBEAT_CHUNK)
      const flat = (await callScript(this.redis, SCRIPTS.heartbeat, [this.stream, this.retryKey, this.dueKey, this.takeoverKey, this.group, this.consumer, ...chunk])) as Array<string | number>
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const fate = FATES[Number(flat[i + 1])]
        if (fate !== undefined) fates.set(String(flat[i]), fate)
      }
    }
    return fates
  }

  /** Park failed entries until their backoff is over (Redis time); undefined for an entry no longer this consumer's, 'deleted' for one deleted from the stream. */
  async park(requests: ReadonlyArray<{id: string; delayMs: number; attempt: number}>): Promise<ParkOutcome[]> {
    const args = requests.flatMap(({id, delayMs, attempt}) => [id, Math.max(0, Math.round(delayMs)), attempt])
    const replies = (await callScript(this.redis, SCRIPTS.park, [this.stream, this.retryKey, this.dueKey, this.group, this.consumer, PARKED_CONSUMER, ...args])) as unknown[]
    return replies.map((reply) => (Array.isArray(reply) ? {dueMs: Number(reply[0]), firstFailureMs: Number(reply[1])} : reply === -1 ? 'deleted' : undefined))
  }

  /**
   * Move an entry (any number of fields, byte for byte) to the dead-letter stream with `metadata`
   * appended, acknowledge it and forget its retry state, in one step (src/lua/dead-letter-4.lua).
   */
  async deadLetter(id: string, metadata: ReadonlyArray<[string, string]>): Promise<DeadLetterOutcome> {
    const args = [this.group, id, this.lane === 'replay' ? this.consumer : '', ...metadata.flat()]
    return deadLetterOutcome(await callScript(this.redis, SCRIPTS.deadLetter, [this.stream, this.dlqKey, this.retryKey, this.dueKey, ...args]))
  }

  /**
   * `deadLetter` for an entry of a leased partition, moved only under the lease `lease` as the worker
   * holds it (dead-letter-fenced-5.lua); `fenced` when refused (undefined: the worker knows it lost
   * the lease, so nothing is sent). A refused entry stays pending, its attempt record kept, for the
   * partition's next holder.
   */
  async deadLetterFenced(id: string, metadata: ReadonlyArray<[string, string]>, lease: string | undefined): Promise<DeadLetterOutcome> {
    if (lease === undefined) return {moved: false, reason: 'fenced'}
    const args = [this.group, id, this.lane === 'replay' ? this.consumer : '', lease, ...metadata.flat()]
    const keys = [this.stream, this.dlqKey, this.retryKey, this.dueKey, leaseKey(this.topic, this.group)]
    return deadLetterOutcome(await callScript(this.redis, SCRIPTS.deadLetterFenced, [...keys, ...args]))
  }

  /**
   * Of `ids` (entries this worker handled and failed to park: no longer its own), those another
   * worker took over from it: that one handles them too (or did), a second handling this worker
   * counts. Their marks are removed, so the taker does not count it as well (ack-taken-3.lua finds
   * no mark).
   */
  async takenFromMe(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0
    const values = await this.redis.hmget(this.takeoverKey, ...markFields(ids))
    const mine = ids.filter((_id, index) => values[2 * index] === this.consumer && values[2 * index + 1] !== this.consumer)
    if (mine.length > 0) await this.redis.hdel(this.takeoverKey, ...markFields(mine))
    return mine.length
  }

  /**
   * Of `ids` (entries this worker acknowledged late: it had not renewed them for a visibility timeout),
   * those another worker took over from it and finished first (ack-taken-3.lua recorded its outcome
   * while the entry was still pending): this worker's acknowledgement found them gone, a second
   * handling this worker counts. A mark whose taker has not finished the entry says nothing yet:
   * this worker's plain XACK may have come first (then the taker, if it handles the entry at all,
   * finds it acknowledged and counts it), so it is left for the taker. Settled marks are removed.
   */
  async finishedByTaker(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0
    const values = await this.redis.hmget(this.takeoverKey, ...markFields(ids))
    const settled: string[] = []
    let takerFirst = 0
    ids.forEach((id, index) => {
      const first = values[2 * index + 1]
      if (values[2 * index] !== this.consumer || first === null || first === undefined) return
      settled.push(id)
      // Naming this consumer: its acknowledgement came first, and the taker counted the second handling.
      if (first !== this.consumer) takerFirst++
    })
    if (settled.length > 0) await this.redis.hdel(this.takeoverKey, ...markFields(settled))
    return takerFirst
  }

  /**
   * Acknowledge entries this consumer took over from another one, entry by entry, settling their
   * takeover marks (ack-taken-3.lua): counts the second handlings whose other half, by the consumer
   * they were taken from, was acknowledged first. On a replay stream, what this consumer finished
   * is also deleted, as `ack` does.
   */
  async ackTaken(ids: readonly string[]): Promise<AckReply> {
    if (ids.length === 0) return {acked: 0, duplicates: 0}
    const [acked, duplicates, deleted] = (await callScript(this.redis, SCRIPTS.ackTaken, [this.stream, this.retryKey, this.takeoverKey, this.group, this.consumer, 'ack', this.lane === 'replay' ? '1' : '', ...ids])) as [
      number,
      number,
      number,
    ]
    this.deletesRefused(Number(deleted))
    return {acked: Number(acked), duplicates: Number(duplicates)}
  }

  /**
   * After a dead-letter move or a park of entries this consumer took over (see TakenOutcome): settle
   * their takeover marks as their acknowledgement would; returns the second handlings this worker counts.
   */
  async settleTaken(ids: readonly string[], outcome: TakenOutcome): Promise<number> {
    if (ids.length === 0) return 0
    const [, duplicates] = (await callScript(this.redis, SCRIPTS.ackTaken, [this.stream, this.retryKey, this.takeoverKey, this.group, this.consumer, outcome, '', ...ids])) as [number, number, number]
    return Number(duplicates)
  }

  /**
   * Acknowledge a batch: the entries taken over from another consumer one by one (`ackTaken`), the
   * others with one XACK (the common case: no entry taken over, one command).
   */
  async ackBatch(ids: readonly string[], withRecords: readonly string[], takenOver: readonly string[]): Promise<AckReply> {
    if (takenOver.length === 0) return {acked: await this.ack(ids, withRecords), duplicates: 0}
    const taken = new Set(takenOver)
    const rest = ids.filter((id) => !taken.has(id))
    // Both sent at once: one round trip. A failure of either fails the batch, sent again whole (both steps may be repeated).
    const [plain, settled] = await Promise.all([rest.length > 0 ? this.ack(rest, withRecords.filter((id) => !taken.has(id))) : 0, this.ackTaken(takenOver)])
    return {acked: plain + settled.acked, duplicates: settled.duplicates}
  }

  /**
   * Acknowledge, and forget the attempt records of `withRecords`; returns how many were still pending.
   * On a replay stream, what this consumer held is also deleted (ack-replayed-2.lua).
   */
  async ack(ids: readonly string[], withRecords: readonly string[]): Promise<number> {
    if (this.lane === 'replay') return this.ackReplayed(ids)
    if (withRecords.length === 0) return this.redis.xack(this.stream, this.group, ...ids)
    const replies = await this.redis.pipeline().xack(this.stream, this.group, ...ids).hdel(this.retryKey, ...recordFields(withRecords)).exec()
    const [error, acked] = replies?.[0] ?? [new Error('Connection is closed.'), 0]
    if (error !== null) throw error
    return Number(acked)
  }

  /**
   * Acknowledge entries of a leased partition only under the lease `lease` ("<token>:<owner>"), as the
   * worker holds it (ack-fenced-3.lua); `fenced`: refused, the lease is no longer this worker's
   * (undefined: the worker knows it lost it, so nothing is sent). Refused entries stay pending for the
   * partition's next holder.
   */
  async ackFenced(ids: readonly string[], withRecords: readonly string[], lease: string | undefined): Promise<{acked: number; fenced: number}> {
    if (lease === undefined) return {acked: 0, fenced: ids.length}
    const args = [this.group, lease, this.lane === 'replay' ? 1 : 0, withRecords.length, ...withRecords, ...ids]
    const [acknowledged, deleted] = (await callScript(this.redis, SCRIPTS.ackFenced, [this.stream, this.retryKey, leaseKey(this.topic, this.group), ...args])) as [number, number]
    if (Number(acknowledged) === -1) return {acked: 0, fenced: ids.length}
    this.deletesRefused(Number(deleted))
    return {acked: Number(acknowledged), fenced: 0}
  }

  /**
   * New entries of a leased partition's stream, read only under the lease `lease` (read-fenced-2.lua):
   * undefined when the lease is not held under it (nothing read). `lastId`: the stream's last ID when
   * it brought fewer than `count` (caught up), to wait for new entries from.
   */
  async readFenced(count: number, lease: string): Promise<{rows: Array<[string, string[]]>; lastId: string | undefined} | undefined> {
    const reply = (await callScript(this.redis, SCRIPTS.readFenced, [this.stream, leaseKey(this.topic, this.group), this.group, this.consumer, count, lease])) as [number, Array<[string, string[]]>?, (string | null)?]
    if (Number(reply[0]) !== 1) return undefined
    return {rows: reply[1] ?? [], lastId: reply[2] ?? undefined}
  }

  /**
   * Every entry `from` holds in a leased partition's stream (up to `count`), taken under the lease
   * (claim-fenced-3.lua), oldest first, with their attempt records; undefined when the lease is not
   * held under it (nothing taken).
   */
  async claimFenced(from: string, count: number, lease: string): Promise<{entries: DeliveredEntry[]; lost: string[]} | undefined> {
    const reply = (await callScript(this.redis, SCRIPTS.claimFenced, [this.stream, this.retryKey, leaseKey(this.topic, this.group), this.group, this.consumer, from, count, lease])) as [number, TakenRow[]?, string[]?]
    if (Number(reply[0]) !== 1) return undefined
    return {entries: takenBack(reply[1] ?? []), lost: reply[2] ?? []}
  }

  /** Said once: the ACL user may not delete acknowledged entries from the replay stream. */
  private deletesRefusedSaid = false

  /** Called with warnings of the group's operations (set by the worker). */
  onWarning: (message: string) => void = () => undefined

  private async ackReplayed(ids: readonly string[]): Promise<number> {
    const [acknowledged, deleted] = (await callScript(this.redis, SCRIPTS.ackReplayed, [this.stream, this.retryKey, this.group, this.consumer, ...ids])) as [number, number]
    this.deletesRefused(Number(deleted))
    return Number(acknowledged)
  }

  /** `deleted` as the replay stream's acknowledgement scripts return it: -1 when the user may not XDEL there. */
  private deletesRefused(deleted: number): void {
    if (deleted === -1 && !this.deletesRefusedSaid) {
      this.deletesRefusedSaid = true
      this.onWarning(
        `the ACL user may not XDEL the replay stream ${this.stream}, so the entries handled from it stay there (it grows with every replay, and a group recreated on it would get them again): grant the worker role XDEL on the replay keys (README, Least-privilege ACL roles)`,
      )
    }
  }

  /** The Redis server's clock, ms (for times written into dead letters: the local clock may be off). */
  async serverTimeMs(): Promise<number> {
    const [seconds, micros] = await this.redis.time()
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  }

  async state(): Promise<GroupState> {
    let groups: Array<Record<string, unknown>>
    try {
      groups = ((await this.redis.call('XINFO', 'GROUPS', this.stream)) as unknown[][]).map(infoObject)
    } catch (error) {
      if (error instanceof Error && /^ERR no such key/.test(error.message)) return {exists: false, pending: 0, lag: 0}
      throw error
    }
    const mine = groups.find((group) => group.name === this.group)
    if (mine === undefined) return {exists: false, pending: 0, lag: 0}
    const pending = Number(mine.pending)
    if (mine.lag !== null && mine.lag !== undefined) return {exists: true, pending, lag: Number(mine.lag)}
    // Redis cannot tell (entries deleted, or the group was set to an arbitrary ID): look for one undelivered entry.
    const next = await this.redis.xrange(this.stream, `(${String(mine['last-delivered-id'])}`, '+', 'COUNT', 1)
    return {exists: true, pending, lag: next.length}
  }

  /** Remove `consumer` if it holds nothing and has been idle at least `minIdleMs` (0: the worker's own, on exit). */
  async deleteConsumerIfIdle(consumer = this.consumer, minIdleMs = 0): Promise<boolean> {
    return (await callScript(this.redis, SCRIPTS.deleteConsumer, [this.stream, this.group, consumer, minIdleMs])) === 1
  }
}
