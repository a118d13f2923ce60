import {format} from 'node:util'

import {isFatal} from './fatal.js'
import {planStart} from './attempts.js'
import type {DeliveredEntry} from './group-ops.js'
import {InFlight} from './in-flight.js'
import {decodeMessage, keyOfPairs, mayBeBinary, type Message, type RawValue} from './message.js'
import {FifoQueue, KeyedQueue, type StartQueue} from './start-queue.js'
import {describeFailure, errorMessage, type Failure, type FailureOutcome} from './outcomes.js'
import type {ReadAhead} from './read-ahead.js'
import type {Lane, Session} from './session.js'
import {hasRecord, needsStartMark, nothingToAck, takenOverHere, type Tracked} from './tracked.js'
import type {HandlerContext} from './types.js'
import type {HandlerSpan} from '../trace/handler-tracing.js'

/** Entries held by ID only at the most (--ordered: a hot key's, start-queue.ts), each a few hundred bytes. */
const SPILL_LIMIT = 20_000
/** A failed read-back of spilled entries is tried again after this, if nothing finishes sooner. */
const REFILL_RETRY_MS = 500

/**
 * The handler's context, one per delivery. `signal` and `log` are made only when the handler
 * reads them: most never do, and an AbortController or a closure per message is costly.
 */
class DeliveryContext implements HandlerContext {
  readonly attempt: number
  readonly fencingToken: number | undefined

  constructor(
    private readonly tracked: Tracked,
    private readonly logLine: (tracked: Tracked, message: string) => void,
  ) {
    this.attempt = tracked.attempt
    this.fencingToken = tracked.lane.gate.token()
  }

  get signal(): AbortSignal {
    this.tracked.controller ??= new AbortController()
    return this.tracked.controller.signal
  }

  /** A function of its own (not a method), so `const {log} = ctx` works. */
  get log(): (...args: unknown[]) => void {
    return (...args) => this.logLine(this.tracked, format(...args))
  }
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as {then?: unknown}).then === 'function'

/**
 * Flow control and handling: holds entries (at most `concurrency` running plus the read-ahead),
 * starts handlers, and takes each entry to its outcome (acknowledged, parked, dead-lettered).
 *
 * Suspects (entries whose marked start never reported back: see attempts.ts) run alone: the worker
 * lets its running handlers finish, runs the suspect with nothing beside it, and starts nothing
 * else until it is done. If it kills the process, no neighbour is blamed.
 */
export class Dispatcher {
  /** Entries not started yet: in arrival order, or (--ordered) one per key at a time (start-queue.ts). */
  private readonly queue: StartQueue
  /** Suspects, which run alone (unordered; with --ordered they keep their key's place in the queue). */
  private readonly suspects: Tracked[] = []
  /** --ordered: entries that failed and wait out their backoff in place, holding their key. */
  private readonly retryTimers = new Map<Tracked, NodeJS.Timeout>()
  private readonly inFlight = new InFlight<Tracked>()
  private running = 0
  private soloRunning = false
  /** Handler calls finished (whatever the outcome): the read-ahead follows their rate. */
  finished = 0
  /** No more starts: the shutdown timeout ran out, or the worker failed. */
  private abandoned = false
  /** A tracer threw once already (tracingFailed): said once, not per message. */
  private tracingWarned = false
  /** A stale entry asked for a heartbeat that has not succeeded yet. */
  private heartbeatAsked = false
  /** A wave of entries taken back is about to start (see scheduleMarkedWave). */
  private waveScheduled = false
  /** Loops waiting for room, each with the room it waits for. */
  private readonly slotWaiters: Array<{min: number; wake: () => void}> = []
  private idleWaiters: Array<() => void> = []
  /** Second handlings being counted in Redis after an outcome (see countLater); the summary waits for them. */
  private readonly counting = new Set<Promise<void>>()

  constructor(
    private readonly session: Session,
    private readonly readAhead: ReadAhead,
    private readonly onMaxMessages: () => void,
    /** Asks for a heartbeat now: the next entry to start has not been renewed for a visibility timeout. */
    private readonly onStale: () => void = () => undefined,
  ) {
    const {ordered, prefetch, concurrency} = session.options
    // A key's share of the read-ahead: if every running slot's key filled its share, the read-ahead would still hold them all.
    this.perKey = Math.max(1, Math.floor(prefetch / concurrency))
    this.queue = ordered ? new KeyedQueue(this.perKey, SPILL_LIMIT) : new FifoQueue()
  }

  /** --ordered: entries of one key that wait in memory (start-queue.ts KeyedQueue); later ones are spilled. */
  private readonly perKey: number

  /** With --ordered: the keys with the most entries waiting behind an earlier one of theirs. */
  busiestKeys(limit: number): Array<{key: string; waiting: number; partition: number | null}> {
    return this.queue instanceof KeyedQueue ? this.queue.busiestKeys(limit) : []
  }

  /** Entries held: in memory (running, read ahead) and, with --ordered, spilled (by ID only). */
  get size(): number {
    return this.inFlight.size + this.queue.spilled
  }

  get runningCount(): number {
    return this.running
  }

  get queuedCount(): number {
    return this.queue.length + this.queue.spilled + this.suspects.length
  }

  get freeCapacity(): number {
    // Spilled entries take no room in memory, but there is only so much room to spill.
    return Math.min(this.session.options.concurrency + this.readAhead.size - this.inFlight.size - this.reserved, this.queue.spillRoom)
  }

  /** Room set aside by reads in flight (several read loops: one per partition on a cluster). */
  private reserved = 0

  /** Set room aside for a read about to be sent; give it back with `release` once its entries are added. */
  reserve(count: number): number {
    const taken = Math.max(0, Math.min(count, this.freeCapacity))
    this.reserved += taken
    return taken
  }

  release(taken: number): void {
    this.reserved -= taken
    if (taken > 0) this.wakeSlotWaiters()
  }

  /** IDs of the entries held from `lane` (IDs of different lanes are unrelated). */
  heldIds(lane: Lane): string[] {
    return this.heldEntries().filter((tracked) => tracked.lane === lane).map((tracked) => tracked.id)
  }

  /** Held entries of `lane` to renew: those whose fate is unknown (still this consumer's, as far as it knows), spilled ones too. */
  renewable(lane: Lane): string[] {
    return this.heldEntries().filter((tracked) => tracked.lane === lane && tracked.fate === undefined).map((tracked) => tracked.id)
  }

  /** The entries held from `lane` (in memory or spilled), by ID. */
  heldById(lane: Lane): Map<string, Tracked> {
    return new Map(this.heldEntries().filter((tracked) => tracked.lane === lane).map((tracked) => [tracked.id, tracked]))
  }

  /** Every entry held, in memory or spilled. */
  private heldEntries(): Tracked[] {
    const spilled = this.queue.spilledEntries()
    return spilled.length === 0 ? this.inFlight.values() : [...this.inFlight.values(), ...spilled]
  }

  /**
   * Wait until at least `min` entries fit (or nothing is queued and there is any room at all):
   * reading a few entries at a time would double the reads for the same work.
   */
  async waitForRoom(min = 1): Promise<void> {
    while (!this.session.stopSignal.aborted && !this.hasRoom(min)) {
      await new Promise<void>((resolve) => this.slotWaiters.push({min, wake: resolve}))
    }
  }

  /** Resolves when nothing is held, or after `ms`. */
  async whenIdle(ms: number): Promise<void> {
    if (this.size === 0) return
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve)
      timer = setTimeout(resolve, ms)
    })
    clearTimeout(timer)
  }

  /** Wake every waiter (the worker is stopping: the loops see it and end). */
  wakeAll(): void {
    for (const waiter of this.slotWaiters.splice(0)) waiter.wake()
    this.wakeIdle()
  }

  /**
   * Hold an entry and start it when its turn comes. The caller makes sure it is not held already.
   * `requestedAt` (performance.now()) is when the command that delivered it was sent: the entry was
   * this worker's from then, however late the reply was handled (a frozen process handles it on waking).
   */
  add(entry: DeliveredEntry, requestedAt: number, lane: Lane): void {
    // A partition given up or lost meanwhile (a read that returned late): left pending for its next holder.
    if (!lane.gate.accepting) return
    const plan = entry.takenBack === undefined ? {attempt: 1, suspect: false, exceeded: false} : planStart(entry.takenBack.record, this.session.options.maxAttempts)
    const tracked: Tracked = {
      id: entry.id,
      slot: -1,
      entry,
      key: this.session.options.ordered ? keyOfPairs(entry.pairs) : undefined,
      lane,
      attempt: plan.attempt,
      record: entry.takenBack?.record,
      suspect: plan.suspect && !plan.exceeded && !entry.orphan,
      exceeded: plan.exceeded,
      started: false,
      fate: undefined,
      renewedAt: requestedAt,
      controller: undefined,
    }
    tracked.slot = this.inFlight.add(tracked)
    if (tracked.suspect && !this.session.options.ordered) this.suspects.push(tracked)
    else if (this.queue.push(tracked) === 'spilled') {
      // Kept by ID only: its fields are read again when its key gets there (refill).
      this.inFlight.remove(tracked.slot, tracked)
      tracked.entry = {...entry, pairs: []}
    }
    this.pump()
  }

  /** Forget queued (not started) entries of `lane`: taken over by another consumer, or deleted. Returns those removed. */
  dropQueued(ids: ReadonlySet<string>, lane: Lane): Tracked[] {
    const matches = (tracked: Tracked): boolean => tracked.lane === lane && ids.has(tracked.id)
    const dropped: Tracked[] = this.queue.remove(matches)
    for (let i = this.suspects.length - 1; i >= 0; i--) {
      const tracked = this.suspects[i] as Tracked
      if (!matches(tracked)) continue
      this.suspects.splice(i, 1)
      dropped.push(tracked)
    }
    for (const tracked of dropped) this.inFlight.remove(tracked.slot, tracked)
    if (dropped.length > 0) this.afterRelease()
    return dropped
  }

  /**
   * Forget what is held of these lanes and has not started (queued, or waiting out an ordered retry):
   * their partition was given up or lost (leases), and they stay pending for the next holder. With
   * `abort`, the running handlers of those lanes have their signal aborted too.
   */
  dropLanes(lanes: readonly Lane[], abort?: Error): Tracked[] {
    const of = new Set(lanes)
    for (const [tracked, timer] of this.retryTimers) {
      if (!of.has(tracked.lane)) continue
      clearTimeout(timer)
      this.retryTimers.delete(tracked)
      this.queue.again(tracked)
    }
    const dropped = this.queue.remove((tracked) => of.has(tracked.lane))
    for (const tracked of dropped) this.inFlight.remove(tracked.slot, tracked)
    if (abort !== undefined) for (const tracked of this.inFlight.values()) if (of.has(tracked.lane) && tracked.started) tracked.controller?.abort(abort)
    if (dropped.length > 0) this.afterRelease()
    return dropped
  }

  /** Handlers running on entries of these lanes. */
  runningOn(lanes: readonly Lane[]): number {
    const of = new Set(lanes)
    return this.inFlight.values().filter((tracked) => tracked.started && of.has(tracked.lane)).length
  }

  /** Stop starting handlers; returns the entries that never started (released to other workers by the caller). */
  abandon(): {notStarted: Tracked[]; running: Tracked[]} {
    this.abandoned = true
    // Entries waiting out an ordered retry in place never run again here: released with the others.
    for (const [tracked, timer] of this.retryTimers) {
      clearTimeout(timer)
      this.queue.again(tracked)
    }
    this.retryTimers.clear()
    const notStarted = [...this.queue.clear(), ...this.suspects.splice(0)]
    for (const tracked of notStarted) this.inFlight.remove(tracked.slot, tracked)
    const running = this.inFlight.values()
    for (const tracked of running) tracked.controller?.abort(new Error('worker shutting down'))
    this.wakeAll()
    return {notStarted, running}
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
      if (!this.hasRoom(waiter.min)) continue
      this.slotWaiters.splice(i, 1)
      waiter.wake()
    }
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const wake of waiters) wake()
  }

  private afterRelease(): void {
    this.pump()
    // Before the read loops wake: a hot key's spilled entries get the room first, as older entries.
    this.refill()
    this.wakeSlotWaiters()
    if (this.size === 0) this.wakeIdle()
  }

  /** --ordered: read back the spilled entries of keys with few waiting in memory again, within the room there is. */
  private refill(): void {
    const {queue} = this
    if (!(queue instanceof KeyedQueue) || this.abandoned) return
    for (const key of queue.refillWanted()) {
      // Without room the key stays wanted: the next entry to finish tries again.
      const room = Math.min(this.freeCapacity, this.perKey)
      if (room <= 0) return
      const batch = queue.refillBatch(key, room)
      if (batch.length > 0) void this.readBack(queue, batch, this.reserve(batch.length))
    }
  }

  /** Read the fields of spilled entries (one round trip per lane) and hold them again, in order; one deleted meanwhile is lost. */
  private async readBack(queue: KeyedQueue, batch: readonly Tracked[], reserved: number): Promise<void> {
    const lanes = [...new Set(batch.map((tracked) => tracked.lane))]
    let fields: Map<Tracked, string[] | undefined>
    try {
      const read = await Promise.all(lanes.map(async (lane) => {
        const ofLane = batch.filter((tracked) => tracked.lane === lane)
        const pairs = await lane.ops.entriesById(ofLane.map((tracked) => tracked.id))
        return ofLane.map((tracked, index) => [tracked, pairs[index]] as const)
      }))
      fields = new Map(read.flat())
    } catch (error) {
      this.release(reserved)
      queue.refillFailed(batch)
      if (isFatal(error)) this.session.fail(error)
      else this.session.warn(`could not read back ${batch.length} entries held by ID only (a busy key's), retrying: ${errorMessage(error)}`)
      setTimeout(() => this.afterRelease(), REFILL_RETRY_MS).unref()
      return
    }
    this.release(reserved)
    const lost: Tracked[] = []
    for (const tracked of batch) {
      const pairs = fields.get(tracked)
      if (pairs === undefined) {
        if (queue.restore(tracked, false)) lost.push(tracked)
        continue
      }
      tracked.entry = {...tracked.entry, pairs}
      if (queue.restore(tracked)) tracked.slot = this.inFlight.add(tracked)
    }
    for (const lane of new Set(lost.map((tracked) => tracked.lane))) {
      const ids = lost.filter((tracked) => tracked.lane === lane).map((tracked) => tracked.id)
      await lane.ops.forgetDeleted(ids).catch((error: unknown) => this.session.warn(`could not forget ${ids.length} entries deleted from the stream: ${errorMessage(error)}`))
      this.session.reportLost(ids)
    }
    this.afterRelease()
  }

  /**
   * Messages handled: processed, or dead-lettered (a failed attempt that is retried is not), which
   * --max-messages counts.
   */
  private get handled(): number {
    return this.session.tally.processed + this.session.tally.deadLettered
  }

  /**
   * Whether anything held can still start: not after `abandon`, nor while the running handlers
   * could bring the handled count to --max-messages (each may end handled), so it never handles more.
   */
  get mayStart(): boolean {
    return this.mayStartBeside(0)
  }

  /** mayStart, with `chosen` more about to start (a wave being put together). */
  private mayStartBeside(chosen: number): boolean {
    const {maxMessages} = this.session.options
    return !this.abandoned && (maxMessages === undefined || this.handled + this.running + chosen < maxMessages)
  }

  /** Start what may start, after a heartbeat that renewed what had gone stale. */
  resume(): void {
    this.heartbeatAsked = false
    this.pump()
  }

  /**
   * Start what may start: a suspect alone once nothing runs, else queued entries up to --concurrency.
   * An entry not renewed for a visibility timeout (the process was frozen, or Redis did not answer
   * the heartbeat) waits for a heartbeat to say whether it is still this consumer's: another worker
   * may have taken it over and be handling it, and starting it here would be a second handling.
   */
  private pump(): void {
    if (this.soloRunning) return
    // --ordered: a suspect keeps its key's place; when it is next, it runs alone.
    const head = this.queue.peek()
    if (head?.suspect === true) {
      if (this.running > 0 || !this.mayStart || this.stale(head)) return
      this.soloRunning = true
      this.start(this.queue.shift() as Tracked)
      return
    }
    if (this.suspects.length > 0) {
      if (this.running > 0 || !this.mayStart || this.stale(this.suspects[0] as Tracked)) return
      this.soloRunning = true
      this.start(this.suspects.shift() as Tracked)
      return
    }
    const {concurrency} = this.session.options
    while (this.running < concurrency && this.mayStart) {
      const next = this.queue.peek()
      if (next === undefined || next.suspect) return
      if (!next.lane.gate.mayStart()) {
        this.unstartable(next)
        continue
      }
      if (this.stale(next)) return
      if (needsStartMark(next)) {
        this.scheduleMarkedWave()
        return
      }
      this.start(this.queue.shift() as Tracked)
    }
  }

  /**
   * Entries taken back start in waves, one command of start marks for each (an HSET), written before any of
   * their handlers is called (see GroupOps.markStarts). The wave waits one microtask: handlers that
   * finish together (a batch of fast handlers resolves in one go) each free a slot first, so the wave
   * fills them all with one write instead of one write per entry.
   */
  private scheduleMarkedWave(): void {
    if (this.waveScheduled) return
    this.waveScheduled = true
    queueMicrotask(() => {
      this.waveScheduled = false
      this.startMarkedWave()
    })
  }

  /** An entry whose partition's lease lapsed before it started: left pending for the next holder, never started here. */
  private unstartable(tracked: Tracked): void {
    tracked.lane.gate.lapsed()
    this.queue.shift()
    this.inFlight.remove(tracked.slot, tracked)
    this.queue.done(tracked)
    if (this.size === 0) this.wakeIdle()
    this.wakeSlotWaiters()
  }

  private startMarkedWave(): void {
    if (this.soloRunning || this.suspects.length > 0) {
      this.pump()
      return
    }
    const {concurrency} = this.session.options
    const wave: Tracked[] = []
    while (this.running + wave.length < concurrency && this.mayStartBeside(wave.length)) {
      const next = this.queue.peek()
      if (next === undefined || next.suspect || !needsStartMark(next) || !next.lane.gate.mayStart() || this.stale(next)) break
      wave.push(this.queue.shift() as Tracked)
    }
    if (wave.length > 0) {
      // One HSET per lane in the wave (each lane has its own retry hash); nearly always one.
      for (const lane of new Set(wave.map((tracked) => tracked.lane))) {
        const marks = wave.filter((tracked) => tracked.lane === lane).map((tracked) => ({id: tracked.id, record: tracked.record}))
        lane.ops.markStarts(marks).catch((error: unknown) => this.marksFailed(marks.length, error))
      }
      for (const tracked of wave) this.start(tracked)
    }
    this.pump()
  }

  private stale(tracked: Tracked): boolean {
    if (tracked.entry.orphan || performance.now() - tracked.renewedAt < this.session.options.visibilityTimeoutMs) return false
    // Once per heartbeat: one that fails (Redis down) is retried at the heartbeat's own pace.
    if (!this.heartbeatAsked) this.onStale()
    this.heartbeatAsked = true
    return true
  }

  private start(tracked: Tracked): void {
    this.running++
    tracked.started = true
    void this.handle(tracked)
  }

  /**
   * One entry to its outcome (acked, parked for retry, or dead-lettered); never rejects. One
   * async function per message (not two): at 200k messages a second every promise counts.
   */
  private async handle(tracked: Tracked): Promise<void> {
    const {session} = this
    // An ordered retry in place keeps the entry (and its key) held while it waits.
    let keep = false
    try {
      if (tracked.exceeded) {
        const {maxAttempts} = session.options
        await this.settle(tracked, tracked.lane.outcomes.deadLetter(tracked, {
          name: 'MaxAttemptsExceeded',
          message: `started ${tracked.attempt - 1} times without completing, at least once alone in its worker (limit ${maxAttempts}): its handler likely ends or hangs the process`,
        }))
        return
      }
      if (tracked.key !== undefined && tracked.lane.ops.lane === 'topic' && tracked.lane.held.has(tracked.key)) {
        await this.settle(tracked, tracked.lane.outcomes.deadLetter(tracked, {
          name: 'KeyHeld',
          message: `an earlier message of key "${tracked.key}" was dead-lettered, and --on-dead-letter hold-key keeps the key's later messages in order in the dead-letter stream until a replayed one succeeds`,
        }))
        return
      }
      let pairs: readonly RawValue[] = tracked.entry.pairs
      if (mayBeBinary(tracked.entry.pairs)) {
        const exact = await this.exactPairs(tracked)
        if (exact === undefined) return
        pairs = exact
      }
      // Entries taken back were marked as their wave started (startMarkedWave), except a suspect:
      // it may end the process, so what was handled before it is acknowledged first (or those
      // entries would come back as suspects themselves, their acks still in the 2 ms batch), and its
      // mark is checked against its owner (mark-start-2.lua) before the handler is called.
      if (tracked.suspect && tracked.entry.takenBack !== undefined && !nothingToAck(tracked)) {
        await Promise.all(session.lanes.map(async (lane) => lane.acks.flush()))
        if (!(await tracked.lane.ops.markSoloStart(tracked.id).catch((error: unknown) => this.markFailed(tracked, error)))) return
      }
      const message = decodeMessage(session.options.topic, tracked.id, pairs, tracked.attempt, tracked.lane.partition ?? undefined)
      const span = session.options.tracing === undefined ? undefined : this.beginSpan(message, tracked)
      // Metrics on: the handler call timed (a clock read each side, an increment); off: nothing.
      const durations = session.handlerDurations
      const calledAt = durations === undefined ? 0 : performance.now()
      try {
        const context = new DeliveryContext(tracked, this.logLine)
        const result = span === undefined ? session.options.handler(message, context) : span.run(() => session.options.handler(message, context))
        const {handlerTimeoutMs} = session.options
        if (handlerTimeoutMs !== undefined) await this.withinHandlerTimeout(result, tracked, handlerTimeoutMs)
        else if (isThenable(result)) await result
        durations?.observe((performance.now() - calledAt) / 1000)
        if (span !== undefined) this.endSpan(span, false, undefined)
      } catch (error) {
        durations?.observe((performance.now() - calledAt) / 1000)
        if (span !== undefined) this.endSpan(span, true, error)
        if (nothingToAck(tracked)) {
          // Pending nowhere (its consumer was deleted, or it was deleted): nothing can retry or dead-letter it.
          await this.forget(tracked)
          session.warn(`${tracked.id} failed (${errorMessage(error)}) after it stopped being pending in the group: it cannot be retried, and is reported lost`)
          session.reportLost([tracked.id])
          return
        }
        const plan = tracked.lane.outcomes.planFailure(tracked, error)
        if (plan.kind === 'dead-letter') {
          await this.settle(tracked, tracked.lane.outcomes.deadLetter(tracked, plan.failure))
          return
        }
        if (session.options.ordered) {
          keep = await this.retryInPlace(tracked, plan)
          return
        }
        // Parked in a batch: the slot is free at once (see ParkBatcher).
        tracked.lane.parks.add({id: tracked.id, delayMs: plan.delayMs, attempt: tracked.attempt}, (result) => {
          if ('failed' in result) this.record(tracked, undefined, result.failed)
          else if (result.parked === 'deleted') this.record(tracked, {kind: 'lost'}, undefined)
          else this.record(tracked, result.parked === undefined ? {kind: 'not-parked', error: plan.error} : {kind: 'retry', delayMs: plan.delayMs, error: plan.error}, undefined)
        })
        return
      }
      session.tally.processed++
      if (!nothingToAck(tracked)) tracked.lane.acks.add(tracked.id, hasRecord(tracked), tracked.renewedAt, takenOverHere(tracked))
      else if (hasRecord(tracked)) await this.forget(tracked)
      if (tracked.key !== undefined && tracked.lane.ops.lane === 'replay' && tracked.lane.held.delete(tracked.key)) this.releaseKey(tracked)
    } finally {
      this.running--
      this.finished++
      if (tracked.suspect) this.soloRunning = false
      if (!keep) {
        this.inFlight.remove(tracked.slot, tracked)
        this.queue.done(tracked)
      }
      this.afterRelease()
      const {maxMessages} = session.options
      if (maxMessages !== undefined && this.handled >= maxMessages && this.running === 0) this.onMaxMessages()
    }
  }

  /**
   * --ordered: a failed entry waits out its backoff here, still held and still this consumer's
   * (renewed by the heartbeat), so its key's later entries wait behind it; then it runs again. The
   * failure is recorded first (the record a new owner would read: attempts survive a crash), and
   * its next start is marked like any entry taken back. Returns true: the entry stays held; false
   * when the record was fenced (a leased partition whose lease is no longer this worker's: the entry
   * is the next holder's, and is neither retried nor counted here).
   */
  private async retryInPlace(tracked: Tracked, plan: {delayMs: number; error: Failure}): Promise<boolean> {
    const {session} = this
    const previous = tracked.record
    const starts = Math.max(previous?.starts ?? 0, tracked.attempt)
    const record = {firstFailureMs: previous?.firstFailureMs || session.now(), starts, settled: starts, solo: previous?.solo ?? 0}
    try {
      if (!(await tracked.lane.outcomes.recordAttempt(tracked.id, record))) return false
    } catch (error) {
      if (isFatal(error)) session.fail(error)
      else session.warn(`could not record the failure of ${tracked.id} (its attempts may be counted short after a crash): ${errorMessage(error)}`)
    }
    session.tally.retried++
    session.events.emit('retry', {id: tracked.id, partition: tracked.lane.partition, attempt: tracked.attempt, delayMs: plan.delayMs, error: plan.error})
    tracked.record = record
    tracked.entry = {...tracked.entry, takenBack: {record}}
    tracked.attempt = starts + 1
    tracked.started = false
    const timer = setTimeout(() => {
      this.retryTimers.delete(tracked)
      this.queue.again(tracked)
      this.pump()
    }, plan.delayMs)
    this.retryTimers.set(tracked, timer)
    return true
  }

  /** --on-dead-letter hold-key: the key's later messages follow it into the dead-letter stream. */
  private hold(tracked: Tracked, dlqId: string): void {
    const key = tracked.key as string
    tracked.lane.held.add(key)
    tracked.lane.ops.holdKey(key, dlqId).catch((error: unknown) => this.session.warn(`could not record the held key "${key}" in Redis (held by this worker only): ${errorMessage(error)}`))
  }

  /** A held key released by a replayed message of it that succeeded (hold-key). */
  private releaseKey(tracked: Tracked): void {
    const key = tracked.key as string
    tracked.lane.ops.releaseKey(key).catch((error: unknown) => this.session.warn(`could not release the held key "${key}" in Redis: ${errorMessage(error)}`))
  }

  /** A failed mark: true to run the handler anyway (the start goes uncounted). */
  private markFailed(tracked: Tracked, error: unknown): boolean {
    if (isFatal(error)) this.session.fail(error)
    else this.session.warn(`could not record the start of ${tracked.id} (this attempt goes uncounted): ${errorMessage(error)}`)
    return true
  }

  /** A wave's marks failed: its handlers ran anyway, those starts go uncounted. */
  private marksFailed(count: number, error: unknown): void {
    if (isFatal(error)) this.session.fail(error)
    else this.session.warn(`could not record the start of ${count} entries taken back (these attempts go uncounted): ${errorMessage(error)}`)
  }

  /** Remove the retry state of an entry that is pending nowhere (nothing will acknowledge it). */
  private async forget(tracked: Tracked): Promise<void> {
    await tracked.lane.ops.forgetDeleted([tracked.id]).catch((error: unknown) => this.session.warn(`could not remove the retry record of ${tracked.id}: ${errorMessage(error)}`))
  }

  /** Await a failure's outcome and record it. */
  private async settle(tracked: Tracked, outcome: Promise<FailureOutcome>): Promise<void> {
    try {
      this.record(tracked, await outcome, undefined)
    } catch (error) {
      this.record(tracked, undefined, error)
    }
  }

  /** Record a failure's outcome in the tally and the events; a Redis error leaves the entry pending. */
  private record(tracked: Tracked, result: FailureOutcome | undefined, error: unknown): void {
    const {session} = this
    if (result === undefined) {
      // A refusal would recur on every failure: stop instead.
      if (isFatal(error)) session.fail(error)
      else session.warn(`could not record the failure of ${tracked.id} (it will be delivered again): ${errorMessage(error)}`)
      return
    }
    // An entry this worker took over from another consumer, which may have handled it too (frozen or
    // cut off, its acknowledgement late): its outcome here settles which of the two came first
    // (GroupOps.settleTaken, ack-taken-3.lua), so the second handling is counted once. Not for one
    // dead-lettered without a handler call (its starts were used up): nothing was handled here.
    const tookOver = takenOverHere(tracked) && !tracked.exceeded
    const {ops} = tracked.lane
    switch (result.kind) {
      case 'retry':
        session.tally.retried++
        session.events.emit('retry', {id: tracked.id, partition: tracked.lane.partition, attempt: tracked.attempt, delayMs: result.delayMs, error: result.error})
        if (tookOver) this.countLater(ops.settleTaken([tracked.id], 'held'))
        break
      case 'not-parked':
        session.warn(`${tracked.id} failed (${describeFailure(result.error)}) but was no longer this worker's to retry: another worker took it over`)
        // Handled there too (or to be): a second handling this worker counts (see takenFromMe); or, for
        // one it took over, the consumer it was taken from finished it first (see settleTaken).
        this.countLater(ops.takenFromMe([tracked.id]))
        if (tookOver) this.countLater(ops.settleTaken([tracked.id], 'gone'))
        break
      case 'dead-lettered':
        session.tally.deadLettered++
        if (session.options.onDeadLetter === 'hold-key' && tracked.key !== undefined && !tracked.lane.held.has(tracked.key)) this.hold(tracked, result.dlqId)
        session.events.emit('deadLettered', {
          id: tracked.id,
          partition: tracked.lane.partition,
          originId: result.originId,
          dlqId: result.dlqId,
          attempts: tracked.attempt,
          error: result.error,
        })
        if (tookOver) this.countLater(ops.settleTaken([tracked.id], 'held'))
        break
      case 'lost':
        session.reportLost([tracked.id])
        break
      case 'fenced':
        // Not moved: the partition's lease is no longer this worker's (the fence warned). The entry stays
        // pending for the new holder, which handles it in order: not dead-lettered here, its key not held.
        break
      case 'duplicate':
        // Not pending any more. Taken over from another worker: counted here if that one finished it
        // first, else by that one (see settleTaken, finishedByTaker).
        if (tookOver) this.countLater(ops.settleTaken([tracked.id], 'gone'))
        else if (!takenOverHere(tracked)) session.tally.duplicates++
        break
    }
  }

  /** Add second handlings counted by a Redis call to the tally once it answers (a failed call counts none). */
  private countLater(count: Promise<number>): void {
    const counted: Promise<void> = count
      .then(
        (duplicates) => void (this.session.tally.duplicates += duplicates),
        () => undefined,
      )
      .finally(() => this.counting.delete(counted))
    this.counting.add(counted)
  }

  /** Wait for the second handlings still being counted (callers bound the wait). */
  async countsSettled(): Promise<void> {
    await Promise.all([...this.counting])
  }

  /** An entry's pairs as exact bytes, for a payload that text decoding may have altered; undefined if it was deleted (reported lost). */
  private async exactPairs(tracked: Tracked): Promise<Buffer[] | undefined> {
    const {session} = this
    try {
      const pairs = await tracked.lane.ops.entryBytes(tracked.id)
      if (pairs !== undefined) return pairs
      await tracked.lane.ops.forgetDeleted([tracked.id])
      session.reportLost([tracked.id])
    } catch (error) {
      session.warn(`could not read the bytes of ${tracked.id} (it will be delivered again): ${errorMessage(error)}`)
    }
    return undefined
  }

  /** The span of a handler call (tracing on): the lane's GroupOps has the group, consumer and stream it records. */
  private beginSpan(message: Message, tracked: Tracked): HandlerSpan | undefined {
    try {
      return this.session.options.tracing?.begin(message, tracked.lane.ops)
    } catch (error) {
      this.tracingFailed(error)
      return undefined
    }
  }

  private endSpan(span: HandlerSpan, failed: boolean, error: unknown): void {
    try {
      if (failed) span.failed(error)
      else span.succeeded()
    } catch (problem) {
      this.tracingFailed(problem)
    }
  }

  /** Tracing never fails a message: a tracer that throws is reported once, and messages are handled all the same. */
  private tracingFailed(error: unknown): void {
    if (this.tracingWarned) return
    this.tracingWarned = true
    this.session.warn(`tracing failed (${errorMessage(error)}); messages are handled all the same, some without spans`)
  }

  /** A handler's log line, through the worker's events (the reporter respects --json). */
  private readonly logLine = (tracked: Tracked, message: string): void => {
    this.session.events.emit('log', {id: tracked.id, partition: tracked.lane.partition, message})
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
}
