import type {RedisClient} from '../redis/client.js'
import {isErrorReply, SCRIPT_DENIED} from '../redis/redis-errors.js'
import {callScript, XADD_BATCH} from '../scripts.js'
import type {FieldValue} from '../wire-format.js'

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
  firstId: string | undefined
  lastId: string | undefined
  /** Every input line up to this one is acknowledged (or was skipped): resume after it. */
  lastAckedLine: number
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
  lines: number[]
  bytes: number
}

/** Entries acknowledged in order, then possibly the error that stopped the batch. */
interface BatchOutcome {
  ids: {count: number; first: string | undefined; last: string | undefined}
  error: unknown
  /**
   * Entries of the batch whose reply never came (a timeout, a lost connection): stored or not,
   * nobody knows. An error reply, or the script's reply that it stopped, says what was added.
   */
  unanswered: number
}

type ScriptReply = [added: number, first: string | null, last: string | null, error: string | null]
type PipelineReply = Array<[error: Error | null, result: unknown]> | null

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
  private current: Batch = {entries: [], lines: [], bytes: 0}
  private readonly inFlight: Array<Promise<void>> = []
  private failure: unknown
  private later: StoredAfterFailure = {count: 0, firstLine: 0, lastLine: 0}
  private readonly failed = new AbortController()
  /** Entries sent whose reply never came (see `inDoubt`). */
  private unanswered = 0
  /** Until one batch got through, send one at a time: a fallback must not reorder batches. */
  private transportConfirmed = false

  constructor(
    private readonly client: RedisClient,
    private readonly topic: string,
    private readonly limits: PublisherLimits = DEFAULT_PUBLISHER_LIMITS,
    private transport: Transport = 'script',
  ) {}

  /** Queue one entry; call `waitForRoom()` when `isFull` before queueing more. */
  push(line: number, fields: FieldValue[]): void {
    this.throwIfFailed()
    const batch = this.current
    batch.entries.push(fields)
    batch.lines.push(line)
    batch.bytes += (fields[1] as FieldValue).length
    if (batch.entries.length >= this.limits.batchSize || batch.bytes >= this.limits.batchBytes) this.sendQueued()
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
    this.current = {entries: [], lines: [], bytes: 0}
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
    if (this.transport === 'script') {
      try {
        return await this.sendScript(batch)
      } catch (error) {
        if (!isScriptDenied(error)) return {ids: {count: 0, first: undefined, last: undefined}, error, unanswered: isErrorReply(error) ? 0 : batch.entries.length}
        // The script never ran, so nothing of this batch was added: resend it as plain XADDs.
        this.transport = 'pipeline'
      }
    }
    return this.sendPipeline(batch)
  }

  private async sendScript(batch: Batch): Promise<BatchOutcome> {
    const width = batch.entries[0]?.length ?? 0
    const args: FieldValue[] = [this.topic, String(width)]
    for (const entry of batch.entries) for (const value of entry) args.push(value)
    const [added, first, last, error] = (await callScript(this.client, XADD_BATCH, args)) as ScriptReply
    // The script replies with what it added and the XADD that stopped it: nothing is in doubt.
    return {ids: {count: added, first: first ?? undefined, last: last ?? undefined}, error: error === null ? undefined : xaddError(error), unanswered: 0}
  }

  private async sendPipeline(batch: Batch): Promise<BatchOutcome> {
    const pipeline = this.client.pipeline()
    for (const entry of batch.entries) pipeline.xadd(this.topic, '*', ...entry)
    const outcome: BatchOutcome = {ids: {count: 0, first: undefined, last: undefined}, error: undefined, unanswered: 0}
    let replies: PipelineReply
    try {
      replies = (await pipeline.exec()) as PipelineReply
    } catch (error) {
      return {...outcome, error, unanswered: isErrorReply(error) ? 0 : batch.entries.length}
    }
    if (replies === null) return {...outcome, error: new Error('Connection is closed.'), unanswered: batch.entries.length}
    for (const [error, id] of replies) {
      if (error !== null) {
        outcome.error ??= error
        if (!isErrorReply(error)) outcome.unanswered++
      } else if (outcome.error === undefined) {
        outcome.ids.count++
        outcome.ids.first ??= id as string
        outcome.ids.last = id as string
      }
    }
    return outcome
  }

  private record(batch: Batch, outcome: BatchOutcome): void {
    this.unanswered += outcome.unanswered
    if (this.failure !== undefined) {
      if (outcome.ids.count > 0) {
        if (this.later.count === 0) this.later.firstLine = batch.lines[0] ?? 0
        this.later.count += outcome.ids.count
        this.later.lastLine = batch.lines[outcome.ids.count - 1] ?? this.later.lastLine
      }
      return
    }
    if (outcome.error === undefined) this.transportConfirmed = true
    const {count, first, last} = outcome.ids
    if (count > 0) {
      this.progress.published += count
      this.progress.firstId ??= first
      this.progress.lastId = last
      this.progress.lastAckedLine = batch.lines[count - 1] ?? this.progress.lastAckedLine
    }
    if (outcome.error !== undefined) {
      this.failure = outcome.error
      this.failed.abort(outcome.error)
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure
  }
}
