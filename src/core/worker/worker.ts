import {EventEmitter} from 'node:events'
import {format} from 'node:util'

import type {Redis} from 'ioredis'

import {QctlError} from '../errors.js'
import {isPermissionDenied} from '../redis/redis-errors.js'
import {sleep} from '../sleep.js'
import {AckBatcher} from './ack-batcher.js'
import {backoffDelay} from './backoff.js'
import {GroupOps, type DeliveredEntry, type RetryRecord} from './group-ops.js'
import {failureKind} from './handler-errors.js'
import {InFlight} from './in-flight.js'
import {ReadAhead} from './read-ahead.js'
import {decodeMessage, mayBeBinary, type Message, type RawValue} from './message.js'
import {resolveWorkerOptions, type WorkerOptions, type ResolvedWorkerOptions} from './options.js'

export interface HandlerContext {
  /** Fired on shutdown (after --shutdown-timeout) or when --handler-timeout passes. */
  signal: AbortSignal
  attempt: number
  /** Log a line through qctl's output (it respects --json). */
  log: (...args: unknown[]) => void
}

export type Handler = (message: Message, context: HandlerContext) => unknown

/** What the worker did, for the summary at exit (and `--json`). */
export interface WorkerSummary {
  topic: string
  group: string
  consumer: string
  processed: number
  retried: number
  deadLettered: number
  lost: number
  /** IDs of lost entries (deleted or trimmed while pending), the first 100. */
  lostIds: string[]
  /** Acknowledgements that found the entry already acknowledged: it was handled twice. */
  duplicates: number
  /** In flight at shutdown and not finished within the shutdown timeout: left pending for others. */
  unfinished: number
  durationMs: number
  /** Handled (processed + dead-lettered) per second. */
  rate: number
  stopReason: StopReason
}

export type StopReason = 'signal' | 'until-empty' | 'max-messages' | 'closed'

export interface WorkerEvents {
  started: [{topic: string; group: string; consumer: string; groupCreated: boolean; deadLetterKey: string}]
  retry: [{id: string; attempt: number; delayMs: number; error: string}]
  deadLettered: [{id: string; dlqId: string; attempts: number; errorName: string; error: string}]
  lost: [{ids: string[]}]
  log: [{id: string; message: string}]
  warning: [{message: string}]
}

/** Opens the worker's connections: blocking reads get their own, so they never delay acks. */
export type ConnectionFactory = (role: 'reader' | 'commands') => Promise<Redis>

/**
 * How the worker's connections should be opened (see `openRedis`): both reconnect by themselves;
 * the command connection re-sends what a cut connection left unanswered (everything it sends is
 * idempotent) and bounds every command, so no loop waits forever on a reply that will never come.
 * The reader does neither: a blocking read has its own watchdog, and re-sending one would deliver
 * entries to a read nobody awaits.
 */
export const WORKER_CONNECTION_OPTIONS = {
  reader: {reconnect: true},
  commands: {reconnect: true, resendOnReconnect: true, commandTimeoutMs: 15_000},
} as const

interface Tracked {
  readonly id: string
  /** Where the worker's InFlight holds it. */
  slot: number
  entry: DeliveredEntry
  retry: RetryRecord | undefined
  controller: AbortController | undefined
}

/**
 * The handler's context, one per delivery. `signal` and `log` are made only when the handler
 * reads them: most never do, and an AbortController or a closure per message is costly.
 */
class DeliveryContext implements HandlerContext {
  readonly attempt: number

  constructor(
    private readonly tracked: Tracked,
    private readonly logLine: (id: string, message: string) => void,
  ) {
    this.attempt = tracked.entry.attempt
  }

  get signal(): AbortSignal {
    this.tracked.controller ??= new AbortController()
    return this.tracked.controller.signal
  }

  /** A function of its own (not a method), so `const {log} = ctx` works. */
  get log(): (...args: unknown[]) => void {
    return (...args) => this.logLine(this.tracked.entry.id, format(...args))
  }
}

const MAX_LOST_IDS = 100
const ERROR_MESSAGE_LIMIT = 1000
const READ_WATCHDOG_MARGIN_MS = 5000
/**
 * Entries per XACK (sent sooner if 2 ms pass). Measured on 1M drains: 100, 300 and 500 ran at the same
 * rate, and 500 raised peak RSS by ~11 MB (the worker's target is under 120 MB).
 */
const ACK_BATCH = 100
/** How much handling the read-ahead covers (see ReadAhead). */
const READ_AHEAD_WINDOW_MS = 20

const errorName = (error: unknown): string =>
  error instanceof Error ? error.name : typeof error === 'object' && error !== null && typeof (error as {name?: unknown}).name === 'string' ? String((error as {name: string}).name) : 'Error'

const errorMessage = (error: unknown): string => {
  const text = error instanceof Error ? error.message : String(error)
  return text.length > ERROR_MESSAGE_LIMIT ? `${text.slice(0, ERROR_MESSAGE_LIMIT)}…` : text
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as {then?: unknown}).then === 'function'

/** Errors that retrying cannot fix: stop the worker. Anything else (a lost connection) is retried. */
const isFatal = (error: unknown): boolean =>
  error instanceof QctlError || isPermissionDenied(error) || (error instanceof Error && /^(NOGROUP|WRONGTYPE|NOSCRIPT)/.test(error.message))

/**
 * A consumer-group worker: at-least-once delivery to a handler with bounded concurrency,
 * batched acknowledgements, retries with backoff kept in Redis, atomic dead-lettering,
 * recovery of entries left by dead consumers, and a heartbeat that keeps a slow but live
 * handler's entries from being taken over.
 *
 * Memory is bounded: at most `concurrency + prefetch` entries are held, however deep the backlog;
 * within that the read-ahead follows the handlers' rate (ReadAhead).
 */
export class Worker extends EventEmitter<WorkerEvents> {
  readonly options: ResolvedWorkerOptions
  private ops: GroupOps | undefined
  private commands: Redis | undefined
  private reader: Redis | undefined
  private readonly queue: Tracked[] = []
  private readonly inFlight = new InFlight<Tracked>()
  private running = 0
  /** Handler calls started, so --max-messages never starts more than it may finish. */
  private started = 0
  /** Handler calls finished (whatever the outcome): the read-ahead follows their rate. */
  private finished = 0
  private readonly readAhead: ReadAhead
  /** The read and reclaim loops waiting for room, each with the room it waits for. */
  private readonly slotWaiters: Array<{min: number; wake: () => void}> = []
  /** The read loop waiting for nothing to be held (see `settle`). */
  private onIdle: (() => void) | undefined
  private readonly stopController = new AbortController()
  private stopReason: StopReason = 'closed'
  private acks: AckBatcher | undefined
  private fatal: unknown
  private readonly startedAt = Date.now()
  private readonly summary = {processed: 0, retried: 0, deadLettered: 0, lost: 0, lostIds: [] as string[], duplicates: 0}

  constructor(
    options: WorkerOptions,
    private readonly connect: ConnectionFactory,
  ) {
    super()
    this.options = resolveWorkerOptions(options)
    const {prefetch, maxReadCount, concurrency} = this.options
    // Start small (a slow handler holds little from the first read); a fast one grows it within a few reads.
    this.readAhead = new ReadAhead(prefetch, maxReadCount, READ_AHEAD_WINDOW_MS, performance.now(), concurrency)
  }

  /** Entries held (running and prefetched). */
  get inFlightCount(): number {
    return this.inFlight.size
  }

  get stats(): Readonly<typeof this.summary> & {inFlight: number; elapsedMs: number} {
    return {...this.summary, inFlight: this.inFlight.size, elapsedMs: Date.now() - this.startedAt}
  }

  /** Begin a graceful stop: no more reads; running handlers finish (up to the shutdown timeout). Idempotent. */
  close(reason: StopReason = 'closed'): void {
    if (this.stopController.signal.aborted) return
    this.stopReason = reason
    this.stopController.abort()
    this.wakeSlotWaiters()
    this.onIdle?.()
  }

  /** Run until closed, `untilEmpty` finds nothing left, or `maxMessages` are handled. */
  async run(): Promise<WorkerSummary> {
    const {topic, group, consumer} = this.options
    this.commands = this.watchConnection(await this.connect('commands'), 'commands')
    this.ops = new GroupOps(this.commands, topic, group, consumer, this.options.deadLetterTopic)
    const groupCreated = await this.ops.ensureGroup(this.options.from)
    this.acks = new AckBatcher(
      async (ids, retried) => (this.ops as GroupOps).ack(ids, retried),
      (result) => {
        this.summary.duplicates += result.duplicates
        if (result.failed === undefined) return
        // A refused XACK would be refused for every entry: stop rather than handle them all again.
        if (isPermissionDenied(result.failed)) this.fail(result.failed)
        else this.emit('warning', {message: `acknowledgement failed (the entries will be delivered again): ${errorMessage(result.failed)}`})
      },
      ACK_BATCH,
    )
    this.emit('started', {topic, group, consumer, groupCreated, deadLetterKey: this.ops.dlqKey})
    this.reader = this.watchConnection(await this.connect('reader'), 'reader')

    await this.recoverOwnPending()
    const loops = [this.readLoop(), this.reclaimLoop(), this.heartbeatLoop()]
    await Promise.all(loops.map(async (loop) => loop.catch((error: unknown) => this.fail(error))))
    const unfinished = await this.drain()
    if (this.fatal !== undefined) throw this.fatal
    await this.removeConsumerIfIdle()

    const durationMs = Date.now() - this.startedAt
    const handled = this.summary.processed + this.summary.deadLettered
    return {
      topic,
      group,
      consumer,
      ...this.summary,
      unfinished,
      durationMs,
      rate: durationMs > 0 ? Math.round((handled * 1000) / durationMs) : 0,
      stopReason: this.stopReason,
    }
  }

  /** Say when a connection drops and comes back (the client reconnects by itself, with capped backoff). */
  private watchConnection(client: Redis, role: string): Redis {
    let lost = false
    client.on('reconnecting', (delayMs: number) => {
      if (!lost && !this.stopping) this.emit('warning', {message: `lost the ${role} connection to Redis; reconnecting (next try in ${delayMs}ms)`})
      lost = true
    })
    client.on('ready', () => {
      if (lost && !this.stopping) this.emit('warning', {message: `${role} connection to Redis is back`})
      lost = false
    })
    return client
  }

  private fail(error: unknown): void {
    this.fatal ??= error
    this.close('closed')
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted
  }

  private get freeCapacity(): number {
    return this.options.concurrency + this.readAhead.size - this.inFlight.size
  }

  /**
   * Wait until at least `min` entries fit (or the queue ran dry with any room at all): reading
   * a few entries at a time would double the reads for the same work.
   */
  private async waitForRoom(min = 1): Promise<void> {
    while (!this.stopping && !this.hasRoom(min)) {
      await new Promise<void>((resolve) => this.slotWaiters.push({min, wake: resolve}))
    }
  }

  private hasRoom(min: number): boolean {
    const free = this.freeCapacity
    return free >= min || (this.queue.length === 0 && free > 0)
  }

  /**
   * Called after every message: wakes only the waiters whose room is there now, so a busy worker
   * does not make its read loop spin (a promise and a check per message) while the room fills up.
   */
  private wakeSlotWaiters(): void {
    for (let i = this.slotWaiters.length - 1; i >= 0; i--) {
      const waiter = this.slotWaiters[i] as {min: number; wake: () => void}
      // Stopping wakes everyone: the loops then see it and end.
      if (!this.stopping && !this.hasRoom(waiter.min)) continue
      this.slotWaiters.splice(i, 1)
      waiter.wake()
    }
  }

  /** On start, deliver again what this consumer name still holds (a restarted worker with a stable --consumer). */
  private async recoverOwnPending(): Promise<void> {
    const ops = this.ops as GroupOps
    let after = '-'
    while (!this.stopping) {
      await this.waitForRoom()
      const ids = (await ops.ownPending(after, Math.max(1, this.freeCapacity))).filter((id) => !this.inFlight.has(id))
      if (ids.length === 0) return
      after = ids.at(-1) as string
      await this.takeDelivery(ids)
    }
  }

  /** Claim entries (attempt +1) unless their retry is not due yet; those are parked again. */
  private async takeDelivery(ids: string[]): Promise<void> {
    const ops = this.ops as GroupOps
    const records = await ops.retryRecords(ids)
    const now = Date.now()
    const due: string[] = []
    for (const id of ids) {
      const record = records.get(id)
      if (record !== undefined && record.dueMs > now) {
        await ops.setIdle([id], this.options.visibilityTimeoutMs - (record.dueMs - now))
      } else {
        due.push(id)
      }
    }
    const {delivered, lost} = await ops.claim(due)
    this.reportLost(lost)
    // Another path may have claimed the same entry while this one waited for Redis.
    for (const entry of delivered) if (!this.inFlight.has(entry.id)) this.dispatch(entry, records.get(entry.id))
  }

  private reportLost(ids: readonly string[]): void {
    if (ids.length === 0) return
    this.summary.lost += ids.length
    for (const id of ids) if (this.summary.lostIds.length < MAX_LOST_IDS) this.summary.lostIds.push(id)
    this.emit('lost', {ids: [...ids]})
  }

  /**
   * New entries, read on the dedicated blocking connection.
   *
   * Draining (--until-empty), reads do not block while entries keep coming. A read that brings fewer
   * entries than it asked for has caught up with the stream: the worker then waits for what it holds
   * to finish (at most `blockMs`), sends its acknowledgements, and reads once more without blocking.
   * Nothing there and nothing pending is the end, noticed within a round trip of the last
   * acknowledgement instead of after one more blocking read. Only while something is still pending
   * elsewhere (another consumer's entries, a parked retry) does it poll with a blocking read.
   */
  private async readLoop(): Promise<void> {
    const {untilEmpty} = this.options
    const blockMs = untilEmpty ? Math.min(this.options.blockMs, 100) : this.options.blockMs
    let caughtUp = false
    let block = !untilEmpty
    while (!this.stopping) {
      if (caughtUp) await this.settle(blockMs)
      this.readAhead.update(this.finished, performance.now())
      const {readCount} = this.readAhead
      await this.waitForRoom(caughtUp ? 1 : readCount)
      if (this.stopping) break
      // Never fewer than the idle handlers could take at once.
      const count = Math.min(this.freeCapacity, Math.max(readCount, this.options.concurrency - this.running))
      let entries: Array<[string, string[]]>
      try {
        entries = await this.read(count, block ? blockMs : undefined)
      } catch (error) {
        if (this.stopping) break
        if (error instanceof Error && error.message.startsWith('NOGROUP')) throw this.groupVanished()
        if (isFatal(error)) throw error
        this.emit('warning', {message: `read failed, retrying: ${errorMessage(error)}`})
        await sleep(500, this.stopController.signal)
        // Entries a cut read delivered are pending for us: take them back.
        await this.recoverOwnPending().catch(() => undefined)
        continue
      }
      for (const [id, pairs] of entries) this.dispatch({id, pairs, attempt: 1}, undefined)
      if (!untilEmpty) continue
      caughtUp = entries.length < count
      block = false
      if (entries.length > 0 || this.inFlight.size > 0) continue
      if (await this.isDrained()) this.close('until-empty')
      // Pending elsewhere: wait for it (or for new entries) with a blocking read rather than spin.
      else block = true
    }
  }

  /** One XREADGROUP for new entries; `blockMs` undefined reads without blocking. */
  private async read(count: number, blockMs: number | undefined): Promise<Array<[string, string[]]>> {
    const {topic, group, consumer} = this.options
    const reader = this.reader as Redis
    const read =
      blockMs === undefined
        ? reader.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', topic, '>')
        : reader.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', topic, '>')
    const reply = (await this.withWatchdog(read, (blockMs ?? 0) + READ_WATCHDOG_MARGIN_MS)) as Array<[string, Array<[string, string[]]>]> | null
    return reply?.[0]?.[1] ?? []
  }

  /**
   * Until-empty, after a read caught up: wait until nothing is held (or `ms` pass), then send the
   * acknowledgements, so the drained check that may follow sees them.
   */
  private async settle(ms: number): Promise<void> {
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        this.onIdle = resolve
        timer = setTimeout(resolve, ms)
      })
      clearTimeout(timer)
      this.onIdle = undefined
    }
    if (this.inFlight.size === 0) await this.acks?.flush()
  }

  private groupVanished(): QctlError {
    return new QctlError('NOT_FOUND', `consumer group "${this.options.group}" of topic "${this.options.topic}" no longer exists (the stream was deleted or the group destroyed); stopping rather than starting over`)
  }

  /**
   * A blocking read that a reconnect cut may never settle: after `ms`, drop the connection
   * (ioredis reconnects) and report a failure, so the loop goes on.
   */
  private async withWatchdog<T>(promise: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const watchdog = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        this.reader?.disconnect(true)
        reject(new Error(`blocking read did not return within ${ms}ms; reconnected`))
      }, ms)
    })
    try {
      return await Promise.race([promise, watchdog])
    } finally {
      clearTimeout(timer)
    }
  }

  private async isDrained(): Promise<boolean> {
    const state = await (this.ops as GroupOps).state()
    if (!state.exists) throw this.groupVanished()
    return state.lag === 0 && state.pending === 0
  }

  /** Entries of dead consumers, and failed entries whose backoff is over. */
  private async reclaimLoop(): Promise<void> {
    const ops = this.ops as GroupOps
    let cursor = '0-0'
    while (!this.stopping) {
      await this.waitForRoom()
      if (this.stopping) break
      try {
        const claimed = await ops.autoclaim(this.options.visibilityTimeoutMs, cursor, Math.max(1, Math.min(this.freeCapacity, 100)))
        cursor = claimed.cursor
        this.reportLost(claimed.deleted)
        await this.takeDelivery(claimed.ids.filter((id) => !this.inFlight.has(id)))
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('NOGROUP')) throw this.groupVanished()
        if (isFatal(error)) throw error
        this.emit('warning', {message: `reclaim failed, retrying: ${errorMessage(error)}`})
        cursor = '0-0'
      }
      if (cursor === '0-0') await sleep(this.options.reclaimIntervalMs, this.stopController.signal)
    }
  }

  /** Reset the idle time of everything held, so a slow but live handler keeps its entries. */
  private async heartbeatLoop(): Promise<void> {
    const ops = this.ops as GroupOps
    while (!this.stopping) {
      await sleep(this.options.heartbeatIntervalMs, this.stopController.signal)
      if (this.stopping) break
      let gone: string[]
      try {
        gone = await ops.heartbeat(this.inFlight.ids())
      } catch (error) {
        if (isFatal(error)) throw error
        this.emit('warning', {message: `heartbeat failed, retrying: ${errorMessage(error)}`})
        continue
      }
      if (gone.length === 0) continue
      const dropped = this.dropQueued(new Set(gone))
      this.emit('warning', {
        message: `${gone.length} in-flight entries were taken over by another consumer (this worker was too slow to renew them): ${dropped} not yet started are dropped, the acknowledgements of the ${gone.length - dropped} running will count as duplicates`,
      })
    }
  }

  /** Forget queued (not started) entries among `ids`: another consumer has them now. Returns how many. */
  private dropQueued(ids: ReadonlySet<string>): number {
    let dropped = 0
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const tracked = this.queue[i] as Tracked
      if (!ids.has(tracked.id)) continue
      this.queue.splice(i, 1)
      this.inFlight.remove(tracked.slot, tracked)
      dropped++
    }
    if (dropped > 0) this.wakeSlotWaiters()
    return dropped
  }

  /** Hold an entry and start it when a handler slot is free. The caller makes sure it is not held already. */
  private dispatch(entry: DeliveredEntry, retry: RetryRecord | undefined): void {
    const tracked: Tracked = {id: entry.id, slot: -1, entry, retry, controller: undefined}
    tracked.slot = this.inFlight.add(tracked)
    this.queue.push(tracked)
    this.pump()
  }

  private pump(): void {
    const {maxMessages, concurrency} = this.options
    while (this.running < concurrency && this.queue.length > 0 && !this.stopping) {
      if (maxMessages !== undefined && this.started >= maxMessages) break
      const tracked = this.queue.shift() as Tracked
      this.running++
      this.started++
      void this.handle(tracked)
    }
  }

  /**
   * One entry to its outcome (acked, parked for retry, or dead-lettered); never rejects. One
   * async function per message (not two): at 200k messages a second every promise counts.
   */
  private async handle(tracked: Tracked): Promise<void> {
    try {
      const {entry} = tracked
      const {maxAttempts, handlerTimeoutMs} = this.options
      if (entry.attempt > maxAttempts) {
        // It was delivered that often without completing (its workers died or were killed mid-handler).
        await this.deadLetter(tracked, {name: 'MaxAttemptsExceeded', message: `delivered ${entry.attempt} times without completing (limit ${maxAttempts})`}).catch(
          (error: unknown) => {
            // A refusal (no permission to dead-letter) would come back on every delivery: stop instead.
            if (isFatal(error)) this.fail(error)
            else this.emit('warning', {message: `could not dead-letter ${entry.id} (it will be delivered again): ${errorMessage(error)}`})
          },
        )
        return
      }
      let pairs: readonly RawValue[] = entry.pairs
      if (mayBeBinary(entry.pairs)) {
        const exact = await this.exactPairs(entry.id)
        // Left pending: delivered again after the visibility timeout (or reported lost if it was deleted).
        if (exact === undefined) return
        pairs = exact
      }
      const message = decodeMessage(this.options.topic, entry.id, pairs, entry.attempt)
      try {
        const result = this.options.handler(message, new DeliveryContext(tracked, this.logLine))
        if (handlerTimeoutMs !== undefined) await this.withinHandlerTimeout(result, tracked, handlerTimeoutMs)
        else if (isThenable(result)) await result
      } catch (error) {
        try {
          await this.failed(tracked, error)
        } catch (redisError) {
          if (isFatal(redisError)) this.fail(redisError)
          // Not recorded: the entry stays pending and is delivered again after the visibility timeout.
          else this.emit('warning', {message: `could not record the failure of ${entry.id} (it will be delivered again): ${errorMessage(redisError)}`})
        }
        return
      }
      this.summary.processed++
      this.acks?.add(entry.id, tracked.retry !== undefined)
    } finally {
      this.running--
      this.finished++
      this.inFlight.remove(tracked.slot, tracked)
      this.pump()
      this.wakeSlotWaiters()
      if (this.onIdle !== undefined && this.inFlight.size === 0) this.onIdle()
      const {maxMessages} = this.options
      if (maxMessages !== undefined && this.started >= maxMessages && this.running === 0) this.close('max-messages')
    }
  }

  /** An entry's pairs as exact bytes, for a payload that text decoding may have altered; undefined (warned) if unavailable. */
  private async exactPairs(id: string): Promise<Buffer[] | undefined> {
    try {
      const pairs = await (this.ops as GroupOps).entryBytes(id)
      if (pairs === undefined) this.emit('warning', {message: `entry ${id} was deleted before its handler ran; it will be reported as lost`})
      return pairs
    } catch (error) {
      this.emit('warning', {message: `could not read the bytes of ${id} (it will be delivered again): ${errorMessage(error)}`})
      return undefined
    }
  }

  /** A handler's log line, through the worker's events (the reporter respects --json). */
  private readonly logLine = (id: string, message: string): void => {
    this.emit('log', {id, message})
  }

  /** Await a handler's result, but fail it (and abort its signal) after --handler-timeout. */
  private async withinHandlerTimeout(result: unknown, tracked: Tracked, ms: number): Promise<void> {
    const controller = (tracked.controller ??= new AbortController())
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        result,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            const error = new Error(`handler timed out after ${ms}ms`)
            error.name = 'HandlerTimeout'
            controller.abort(error)
            reject(error)
          }, ms)
        }),
      ])
    } finally {
      clearTimeout(timer)
    }
  }

  private async failed(tracked: Tracked, error: unknown): Promise<void> {
    const {entry} = tracked
    const error_ = {name: errorName(error), message: errorMessage(error)}
    if (failureKind(error) === 'permanent' || entry.attempt >= this.options.maxAttempts) {
      await this.deadLetter(tracked, error_)
      return
    }
    const now = Date.now()
    const delayMs = backoffDelay(this.options.backoff, entry.attempt, entry.id)
    const record: RetryRecord = {firstFailureMs: tracked.retry?.firstFailureMs ?? now, dueMs: now + delayMs}
    try {
      await (this.ops as GroupOps).retryLater(entry.id, this.options.visibilityTimeoutMs - delayMs, record)
    } catch (parkError) {
      // A refusal would recur on every failure: let the caller stop the worker.
      if (isFatal(parkError)) throw parkError
      // Still pending: it comes back after the visibility timeout instead of the backoff.
      this.emit('warning', {message: `could not schedule the retry of ${entry.id}: ${errorMessage(parkError)}`})
    }
    this.summary.retried++
    this.emit('retry', {id: entry.id, attempt: entry.attempt, delayMs, error: `${error_.name}: ${error_.message}`})
  }

  private async deadLetter(tracked: Tracked, error: {name: string; message: string}): Promise<void> {
    const {entry} = tracked
    const now = Date.now()
    const metadata: Array<[string, string]> = [
      ['dlq.topic', this.options.topic],
      ['dlq.id', entry.id],
      ['dlq.group', this.options.group],
      ['dlq.consumer', this.options.consumer],
      ['dlq.attempts', String(entry.attempt)],
      ['dlq.error-name', error.name],
      ['dlq.error-message', error.message],
      ['dlq.first-failure', new Date(tracked.retry?.firstFailureMs ?? now).toISOString()],
      ['dlq.last-failure', new Date(now).toISOString()],
    ]
    const outcome = await (this.ops as GroupOps).deadLetter(entry.id, metadata)
    if (outcome.moved) {
      this.summary.deadLettered++
      this.emit('deadLettered', {id: entry.id, dlqId: outcome.dlqId, attempts: entry.attempt, errorName: error.name, error: error.message})
    } else if (outcome.reason === 'deleted') {
      this.reportLost([entry.id])
    } else {
      // Another consumer already acknowledged or dead-lettered it.
      this.summary.duplicates++
    }
  }

  /** After the loops stop: release what never started, let running handlers finish, flush acks. */
  private async drain(): Promise<number> {
    const ops = this.ops as GroupOps
    const notStarted = this.queue.splice(0)
    for (const tracked of notStarted) this.inFlight.remove(tracked.slot, tracked)
    // Make them claimable by other workers right away instead of after the visibility timeout.
    await ops.setIdle(notStarted.map((tracked) => tracked.entry.id), this.options.visibilityTimeoutMs).catch(() => undefined)

    const deadline = Date.now() + this.options.shutdownTimeoutMs
    while (this.running > 0 && Date.now() < deadline) await sleep(Math.min(20, deadline - Date.now()))
    const unfinished = this.inFlight.values()
    for (const tracked of unfinished) tracked.controller?.abort(new Error('worker shutting down'))
    // Bounded: with Redis gone, unsent acks must not hold the exit (those entries come back later).
    const giveUp = new AbortController()
    await Promise.race([this.acks?.flush(), sleep(Math.max(1000, this.options.shutdownTimeoutMs), giveUp.signal)])
    giveUp.abort()
    await ops.setIdle(unfinished.map((tracked) => tracked.entry.id), this.options.visibilityTimeoutMs).catch(() => undefined)
    return unfinished.length
  }

  private async removeConsumerIfIdle(): Promise<void> {
    try {
      await (this.ops as GroupOps).deleteConsumerIfIdle()
    } catch (error) {
      this.emit('warning', {message: `could not remove consumer ${this.options.consumer}: ${errorMessage(error)}`})
    }
  }
}
