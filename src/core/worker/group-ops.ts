import type {Redis} from 'ioredis'

import {deadLetterKey, retryDueKey, retryKey} from '../keys.js'
import {callScript, type ScriptSpec} from '../scripts.js'

/** An entry as delivered: its ID, raw field/value pairs and delivery count (attempt). */
export interface DeliveredEntry {
  id: string
  pairs: string[]
  attempt: number
}

/** A parked retry: when the entry first failed and when it may be delivered again. */
export interface RetryRecord {
  firstFailureMs: number
  dueMs: number
}

const CLAIM: ScriptSpec = {name: 'qctlClaim', file: 'claim-1.lua', keys: 1}
const HEARTBEAT: ScriptSpec = {name: 'qctlHeartbeat', file: 'heartbeat-1.lua', keys: 1}
const RETRY_LATER: ScriptSpec = {name: 'qctlRetryLater', file: 'retry-later-2.lua', keys: 2}
const DEAD_LETTER: ScriptSpec = {name: 'qctlDeadLetter', file: 'dead-letter-4.lua', keys: 4}
const DELETE_CONSUMER: ScriptSpec = {name: 'qctlDeleteConsumerIfIdle', file: 'delete-consumer-if-idle-1.lua', keys: 1}

export type DeadLetterOutcome = {moved: true; dlqId: string} | {moved: false; reason: 'not-pending' | 'deleted'}

export interface GroupState {
  exists: boolean
  pending: number
  /** Entries not yet delivered to the group; computed when Redis reports it as unknown. */
  lag: number
}

const parseRetryRecord = (text: string | null): RetryRecord | undefined => {
  if (text === null) return undefined
  const [first, due] = text.split(':').map(Number)
  return first === undefined || due === undefined || Number.isNaN(first) || Number.isNaN(due) ? undefined : {firstFailureMs: first, dueMs: due}
}

/** Pairs of an XINFO reply as an object. */
const infoObject = (reply: unknown[]): Record<string, unknown> => {
  const object: Record<string, unknown> = {}
  for (let i = 0; i + 1 < reply.length; i += 2) object[String(reply[i])] = reply[i + 1]
  return object
}

/**
 * The Redis operations of one consumer in one group, on the worker's command connection.
 * Every multi-step change that must be atomic is a Lua script in src/lua.
 */
export class GroupOps {
  readonly dlqKey: string
  readonly retryKey: string

  constructor(
    private readonly redis: Redis,
    readonly topic: string,
    readonly group: string,
    readonly consumer: string,
    deadLetterTopic?: string,
  ) {
    this.dlqKey = deadLetterTopic ?? deadLetterKey(topic)
    this.retryKey = retryKey(topic, group)
  }

  /** Create the group (and the stream) if missing. Returns true if it was created. */
  async ensureGroup(from: 'start' | 'latest'): Promise<boolean> {
    try {
      await this.redis.xgroup('CREATE', this.topic, this.group, from === 'start' ? '0' : '$', 'MKSTREAM')
      return true
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return false
      throw error
    }
  }

  /** IDs this consumer has pending, after `afterId`, oldest first. */
  async ownPending(afterId: string, count: number): Promise<string[]> {
    const start = afterId === '-' ? '-' : `(${afterId}`
    const rows = (await this.redis.xpending(this.topic, this.group, start, '+', count, this.consumer)) as Array<[string, string, number, number]>
    return rows.map(([id]) => id)
  }

  /** Take delivery of entries (attempt counter +1), reporting those deleted from the stream. */
  async claim(ids: readonly string[]): Promise<{delivered: DeliveredEntry[]; lost: string[]}> {
    if (ids.length === 0) return {delivered: [], lost: []}
    const [delivered, lost] = (await callScript(this.redis, CLAIM, [this.topic, this.group, this.consumer, ...ids])) as [
      Array<[string, string[], number]>,
      string[],
    ]
    return {delivered: delivered.map(([id, pairs, attempt]) => ({id, pairs, attempt: Number(attempt)})), lost}
  }

  /**
   * An entry's field/value pairs as exact bytes (undefined if it no longer exists). Entries are
   * read as text; this is for the rare payload that is not valid UTF-8 (see `mayBeBinary`).
   */
  async entryBytes(id: string): Promise<Buffer[] | undefined> {
    const [entry] = await this.redis.xrangeBuffer(this.topic, id, id)
    return entry?.[1]
  }

  /** XAUTOCLAIM … JUSTID: take over entries idle at least `minIdleMs` without counting a delivery. */
  async autoclaim(minIdleMs: number, cursor: string, count: number): Promise<{cursor: string; ids: string[]; deleted: string[]}> {
    const reply = (await this.redis.call('XAUTOCLAIM', this.topic, this.group, this.consumer, minIdleMs, cursor, 'COUNT', count, 'JUSTID')) as [
      string,
      string[],
      string[]?,
    ]
    return {cursor: reply[0], ids: reply[1], deleted: reply[2] ?? []}
  }

  async retryRecords(ids: readonly string[]): Promise<Map<string, RetryRecord>> {
    const records = new Map<string, RetryRecord>()
    if (ids.length === 0) return records
    const values = await this.redis.hmget(this.retryKey, ...ids)
    ids.forEach((id, index) => {
      const record = parseRetryRecord(values[index] ?? null)
      if (record !== undefined) records.set(id, record)
    })
    return records
  }

  /** Set the idle time of entries this consumer holds (JUSTID: no delivery counted). */
  async setIdle(ids: readonly string[], idleMs: number): Promise<void> {
    if (ids.length === 0) return
    await this.redis.call('XCLAIM', this.topic, this.group, this.consumer, 0, ...ids, 'IDLE', Math.max(0, Math.round(idleMs)), 'JUSTID')
  }

  /** Keep in-flight entries from being reclaimed; returns those no longer this consumer's. */
  async heartbeat(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return []
    return (await callScript(this.redis, HEARTBEAT, [this.topic, this.group, this.consumer, ...ids])) as string[]
  }

  /** Park a failed entry until `record.dueMs`; false if it is no longer this consumer's. */
  async retryLater(id: string, idleMs: number, record: RetryRecord): Promise<boolean> {
    const parked = await callScript(this.redis, RETRY_LATER, [
      this.topic,
      this.retryKey,
      this.group,
      this.consumer,
      id,
      Math.max(0, Math.round(idleMs)),
      `${record.firstFailureMs}:${record.dueMs}`,
    ])
    return parked === 1
  }

  /**
   * Move an entry (any number of fields, byte for byte) to the dead-letter stream with `metadata`
   * appended, acknowledge it and forget its retry state, in one step (src/lua/dead-letter-4.lua).
   */
  async deadLetter(id: string, metadata: ReadonlyArray<[string, string]>): Promise<DeadLetterOutcome> {
    const keys = [this.topic, this.dlqKey, this.retryKey, retryDueKey(this.topic, this.group)]
    const reply = await callScript(this.redis, DEAD_LETTER, [...keys, this.group, id, ...metadata.flat()])
    if (typeof reply === 'string') return {moved: true, dlqId: reply}
    return {moved: false, reason: reply === -1 ? 'deleted' : 'not-pending'}
  }

  /** Acknowledge, and forget retry records; returns how many were still pending. */
  async ack(ids: readonly string[], retried: readonly string[]): Promise<number> {
    if (retried.length === 0) return this.redis.xack(this.topic, this.group, ...ids)
    const pipeline = this.redis.pipeline().xack(this.topic, this.group, ...ids)
    if (retried.length > 0) pipeline.hdel(this.retryKey, ...retried)
    const replies = await pipeline.exec()
    const [error, acked] = replies?.[0] ?? [new Error('Connection is closed.'), 0]
    if (error !== null) throw error
    return Number(acked)
  }

  async state(): Promise<GroupState> {
    const groups = ((await this.redis.call('XINFO', 'GROUPS', this.topic)) as unknown[][]).map(infoObject)
    const mine = groups.find((group) => group.name === this.group)
    if (mine === undefined) return {exists: false, pending: 0, lag: 0}
    const pending = Number(mine.pending)
    if (mine.lag !== null && mine.lag !== undefined) return {exists: true, pending, lag: Number(mine.lag)}
    // Redis cannot tell (entries deleted, or the group was set to an arbitrary ID): look for one undelivered entry.
    const next = await this.redis.xrange(this.topic, `(${String(mine['last-delivered-id'])}`, '+', 'COUNT', 1)
    return {exists: true, pending, lag: next.length}
  }

  async deleteConsumerIfIdle(): Promise<boolean> {
    return (await callScript(this.redis, DELETE_CONSUMER, [this.topic, this.group, this.consumer])) === 1
  }
}
