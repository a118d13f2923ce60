import type {RedisClient} from '../redis/client.js'
import {isErrorReply, SCRIPT_DENIED} from '../redis/redis-errors.js'
import {dedupeKey, scheduleKey} from '../keys.js'
import {callScript, SCHEDULE_ADD, SCHEDULE_ADD_DEDUPE, XADD_BATCH, XADD_DEDUPE, type ScriptSpec} from '../scripts.js'
import {scheduleMember} from '../schedule/schedule-entry.js'
import type {PartitionRouter} from '../partitions/router.js'
import {keyOfEnvelope, type FieldValue} from '../wire-format.js'

export interface PublisherLimits {
  /** Entries per batch (one script call, or one pipeline). */
  batchSize: number
  /** Payload bytes per batch: large messages make smaller batches, so memory stays bounded. */
  batchBytes: number
  /** Batches sent but not yet answered; bounds memory and keeps the connection busy. */
  maxInFlight: number
}

export const DEFAULT_PUBLISHER_LIMITS: PublisherLimits = {batchSize: 1000, batchBytes: 4 * 1024 * 1024, maxInFlight: 4}

/** What Redis has acknowledged so far. */
export interface PublishProgress {
  published: number
  /** On a partitioned topic IDs belong to their partition: these are undefined, see `partitions`. */
  firstId: string | undefined
  lastId: string | undefined
  /** Every input line up to this one is acknowledged (or was skipped): resume after it. */
  lastAckedLine: number
}

/** What one partition of a partitioned topic received. */
export interface PartitionProgress {
  partition: number
  stream: string
  published: number
  firstId: string
  lastId: string
}

/**
 * Where a publisher writes: the streams of a topic's partitions (one for a plain stream) and the
 * router that picks each message's partition (partitions/router.ts).
 */
export interface PublishTarget {
  streams: readonly string[]
  router: PartitionRouter
  /** Publish each message once per idempotency key within this window (ms): xadd-dedupe-2.lua (schedule-add-dedupe-2.lua when scheduled). */
  dedupeWindowMs?: number | undefined
  /** Hold the messages in their stream's schedule until due (schedule-add-1.lua): `delay` ms from now (Redis's clock), or `at` a Unix time in ms. */
  schedule?: Schedule | undefined
}

/** Entries of batches that were already sent when an earlier batch failed, and were stored all the same. */
export interface StoredAfterFailure {
  count: number
  firstLine: number
  lastLine: number
}

/**
 * How batches reach Redis. `script` (the default) sends one EVALSHA per batch, which is several
 * times faster than one XADD per entry; `pipeline` sends pipelined XADDs, for users whose ACL
 * allows XADD but not EVAL/EVALSHA, or XADD on keys it may not read (chosen automatically on NOPERM).
 */
export type Transport = 'script' | 'pipeline'

interface Batch {
  entries: FieldValue[][]
  /** Each entry's idempotency key (dedupe only). */
  idempotencyKeys: string[]
  lines: number[]
  bytes: number
  /** Each entry's partition (a partitioned topic only). */
  partitions: number[] | undefined
  /** The partition of the batch's keyless entries, chosen when its first entry came. */
  keyless: number
}

/** Entries acknowledged in order, then possibly the error that stopped the batch. */
interface BatchOutcome {
  /** `count`: entries dealt with in order (stored, or skipped as duplicates); `first`/`last`: IDs of those stored. */
  ids: {count: number; first: string | undefined; last: string | undefined}
  /** Of the `count`, how many were skipped as duplicates (dedupe). */
  skipped: number
  error: unknown
  /**
   * Entries of the batch whose reply never came (a timeout, a lost connection): stored or not,
   * nobody knows. An error reply, or the script's reply that it stopped, says what was added.
   */
  unanswered: number
  /** Lines stored after the first entry that was not (other partitions of the batch, or pipelined XADDs after a refused one). */
  beyond: number[]
  /** Per partition, what was stored of the batch (a partitioned topic only). */
  perPartition?: Map<number, {count: number; first: string; last: string}>
  /** The stream whose part failed first (a partitioned topic only). */
  failedStream?: string
}

/** The outcome of one stream's part of a batch: a prefix of its entries stored, then maybe an error. */
interface PartOutcome {
  ids: {count: number; first: string | undefined; last: string | undefined}
  /** Indexes (in the part, within `count`) skipped as duplicates (dedupe). */
  skipped: number[]
  error: unknown
  unanswered: number
  /** Indexes (in the part) stored after the first that was not. */
  beyond: number[]
}

/** When scheduled messages are due: `delay` ms from when they reach Redis (its clock), or `at` a Unix time in ms. */
export interface Schedule {
  mode: 'delay' | 'at'
  ms: number
}

type ScriptReply = [added: number, first: string | null, last: string | null, error: string | null]
type DedupeReply = [processed: number, first: string | null, last: string | null, error: string | null, skipped: number[]]
/** schedule-add-1.lua's reply, or schedule-add-dedupe-2.lua's (with `skipped`; `count` then counts the skipped too). */
type ScheduleReply = [count: number, dueMs: number, error: string | null, skipped?: number[]]
type PipelineReply = Array<[error: Error | null, result: unknown]> | null

/**
 * Add one entry to `stream` unless its idempotency key was published there within `windowMs`
 * (xadd-dedupe-2.lua): its ID, or undefined when it was not stored again. A refusal throws.
 */
export async function addOnce(client: RedisClient, stream: string, fields: readonly FieldValue[], idempotencyKey: string, windowMs: number): Promise<string | undefined> {
  const reply = (await callScript(client, XADD_DEDUPE, [stream, dedupeKey(stream), String(fields.length), String(windowMs), idempotencyKey, ...fields])) as DedupeReply
  const [, first, , error] = reply
  if (error !== null) throw xaddError(error)
  return first ?? undefined
}

/** Hold one entry in `stream`'s schedule until due (schedule-add-1.lua): when it is due (Redis ms). A refusal throws. */
export async function scheduleOne(client: RedisClient, stream: string, fields: readonly FieldValue[], schedule: Schedule): Promise<number> {
  const [, dueMs, error] = (await callScript(client, SCHEDULE_ADD, [scheduleKey(stream), schedule.mode, schedule.ms, scheduleMember(fields)])) as ScheduleReply
  if (error !== null) throw new Error(error)
  return Number(dueMs)
}

/**
 * Hold one entry in `stream`'s schedule until due unless its idempotency key was published or
 * scheduled there within `windowMs` (schedule-add-dedupe-2.lua): when it is due (Redis ms), or
 * undefined when it was not scheduled again. A refusal throws.
 */
export async function scheduleOnce(client: RedisClient, stream: string, fields: readonly FieldValue[], schedule: Schedule, idempotencyKey: string, windowMs: number): Promise<number | undefined> {
  const args = [scheduleKey(stream), dedupeKey(stream), schedule.mode, schedule.ms, windowMs, idempotencyKey, scheduleMember(fields)]
  const [, dueMs, error, skipped] = (await callScript(client, SCHEDULE_ADD_DEDUPE, args)) as ScheduleReply
  if (error !== null) throw new Error(error)
  return (skipped ?? []).length > 0 ? undefined : Number(dueMs)
}

/**
 * The script call itself was refused: no EVALSHA/EVAL permission, or (since Redis checks a
 * script's keys as read+write) no read permission on the topic, as a write-only publisher
 * (`%W~`) has. The script never ran, so the batch can go as plain XADDs. A refusal inside the
 * script is not thrown: it comes back in the script's reply.
 */
const isScriptDenied = (error: unknown): boolean => error instanceof Error && error.message.startsWith('NOPERM')

/** An XADD refused inside the script, as the NOPERM error a plain XADD would have given. */
function xaddError(message: string): Error {
  let text = message
  if (SCRIPT_DENIED.test(message)) {
    text = /access/.test(message)
      ? 'NOPERM this user has no permissions to access one of the keys used as arguments'
      : "NOPERM this user has no permissions to run the 'xadd' command"
  }
  return Object.assign(new Error(text), {command: {name: 'xadd'}})
}

/**
 * Sends XADDs in batches with a bounded number in flight. Replies on one connection arrive in
 * order, so progress is exact: the first failed XADD stops the count, and every line before it
 * is known to be stored.
 */
export class BatchPublisher {
  readonly progress: PublishProgress = {published: 0, firstId: undefined, lastId: undefined, lastAckedLine: 0}
  /** Messages of the acknowledged lines not stored (nor scheduled): their idempotency key was published or scheduled to their stream within the dedupe window. */
  deduplicated = 0
  private current: Batch
  /** Per partition, what it received (a partitioned topic only). */
  private readonly partitionProgress = new Map<number, PartitionProgress>()
  private readonly streams: readonly string[]
  private readonly router: PartitionRouter | undefined
  private readonly inFlight: Array<Promise<void>> = []
  private failure: unknown
  /** The stream a failed batch was refused by (a partition's, on a partitioned topic), to name it. */
  failedStream: string | undefined
  /** The input line of the first entry the failed batch did not store. */
  failedLine: number | undefined
  private later: StoredAfterFailure = {count: 0, firstLine: 0, lastLine: 0}
  private readonly failed = new AbortController()
  /** Entries sent whose reply never came (see `inDoubt`). */
  private unanswered = 0
  /** Until one batch got through, send one at a time: a fallback must not reorder batches. */
  private transportConfirmed = false

  /** `target`: a stream, or a partitioned topic's streams and router. */
  constructor(
    private readonly client: RedisClient,
    target: string | PublishTarget,
    private readonly limits: PublisherLimits = DEFAULT_PUBLISHER_LIMITS,
    private transport: Transport = 'script',
  ) {
    this.streams = typeof target === 'string' ? [target] : target.streams
    // One stream needs no routing: the plain topic's path stays as it was.
    this.router = typeof target === 'string' || target.streams.length === 1 ? undefined : target.router
    this.dedupeWindowMs = typeof target === 'string' ? undefined : target.dedupeWindowMs
    this.schedule = typeof target === 'string' ? undefined : target.schedule
    this.current = this.emptyBatch()
  }

  /** Messages are scheduled, not appended: `progress.published` counts those held in the schedules. */
  private readonly schedule: PublishTarget['schedule']
  /** When the first scheduled batch is due (Redis ms); a `delay` counts from each batch's own arrival. */
  firstDueMs: number | undefined

  /** Whether the messages are scheduled (held until due) rather than appended. */
  get scheduling(): boolean {
    return this.schedule !== undefined
  }

  /** Publish once per idempotency key within this window (ms); undefined: every message is stored. */
  private readonly dedupeWindowMs: number | undefined

  /** Per partition, what was published (a partitioned topic), in partition order. */
  get partitions(): PartitionProgress[] | undefined {
    return this.router === undefined ? undefined : [...this.partitionProgress.values()].sort((a, b) => a.partition - b.partition)
  }

  private emptyBatch(): Batch {
    return {entries: [], idempotencyKeys: [], lines: [], bytes: 0, partitions: this.router === undefined ? undefined : [], keyless: 0}
  }

  /**
   * Queue one entry; call `waitForRoom()` when `isFull` before queueing more. On a partitioned topic
   * it goes to `routing.partition` when given, else to its key's (by default the envelope's key; a
   * keyless message published once, to its idempotency key's). `idempotencyKey`: when deduplicating.
   */
  push(line: number, fields: FieldValue[], routing: {key?: string | undefined; partition?: number | undefined; idempotencyKey?: string | undefined} = {}): void {
    const {idempotencyKey, partition} = routing
    const key = 'key' in routing ? routing.key : keyOfEnvelope(fields)
    this.throwIfFailed()
    const batch = this.current
    if (this.dedupeWindowMs !== undefined) {
      if (idempotencyKey === undefined) throw new Error(`line ${line}: no idempotency key to publish it once under`)
      batch.idempotencyKeys.push(idempotencyKey)
    }
    if (this.router !== undefined && batch.partitions !== undefined) {
      if (batch.entries.length === 0) batch.keyless = this.router.keylessForNextBatch()
      // A keyless message published once goes where its idempotency key hashes: a rerun sends it to
      // the same partition, whose dedupe set knows it (round robin would send it elsewhere).
      const routed = key ?? (this.dedupeWindowMs === undefined ? undefined : idempotencyKey)
      batch.partitions.push(partition ?? (routed === undefined ? batch.keyless : this.router.ofKey(routed)))
    }
    batch.entries.push(fields)
    batch.lines.push(line)
    batch.bytes += this.entryBytes(fields)
    if (batch.entries.length >= this.limits.batchSize || batch.bytes >= this.limits.batchBytes) this.sendQueued()
  }

  /** What an entry weighs against `batchBytes`: its payload. */
  protected entryBytes(fields: readonly FieldValue[]): number {
    return (fields[1] as FieldValue).length
  }

  /** Lines that were skipped (invalid) count as done for resuming once everything before them is. */
  markSkipped(line: number): void {
    if (this.current.entries.length === 0 && this.inFlight.length === 0) this.progress.lastAckedLine = line
  }

  /**
   * Aborted (with the error as its reason) when a batch fails, so a caller waiting for input
   * (a slow stdin) stops at once instead of only when it next sends.
   */
  get failedSignal(): AbortSignal {
    return this.failed.signal
  }

  /**
   * Entries sent that may or may not be stored: their reply never came (a timeout, a lost
   * connection). Final once every batch is answered (`settle()`). A rerun from
   * `progress.lastAckedLine` sends them again (at-least-once: they may be stored twice).
   */
  get inDoubt(): number {
    return this.unanswered
  }

  get isFull(): boolean {
    return this.inFlight.length >= (this.transportConfirmed ? this.limits.maxInFlight : 1)
  }

  /** Wait for the oldest batch's reply. */
  async waitForRoom(): Promise<void> {
    while (this.isFull) await this.inFlight[0]
    this.throwIfFailed()
  }

  /** Send what is queued and wait for every reply. Throws the first failure. */
  async flush(): Promise<PublishProgress> {
    this.sendQueued()
    while (this.inFlight.length > 0) await this.inFlight[0]
    this.throwIfFailed()
    return this.progress
  }

  /**
   * Wait for every batch in flight to be answered, failures included, so the count is final:
   * after a failure, call this before reporting how far the run got.
   */
  async settle(): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight[0]?.catch(() => undefined)
  }

  /**
   * Entries stored by batches sent before an earlier batch failed but answered after it (Redis
   * refused one batch and accepted the next: memory freed, a replica back). They are not part of
   * `progress`, whose lines are stored without a gap; undefined when there are none.
   */
  get storedAfterFailure(): StoredAfterFailure | undefined {
    return this.later.count === 0 ? undefined : {...this.later}
  }

  /** Send the partial batch now (input is idle: do not hold messages back waiting for a full batch). */
  sendQueued(): void {
    const batch = this.current
    if (batch.entries.length === 0) return
    this.current = this.emptyBatch()
    // ioredis refuses at once, unsent, a command for a connection it knows is down: not in doubt.
    const sent = this.client.status === 'ready'
    const settled: Promise<void> = this.send(batch)
      .then((outcome) => this.record(batch, sent ? outcome : {...outcome, unanswered: 0}))
      .finally(() => {
        this.inFlight.splice(this.inFlight.indexOf(settled), 1)
      })
    this.inFlight.push(settled)
  }

  private async send(batch: Batch): Promise<BatchOutcome> {
    if (batch.partitions === undefined) {
      const outcome = await this.sendPart(this.streams[0] as string, batch.entries, batch.idempotencyKeys)
      return {...outcome, skipped: outcome.skipped.length, beyond: outcome.beyond.map((index) => batch.lines[index] as number)}
    }
    return this.sendPartitioned(batch, batch.partitions)
  }

  /**
   * A batch over several partitions: one part per partition (its entries in input order), sent
   * together (on a cluster, each to its node). The batch's acknowledged prefix ends at its first
   * entry not stored; entries of other parts stored after it count as stored after a failure.
   */
  private async sendPartitioned(batch: Batch, partitions: readonly number[]): Promise<BatchOutcome> {
    const parts = new Map<number, number[]>()
    partitions.forEach((partition, index) => {
      const part = parts.get(partition)
      if (part === undefined) parts.set(partition, [index])
      else part.push(index)
    })
    const sent = [...parts].map(async ([partition, indexes]) => ({
      partition,
      indexes,
      outcome: await this.sendPart(
        this.streams[partition] as string,
        indexes.map((index) => batch.entries[index] as FieldValue[]),
        indexes.map((index) => batch.idempotencyKeys[index] as string),
      ),
    }))
    const results = await Promise.all(sent)
    const stored = new Array<boolean>(batch.entries.length).fill(false)
    let firstMissing = batch.entries.length
    let error: unknown
    let failedStream: string | undefined
    let unanswered = 0
    const perPartition = new Map<number, {count: number; first: string; last: string}>()
    /** Batch indexes skipped as duplicates (dealt with, not stored). */
    const skipped = new Set<number>()
    for (const {partition, indexes, outcome} of results) {
      unanswered += outcome.unanswered
      for (let at = 0; at < outcome.ids.count; at++) stored[indexes[at] as number] = true
      for (const at of outcome.beyond) stored[indexes[at] as number] = true
      for (const at of outcome.skipped) skipped.add(indexes[at] as number)
      const added = outcome.ids.count - outcome.skipped.length
      if (added > 0) perPartition.set(partition, {count: added, first: outcome.ids.first as string, last: outcome.ids.last as string})
      const missing = indexes[outcome.ids.count]
      if (missing !== undefined && missing < firstMissing) {
        firstMissing = missing
        error = outcome.error ?? new Error('a part of the batch was not stored')
        failedStream = this.streams[partition]
      }
    }
    const beyond: number[] = []
    for (let index = firstMissing + 1; index < stored.length; index++) if (stored[index] === true && !skipped.has(index)) beyond.push(batch.lines[index] as number)
    const skippedInPrefix = [...skipped].filter((index) => index < firstMissing).length
    return {ids: {count: firstMissing, first: undefined, last: undefined}, skipped: skippedInPrefix, error, unanswered, beyond, perPartition, ...(failedStream === undefined ? {} : {failedStream})}
  }

  /** One stream's part of a batch, by script (falling back to pipelined XADDs when scripts are refused). */
  private async sendPart(stream: string, entries: readonly FieldValue[][], idempotencyKeys: readonly string[]): Promise<PartOutcome> {
    // Publishing once needs the check and the add in one script: no pipelined fallback; nor has scheduling one.
    if (this.schedule !== undefined) return this.sendScheduled(stream, entries, idempotencyKeys, this.schedule)
    if (this.dedupeWindowMs !== undefined) return this.sendDedupe(stream, entries, idempotencyKeys, this.dedupeWindowMs)
    if (this.transport === 'script') {
      try {
        return await this.sendScript(stream, entries)
      } catch (error) {
        if (!isScriptDenied(error)) return {ids: {count: 0, first: undefined, last: undefined}, skipped: [], error, unanswered: isErrorReply(error) ? 0 : entries.length, beyond: []}
        // The script never ran, so nothing of this part was added: resend it as plain XADDs.
        this.transport = 'pipeline'
      }
    }
    return this.sendPipeline(stream, entries)
  }

  /** The batch script and its arguments for one stream's part of a batch (entries of one width: xadd-batch-1.lua). */
  protected scriptCall(stream: string, entries: readonly FieldValue[][]): [ScriptSpec, FieldValue[]] {
    const width = entries[0]?.length ?? 0
    const args: FieldValue[] = [stream, String(width)]
    for (const entry of entries) for (const value of entry) args.push(value)
    return [XADD_BATCH, args]
  }

  private async sendScript(stream: string, entries: readonly FieldValue[][]): Promise<PartOutcome> {
    const [spec, args] = this.scriptCall(stream, entries)
    const [added, first, last, error] = (await callScript(this.client, spec, args)) as ScriptReply
    // The script replies with what it added and the XADD that stopped it: nothing is in doubt.
    return {ids: {count: added, first: first ?? undefined, last: last ?? undefined}, skipped: [], error: error === null ? undefined : xaddError(error), unanswered: 0, beyond: []}
  }

  /**
   * A part held in the stream's schedule until due (schedule-add-1.lua); when publishing once, each
   * only if its idempotency key is not in the stream's dedupe set, checked now, not when due
   * (schedule-add-dedupe-2.lua). Nothing is in the stream yet, so no IDs.
   */
  private async sendScheduled(stream: string, entries: readonly FieldValue[][], idempotencyKeys: readonly string[], schedule: Schedule): Promise<PartOutcome> {
    const none = {first: undefined, last: undefined}
    const members = entries.map((entry) => scheduleMember(entry))
    const windowMs = this.dedupeWindowMs
    const [spec, args] =
      windowMs === undefined
        ? [SCHEDULE_ADD, [scheduleKey(stream), schedule.mode, schedule.ms, ...members]]
        : [SCHEDULE_ADD_DEDUPE, [scheduleKey(stream), dedupeKey(stream), schedule.mode, schedule.ms, windowMs, ...members.flatMap((member, index) => [idempotencyKeys[index] as string, member])]]
    let reply: ScheduleReply
    try {
      reply = (await callScript(this.client, spec, args)) as ScheduleReply
    } catch (error) {
      return {ids: {count: 0, ...none}, skipped: [], error, unanswered: isErrorReply(error) ? 0 : entries.length, beyond: []}
    }
    const [count, dueMs, error, skipped = []] = reply
    // The due time of the first batch that scheduled anything (one whose every key was known schedules nothing).
    if (Number(count) > skipped.length) this.firstDueMs ??= Number(dueMs)
    return {ids: {count: Number(count), ...none}, skipped: skipped.map((position) => Number(position) - 1), error: error === null ? undefined : new Error(error), unanswered: 0, beyond: []}
  }

  /** A part whose entries are each stored only if their idempotency key is not in the stream's dedupe set (xadd-dedupe-2.lua). */
  private async sendDedupe(stream: string, entries: readonly FieldValue[][], idempotencyKeys: readonly string[], windowMs: number): Promise<PartOutcome> {
    const width = entries[0]?.length ?? 0
    const args: FieldValue[] = [stream, dedupeKey(stream), String(width), String(windowMs)]
    entries.forEach((entry, index) => {
      args.push(idempotencyKeys[index] as string)
      for (const value of entry) args.push(value)
    })
    let reply: DedupeReply
    try {
      reply = (await callScript(this.client, XADD_DEDUPE, args)) as DedupeReply
    } catch (error) {
      return {ids: {count: 0, first: undefined, last: undefined}, skipped: [], error, unanswered: isErrorReply(error) ? 0 : entries.length, beyond: []}
    }
    const [processed, first, last, error, skipped] = reply
    return {
      ids: {count: processed, first: first ?? undefined, last: last ?? undefined},
      skipped: skipped.map((position) => Number(position) - 1),
      error: error === null ? undefined : xaddError(error),
      unanswered: 0,
      beyond: [],
    }
  }

  /** The arguments of an entry's XADD after the stream key. */
  protected xaddArguments(entry: readonly FieldValue[]): FieldValue[] {
    return ['*', ...entry]
  }

  private async sendPipeline(stream: string, entries: readonly FieldValue[][]): Promise<PartOutcome> {
    const pipeline = this.client.pipeline()
    for (const entry of entries) pipeline.xadd(stream, ...this.xaddArguments(entry))
    const outcome: PartOutcome = {ids: {count: 0, first: undefined, last: undefined}, skipped: [], error: undefined, unanswered: 0, beyond: []}
    let replies: PipelineReply
    try {
      replies = (await pipeline.exec()) as PipelineReply
    } catch (error) {
      return {...outcome, error, unanswered: isErrorReply(error) ? 0 : entries.length}
    }
    if (replies === null) return {...outcome, error: new Error('Connection is closed.'), unanswered: entries.length}
    replies.forEach(([error, id], index) => {
      if (error !== null) {
        outcome.error ??= error
        if (!isErrorReply(error)) outcome.unanswered++
      } else if (outcome.error === undefined) {
        outcome.ids.count++
        outcome.ids.first ??= id as string
        outcome.ids.last = id as string
      } else {
        // Stored after a refused XADD of the same part (Redis freed memory meanwhile): not part of the prefix.
        outcome.beyond.push(index)
      }
    })
    return outcome
  }

  private record(batch: Batch, outcome: BatchOutcome): void {
    this.unanswered += outcome.unanswered
    for (const [partition, part] of outcome.perPartition ?? []) {
      const seen = this.partitionProgress.get(partition)
      if (seen === undefined) this.partitionProgress.set(partition, {partition, stream: this.streams[partition] as string, published: part.count, firstId: part.first, lastId: part.last})
      else {
        seen.published += part.count
        seen.lastId = part.last
      }
    }
    const {count, first, last} = outcome.ids
    if (this.failure !== undefined) {
      this.storedLater(batch.lines.slice(0, count))
      this.storedLater(outcome.beyond)
      return
    }
    if (outcome.error === undefined) this.transportConfirmed = true
    if (count > 0) {
      this.progress.published += count - outcome.skipped
      this.deduplicated += outcome.skipped
      this.progress.firstId ??= first
      if (last !== undefined) this.progress.lastId = last
      this.progress.lastAckedLine = batch.lines[count - 1] ?? this.progress.lastAckedLine
    }
    if (outcome.error !== undefined) {
      this.failure = outcome.error
      this.failedStream = outcome.failedStream ?? this.streams[0]
      this.failedLine = batch.lines[count]
      this.failed.abort(outcome.error)
      this.storedLater(outcome.beyond)
    }
  }

  /** Lines stored after the failure (in input order): a rerun from the failure sends them again. */
  private storedLater(lines: readonly number[]): void {
    if (lines.length === 0) return
    if (this.later.count === 0) this.later.firstLine = lines[0] as number
    this.later.count += lines.length
    this.later.lastLine = lines.at(-1) as number
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure
  }
}
