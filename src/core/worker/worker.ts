import {EventEmitter, setMaxListeners} from 'node:events'


import {refuseSplitSlots} from '../cluster-slots.js'
import {QctlError, usageError} from '../errors.js'
import {isCluster, type RedisClient} from '../redis/client.js'
import {refreshSlots} from '../redis/cluster-nodes.js'
import {isPermissionDenied} from '../redis/redis-errors.js'
import {firstLineOf, isUnblockedByCluster, refusalOf} from '../redis/reply-errors.js'
import {sleep} from '../sleep.js'
import {fencedLaneAcks, laneAcks} from './ack-batcher.js'
import {Alarm, Broadcast} from './alarm.js'
import {ParkBatcher} from './park-batcher.js'
import {ConnectionHealth, dropConnection, within} from './connections.js'
import {Dispatcher} from './dispatcher.js'
import {isFatal, isNoGroup} from './fatal.js'
import {GroupOps, PARKED_CONSUMER, type DeliveredEntry, type HeldEntryFate} from './group-ops.js'
import {livenessLoop} from './liveness.js'
import {moveDue, nextDue} from '../schedule/mover.js'
import {AckedTrimmer} from './trim-acked.js'
import {clearKeyReports, KEY_REPORT_MS, KEYS_PER_REPORT, writeKeyReports, type KeyReport} from './key-report.js'
import {resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions} from './options.js'
import {errorMessage, Outcomes} from './outcomes.js'
import {ReadAhead} from './read-ahead.js'
import {flushLanes, OPEN_GATE, reportLost, unsentOf, type Lane, type LaneGate, type ReadGroup, type Session, type Tally} from './session.js'
import {readShares} from './read-shares.js'
import {Leases, type LeaseHooks} from './leases.js'
import {GROWTH_POLL_MS, resolveTopic} from '../partitions/metadata.js'
import {deadLetterKey} from '../keys.js'
import {compareIdText} from '../dlq/stream-id.js'
import type {Histogram} from '../metrics/histogram.js'
import type {ConnectionFactory, StopReason, WorkerEvents, WorkerSummary, WorkerTelemetry} from './types.js'

export type {ConnectionFactory, Handler, HandlerContext, StopReason, WorkerEvents, WorkerSummary, WorkerTelemetry} from './types.js'

export type WorkerStats = Readonly<Tally> & {inFlight: number; readAhead: number; elapsedMs: number}
export {WORKER_CONNECTION_OPTIONS} from './connections.js'

const READ_WATCHDOG_MARGIN_MS = 5000
/**
 * Entries per XACK (sent sooner if 2 ms pass). Measured on 1M drains: 100, 300 and 500 ran at the same
 * rate, and 500 raised peak RSS by ~11 MB (the worker's target is under 120 MB).
 */
const ACK_BATCH = 100
/** How much handling the read-ahead covers (see ReadAhead). */
const READ_AHEAD_WINDOW_MS = 20
/** Entries taken back per call (due retries, a dead consumer's, the worker's own): large, as reads are. */
const TAKE_BATCH = 500
/** How often a worker looks for due scheduled messages at the least (a message may be scheduled at any time). */
const SCHEDULE_POLL_MS = 1000
/** ... and at the most: a message due now is looked for again after this (no busy loop on a member that cannot move). */
const MIN_SCHEDULE_WAIT_MS = 10
/** Shutdown's last Redis calls (acknowledgements, releasing entries, removing the consumer) get at least this, within --shutdown-timeout if it allows. */
const CLEANUP_MIN_MS = 1000

/**
 * A consumer-group worker: at-least-once delivery to a handler with bounded concurrency,
 * batched acknowledgements, retries parked in Redis by due time (Redis's clock), atomic
 * dead-lettering, takeover of entries left by dead consumers, attempts counted by handler starts
 * (attempts.ts), and a heartbeat that keeps a slow but live handler's entries from being taken over.
 *
 * Memory is bounded: at most `concurrency + prefetch` entries are held, however deep the backlog;
 * within that the read-ahead follows the handlers' rate (ReadAhead).
 */
export class Worker extends EventEmitter<WorkerEvents> {
  readonly options: ResolvedWorkerOptions
  private readonly readAhead: ReadAhead
  /** Aborted when the worker stops reading; `end` when everything (heartbeat, health) stops. */
  private readonly stopController = new AbortController()
  private readonly endController = new AbortController()
  private stopReason: StopReason = 'closed'
  private stoppedAt = 0
  private fatal: unknown
  private readonly startedAt = Date.now()
  private readonly tally: Tally = {processed: 0, retried: 0, deadLettered: 0, lost: 0, lostIds: [], duplicates: 0}
  private dispatcher: Dispatcher | undefined
  private session: Session | undefined
  private readonly dueAlarm = new Alarm()
  /** Cut short by the dispatcher when an entry waits on a heartbeat to start. */
  private readonly heartbeatAlarm = new Alarm()
  /** Woken when a partition starts or stops being read (--ordered leases). */
  private readonly partitionsChanged = new Broadcast()
  /** --ordered on a partitioned topic: the partition leases (leases.ts); undefined otherwise. */
  private leases: Leases | undefined
  /** --lease-timeout was given (not defaulted): said to have no effect on a plain topic. */
  private readonly leaseTimeoutGiven: boolean
  /** Redis's clock minus this host's (ms), measured at start: times written into Redis are Redis's. */
  private offsetMs = 0
  /** The partitions' streams the liveness beat touches (grows with the topic). */
  private readonly livenessStreams: string[] = []
  /** --trim-acked: trims the streams it reads behind their groups; undefined otherwise. */
  private trimmer: AckedTrimmer | undefined
  /** Acknowledgement batches, the last one's time, lost connections: for metrics (see WorkerTelemetry). */
  readonly telemetry: WorkerTelemetry = {ackBatches: 0, lastAckAtMs: undefined, reconnects: {reader: 0, commands: 0}}

  /**
   * `instruments.handlerDurations`: a histogram every handler call's duration (seconds) is observed
   * into; without it no clock is read around the handler.
   */
  constructor(
    options: WorkerOptions,
    private readonly connect: ConnectionFactory,
    readonly instruments: {handlerDurations?: Histogram | undefined} = {},
  ) {
    super()
    // Every loop (a read loop per partition on a cluster) waits on these: more than ten is expected.
    setMaxListeners(0, this.stopController.signal, this.endController.signal)
    this.options = resolveWorkerOptions(options)
    this.leaseTimeoutGiven = options.leaseTimeoutMs !== undefined
    const {prefetch, maxReadCount, concurrency} = this.options
    // Start small (a slow handler holds little from the first read); a fast one grows it within a few reads.
    this.readAhead = new ReadAhead(prefetch, maxReadCount, READ_AHEAD_WINDOW_MS, performance.now(), concurrency)
    this.on('retry', ({delayMs}) => this.dueAlarm.wakeIn(delayMs))
  }

  /** Entries held (running and read ahead). */
  get inFlightCount(): number {
    return this.dispatcher?.size ?? 0
  }

  /** The counts so far; `inFlight`: handlers running now; `readAhead`: entries held, read ahead, not started yet. */
  get stats(): WorkerStats {
    return {...this.tally, inFlight: this.dispatcher?.runningCount ?? 0, readAhead: this.dispatcher?.queuedCount ?? 0, elapsedMs: Date.now() - this.startedAt}
  }

  /**
   * Begin a graceful stop: no more reads; what was read ahead and what runs finishes (up to the
   * shutdown timeout). Idempotent.
   */
  close(reason: StopReason = 'closed'): void {
    if (this.stopController.signal.aborted) return
    this.stopReason = reason
    this.stoppedAt = Date.now()
    this.stopController.abort()
    this.dispatcher?.wakeAll()
    if (reason === 'signal' && this.dispatcher !== undefined) {
      this.emit('stopping', {running: this.dispatcher.runningCount, queued: this.dispatcher.queuedCount, timeoutMs: this.options.shutdownTimeoutMs})
    }
  }

  /** Run until closed, `untilEmpty` finds nothing left, or `maxMessages` are handled. */
  async run(): Promise<WorkerSummary> {
    const session = await this.open()
    const dispatcher = new Dispatcher(session, this.readAhead, () => this.close('max-messages'), () => this.heartbeatAlarm.wakeIn(0))
    this.session = session
    this.dispatcher = dispatcher
    const {topic, group, consumer} = this.options

    // The liveness beat stops with the reads (stopSignal): after that the consumer may be removed, and a beat would bring it back.
    this.livenessStreams.push(...session.lanes.filter((lane) => lane.ops.lane === 'topic').map((lane) => lane.ops.stream))
    const liveness = livenessLoop(session.commands, {streams: this.livenessStreams, group, consumer}, session.stopSignal, (message) => session.warn(message))
    const {leases} = this
    const guard = async (loop: Promise<void>): Promise<void> => loop.catch((error: unknown) => this.fail(error))
    const background = [this.heartbeatLoop(session, dispatcher), session.health.run(this.endController.signal), liveness]
    // Leases are renewed until the very end (through the shutdown's wait for running handlers).
    if (leases !== undefined) background.push(leases.run(this.endController.signal))
    // Scheduled messages (publish --delay / --at) of the topic's streams, appended when due.
    background.push(this.scheduleLoop(session))
    // --ordered: the busiest keys, for top's detail view.
    if (this.options.ordered) background.push(this.keyReportLoop(session, dispatcher))
    // --trim-acked: the streams it reads, trimmed behind their groups as it goes.
    if (this.options.trimAcked) {
      this.trimmer = new AckedTrimmer(session)
      background.push(this.trimmer.run(() => this.stopping))
    }
    // Partitions added while it runs (qctl topic alter): on a cluster each gets a read loop of its own.
    if (session.partitioned) background.push(this.growthLoop(session, (readGroup) => void guard(this.readLoop(session, dispatcher, readGroup))))
    // Started only when called: the read loops must not begin before the worker's own entries are back.
    const reads = (): Array<Promise<void>> => session.readGroups.map(async (readGroup) => this.readLoop(session, dispatcher, readGroup))
    const loops = (async () => {
      if (leases !== undefined) {
        // Leased partitions: their holder takes every pending entry when it takes the lease, in ID
        // order; nothing is taken over by idle time, and retries wait in place (no parked retries).
        await Promise.all(reads().map(guard))
        return
      }
      // The worker's own entries first (a restart with a stable --consumer); its first read also settles,
      // in one place, whether the ACL user may read the group at all.
      await guard(this.recoverOwnPending(session, dispatcher))
      await Promise.all([...reads(), this.reclaimLoop(session, dispatcher), this.dueLoop(session, dispatcher)].map(guard))
    })()
    // Shutdown starts when the stop does: a loop waiting on a Redis that does not answer (up to the command
    // timeout) must not hold it; what such a loop brings back later is left pending for other workers.
    await Promise.race([loops, new Promise<void>((resolve) => this.stopController.signal.addEventListener('abort', () => resolve(), {once: true}))])
    const ended = await this.shutdown(session, dispatcher)
    // Not awaited: a heartbeat waiting on a Redis that does not answer must not hold the exit either.
    for (const loop of background) void guard(loop)
    if (this.fatal !== undefined) throw this.fatal

    const durationMs = Date.now() - this.startedAt
    const handled = this.tally.processed + this.tally.deadLettered
    return {
      topic,
      group,
      consumer,
      ...this.tally,
      ...ended,
      durationMs,
      rate: durationMs > 0 ? Math.round((handled * 1000) / durationMs) : 0,
      stopReason: this.stopReason,
      ...(this.trimmer === undefined ? {} : {trimmed: this.trimmer.removed}),
    }
  }

  /** Connect, make sure the group exists, and build the run's session. A stop before the first read ends here (exit 130). */
  private async open(): Promise<Session> {
    const {topic, group, consumer} = this.options
    // A stop during start-up ends it at once (a connection attempt to a silent Redis does not hold it).
    const interrupted = (): QctlError => new QctlError('INTERRUPTED', 'stopped during start-up, before reading anything')
    // A step that ends on the stop itself (waiting for Redis) gets a moment to say so in its own words.
    const stopped = new Promise<never>((_resolve, reject) => {
      const signal = this.stopController.signal
      if (signal.aborted) reject(interrupted())
      else signal.addEventListener('abort', () => setTimeout(() => reject(interrupted()), 100), {once: true})
    })
    stopped.catch(() => undefined)
    const startUp = async <T>(step: Promise<T>): Promise<T> => {
      const value = await Promise.race([step, stopped])
      if (this.stopController.signal.aborted) throw interrupted()
      return value
    }
    const commands = this.watchConnection(await startUp(this.connect('commands')), 'commands')
    // A partitioned topic is read partition by partition; a plain one is its own only partition.
    const layout = await startUp(resolveTopic(commands, topic))
    const partitioned = layout.metadata !== undefined
    if (partitioned && this.options.deadLetterTopic !== undefined) {
      throw usageError(`--dlq cannot be used with the partitioned topic "${topic}": each partition dead-letters into its own stream ({TOPIC:pN:…}:dlq), in its own slot`)
    }
    // On a cluster, before anything is written: every atomic step must find its keys in one slot.
    if (isCluster(commands) && !partitioned) refuseSplitSlots(topic, this.options.deadLetterTopic ?? deadLetterKey(topic))
    const opened = await startUp(this.openPartitions(commands, layout.streams, 0, this.options.from, partitioned, undefined))
    const [first] = opened.partitions
    if (first === undefined) throw new Error(`topic ${topic} has no streams`)
    this.offsetMs = await startUp(this.clockOffset(first.ops))
    const lanes = opened.partitions.flatMap((partition) => partition.lanes)
    const readGroups = readsPerPartition(commands, partitioned) ? opened.partitions.map((partition) => readGroupOf(partition.reader, partition.lanes)) : [readGroupOf(first.reader, lanes)]
    const warn = (message: string): void => void this.emit('warning', {message})
    const session: Session = {
      options: this.options,
      commands,
      lanes,
      readGroups,
      partitions: layout.streams.length,
      partitioned,
      health: new ConnectionHealth(commands, warn, undefined, first.ops.stream),
      tally: this.tally,
      handlerDurations: this.instruments.handlerDurations,
      events: this,
      stopSignal: this.stopController.signal,
      now: () => Date.now() + this.offsetMs,
      warn,
      reportLost: (ids) => reportLost(this.tally, this, ids),
      fail: (error) => this.fail(error),
    }
    if (this.options.ordered && partitioned) {
      this.leases = new Leases(commands, topic, layout.streams, group, consumer, this.options.leaseTimeoutMs, this.leaseHooks(session), warn)
    }
    this.emit('started', {
      topic,
      group,
      consumer,
      groupCreated: opened.groupCreated,
      partitions: layout.streams.length,
      deadLetterKey: partitioned ? null : first.ops.dlqKey,
      replayKey: partitioned ? null : first.replayStream,
    })
    this.warnReplaysRefused(opened, partitioned ? layout.streams.length : undefined)
    if (!partitioned && this.leaseTimeoutGiven) {
      warn(`--lease-timeout has no effect on the plain topic "${topic}": only a partitioned topic's partitions are leased (its order across workers needs one: qctl topic create NAME --partitions N)`)
    }
    return session
  }

  /**
   * The lanes of the topic's partitions `first`, `first + 1`, … (`streams`: their streams): every
   * partition at start, and later those `qctl topic alter` added (partitions.ts growth). Each
   * partition's group is made (`from`) with its replay stream's, its held keys are read (`--ordered`),
   * and on a cluster it gets a reader of its own; else they share `reader` (a new one if undefined).
   */
  private async openPartitions(
    commands: RedisClient,
    streams: readonly string[],
    first: number,
    from: 'start' | 'latest',
    partitioned: boolean,
    reader: RedisClient | undefined,
  ): Promise<OpenedPartitions> {
    const {group, consumer, deadLetterTopic, ordered} = this.options
    const warn = (message: string): void => void this.emit('warning', {message})
    const ops = streams.map((stream) => {
      const topicOps = new GroupOps(commands, stream, group, consumer, deadLetterTopic)
      // The group's replay stream (qctl dlq replay re-delivers what this group failed there, and only there).
      const replayOps = new GroupOps(commands, stream, group, consumer, deadLetterTopic, 'replay')
      replayOps.onWarning = warn
      return {topicOps, replayOps}
    })
    // The partitions' groups are made together: one round trip, not one per partition.
    const created = await Promise.all(ops.map(async ({topicOps}) => topicOps.ensureGroup(from)))
    // Creating the replay stream is a write: a Redis out of memory refuses it, and the worker still
    // drains the topic's backlog (acknowledging frees nothing, but needs no memory either).
    const replaysRefused = await Promise.all(
      ops.map(async ({replayOps}) =>
        replayOps.ensureGroup('start').then(
          () => undefined,
          (error: unknown) => {
            if (refusalOf(error) === 'OOM') return 'out of memory' as const
            // A worker user from an ACL file older than replay streams: it still works its topic.
            if (isPermissionDenied(error)) return 'refused by the ACL' as const
            throw error
          },
        ),
      ),
    )
    // One reader for all partitions on one server (one XREADGROUP reads them all); on a cluster, one
    // per partition (a read cannot span slots, and a blocking read holds its connection).
    const newReader = async (): Promise<RedisClient> => this.watchConnection(await this.connect('reader'), 'reader')
    const shared = readsPerPartition(commands, partitioned) ? undefined : (reader ?? (await newReader()))
    const readers = await Promise.all(ops.map(async () => shared ?? newReader()))
    // --ordered: the keys held per stream (--on-dead-letter hold-key), as Redis keeps them.
    const held = await Promise.all(ops.map(async ({topicOps}) => new Set(ordered ? (await topicOps.heldKeys()).keys() : [])))
    // --ordered on a partitioned topic: a partition is read only while this worker holds its lease.
    const leased = ordered && partitioned
    const partitions = ops.map(({topicOps, replayOps}, index) => {
      const partition = partitioned ? first + index : null
      const laneReader = readers[index] as RedisClient
      const gate = leased ? this.leaseGate(first + index) : OPEN_GATE
      const heldKeys = held[index] as Set<string>
      const laneOf = (laneOps: GroupOps): Lane => this.laneOf(laneOps, partition, laneReader, heldKeys, gate, leased)
      const lanes = replaysRefused[index] === undefined ? [laneOf(topicOps), laneOf(replayOps)] : [laneOf(topicOps)]
      return {ops: topicOps, replayStream: replayOps.stream, lanes, reader: laneReader}
    })
    return {partitions, groupCreated: created.some(Boolean), replaysRefused}
  }

  /** One lane: a stream the worker reads for its group, with its batchers and its gate (session.ts Lane). */
  private laneOf(laneOps: GroupOps, partition: number | null, reader: RedisClient, held: Set<string>, gate: LaneGate, leased: boolean): Lane {
    return {
      ops: laneOps,
      acks:
        leased && partition !== null
          ? fencedLaneAcks(laneOps, () => this.leases?.value(partition), (result) => this.onAckResult(result), (count) => this.fenced(partition, count), ACK_BATCH)
          : laneAcks(laneOps, (result) => this.onAckResult(result), this.options.visibilityTimeoutMs, ACK_BATCH),
      parks: new ParkBatcher(async (requests) => laneOps.park(requests), ACK_BATCH),
      outcomes: new Outcomes(
        laneOps,
        this.options,
        () => Date.now() + this.offsetMs,
        leased && partition !== null ? {lease: () => this.leases?.value(partition), onFenced: (refused) => this.fencedOutcome(partition, refused)} : undefined,
      ),
      partition,
      reader,
      held,
      gate,
    }
  }

  /** Say which replay streams could not be made (out of memory, or refused by an older ACL): the worker reads the topic only there. */
  private warnReplaysRefused(opened: OpenedPartitions, partitions: number | undefined): void {
    const refusedAt = opened.replaysRefused.filter((reason) => reason !== undefined)
    const [refused] = refusedAt
    if (refused === undefined) return
    const fix = refused === 'out of memory' ? 'entries replayed later wait there for the next worker start' : 'grant the worker role the replay keys (README, Least-privilege ACL roles), or replay with --to-topic'
    const which = partitions === undefined ? `replay stream ${opened.partitions[0]?.replayStream ?? ''}` : `replay streams of ${refusedAt.length} of the ${partitions} partitions`
    this.emit('warning', {message: `the group's ${which} could not be read (${refused}), so this worker reads the topic only there: ${fix}`})
  }

  /**
   * Partitions added by `qctl topic alter` while the worker runs: it looks every GROWTH_POLL_MS (one
   * HGETALL of the topic's metadata) and reads the new ones from their start, so nothing published
   * to them before it noticed is skipped. `startLoop` starts a new read group's loop (a cluster).
   */
  private async growthLoop(session: Session, startLoop: (readGroup: ReadGroup) => void): Promise<void> {
    const {topic} = this.options
    let warned = false
    let recreated = false
    while (!this.stopping) {
      await sleep(GROWTH_POLL_MS, session.stopSignal)
      if (this.stopping) break
      try {
        const layout = await resolveTopic(session.commands, topic)
        // Fewer streams (the topic deleted, or made again smaller) is not growth: the group's own checks say what became of it.
        if (layout.metadata !== undefined && layout.streams.length > session.partitions) {
          const read = session.lanes.filter((lane) => lane.ops.lane === 'topic').map((lane) => lane.ops.stream)
          // Growth keeps the old partitions' streams; other streams mean the topic was deleted and made again.
          if (read.every((stream, index) => layout.streams[index] === stream)) await this.addPartitions(session, layout.streams, startLoop)
          else if (!recreated) this.emit('warning', {message: `${topic} was deleted and made again with other partition streams while this worker ran: it goes on reading the old ones; restart it to read the new topic`})
          recreated = true
        }
        warned = false
      } catch (error) {
        if (isFatal(error)) throw error
        if (!warned) this.emit('warning', {message: `could not look for partitions added to ${topic}, retrying every ${GROWTH_POLL_MS / 1000}s: ${errorMessage(error)}`})
        warned = true
      }
    }
  }

  /**
   * Any worker of a topic appends its due scheduled messages (`qctl publish --delay / --at`) to their
   * streams (schedule/mover.ts: each moved and removed in one step, so workers racing move each once):
   * it looks when the next one is due, at least every SCHEDULE_POLL_MS (a message may be scheduled at
   * any time). An ACL that does not grant it stops the loop with one warning; other failures are said
   * once and retried.
   */
  private async scheduleLoop(session: Session): Promise<void> {
    let warned = false
    while (!this.stopping) {
      let waitMs = SCHEDULE_POLL_MS
      try {
        const streams = session.lanes.filter((lane) => lane.ops.lane === 'topic').map((lane) => lane.ops.stream)
        // A read-only look first: most topics schedule nothing, and moving needs more of the ACL than reading.
        const dueIn = await nextDue(session.commands, streams)
        const due = streams.filter((_stream, index) => dueIn[index] === 0)
        for (const ms of dueIn) if (ms !== undefined && ms > 0) waitMs = Math.min(waitMs, ms)
        const results = await Promise.all(due.map(async (stream) => moveDue(session.commands, stream)))
        for (const result of results) if (result.nextDueInMs !== undefined && result.foreign === 0) waitMs = Math.min(waitMs, result.nextDueInMs)
        const foreign = results.reduce((sum, result) => sum + result.foreign, 0)
        if (foreign > 0 && !warned) this.emit('warning', {message: `${foreign} due members of ${this.options.topic}'s schedule are not messages qctl scheduled (another program wrote them): left in place`})
        warned = foreign > 0
      } catch (error) {
        if (isPermissionDenied(error)) {
          this.emit('warning', {message: `due scheduled messages are not appended by this worker (refused by the ACL: its user may not move them; run qctl schedule run --follow as a publisher, README, Least-privilege ACL roles): ${errorMessage(error)}`})
          return
        }
        if (!warned && !this.stopping) this.emit('warning', {message: `could not append due scheduled messages, retrying: ${errorMessage(error)}`})
        warned = true
      }
      await sleep(Math.max(MIN_SCHEDULE_WAIT_MS, waitMs), session.stopSignal)
    }
  }

  /**
   * --ordered: every KEY_REPORT_MS, the keys with the most entries waiting in this worker, per stream
   * it reads (key-report.ts), for `top`'s detail view; its reports of streams it stopped reading are
   * removed. Only advice for a view: a failure is said once and never stops the worker.
   */
  private async keyReportLoop(session: Session, dispatcher: Dispatcher): Promise<void> {
    const {group, consumer} = this.options
    const reported = new Set<string>()
    let warned = false
    while (!this.stopping) {
      await sleep(KEY_REPORT_MS, session.stopSignal)
      const reading = this.stopping ? [] : session.lanes.filter((lane) => lane.ops.lane === 'topic' && lane.gate.accepting)
      const busiest = dispatcher.busiestKeys(Number.POSITIVE_INFINITY)
      const reports = reading.map((lane): KeyReport => ({
        stream: lane.ops.stream,
        at: session.now(),
        keys: busiest.filter((key) => key.partition === lane.partition).slice(0, KEYS_PER_REPORT).map(({key, waiting}) => ({key, waiting})),
      }))
      const left = [...reported].filter((stream) => !reports.some((report) => report.stream === stream))
      try {
        await within(Promise.all([writeKeyReports(session.commands, group, consumer, reports), clearKeyReports(session.commands, group, consumer, left)]), KEY_REPORT_MS, 'no answer')
        for (const stream of left) reported.delete(stream)
        for (const report of reports) reported.add(report.stream)
        warned = false
      } catch (error) {
        // An ACL that does not grant the report keys (a role file older than them) refuses every time: stop asking.
        if (isPermissionDenied(error)) {
          this.emit('warning', {message: `the busiest waiting keys are not reported for qctl top (refused by the ACL: grant the worker role ~{TOPIC}:waiting:*, README, Least-privilege ACL roles): ${errorMessage(error)}`})
          return
        }
        if (!warned && !this.stopping) this.emit('warning', {message: `could not report the busiest waiting keys for qctl top (the worker goes on): ${errorMessage(error)}`})
        warned = true
      }
    }
  }

  /** Read the partitions of `streams` beyond those read now: their groups made at their start, their lanes added to the session. */
  private async addPartitions(session: Session, streams: readonly string[], startLoop: (readGroup: ReadGroup) => void): Promise<void> {
    const from = session.partitions
    const perPartition = readsPerPartition(session.commands, true)
    const opened = await this.openPartitions(session.commands, streams.slice(from), from, 'start', true, perPartition ? undefined : session.readGroups[0]?.reader)
    if (this.stopping) return
    const lanes = opened.partitions.flatMap((partition) => partition.lanes)
    session.lanes.push(...lanes)
    session.partitions = streams.length
    this.livenessStreams.push(...streams.slice(from))
    if (perPartition) {
      for (const partition of opened.partitions) {
        const readGroup = readGroupOf(partition.reader, partition.lanes)
        session.readGroups.push(readGroup)
        startLoop(readGroup)
      }
    } else session.readGroups[0]?.lanes.push(...lanes)
    // --ordered: the new partitions are shared out (and leased) from the next renewal on.
    this.leases?.grow(streams)
    this.partitionsChanged.wakeAll()
    this.emit('partitionsAdded', {topic: this.options.topic, from, to: streams.length})
    this.warnReplaysRefused(opened, streams.length)
  }

  /** Acknowledgements refused because the partition's lease was lost: those entries are the next holder's. */
  private fenced(partition: number, count: number): void {
    this.emit('warning', {message: `${count} acknowledgements of partition ${partition} were refused: this worker no longer holds its lease (fenced); the partition's new holder handles those entries again`})
  }

  /**
   * A failed entry's dead-letter move or attempt record refused because the partition's lease was
   * lost (Outcomes' fence): the entry stays pending for the next holder. Refused by Redis under the
   * lease this worker still holds, the lease is no longer its own there: the partition is stopped
   * now, not at the next renewal, so the key's later entries never start here after their
   * predecessor was left to the new holder.
   */
  private fencedOutcome(partition: number, refused: {id: string; step: string; lease: string | undefined}): void {
    this.emit('warning', {
      message: `the ${refused.step} of ${refused.id} (partition ${partition}) was refused: this worker no longer holds the partition's lease (fenced); the entry stays pending for its new holder, which handles it again`,
    })
    if (refused.lease !== undefined && this.leases?.value(partition) === refused.lease) this.leases.lapsed(partition, 'Redis refused a step under its token: fenced')
  }

  /** A partition's gate under a lease: closed until the lease is taken and its pending entries are held. */
  private leaseGate(partition: number): LaneGate {
    return {
      accepting: false,
      reading: false,
      mayStart: () => this.leases?.valid(partition) === true,
      blockLimitMs: () => this.leases?.remainingMs(partition) ?? 0,
      token: () => this.leases?.token(partition),
      lapsed: () => this.leases?.lapsed(partition),
    }
  }

  /** What taking, giving up and losing a partition does to this worker (leases.ts). */
  private leaseHooks(session: Session): LeaseHooks {
    const lanesOf = (partition: number): Lane[] => session.lanes.filter((lane) => lane.partition === partition)
    const close = (partition: number): Lane[] => {
      const lanes = lanesOf(partition)
      const [first] = lanes
      if (first !== undefined) {
        first.gate.reading = false
        first.gate.accepting = false
      }
      this.partitionsChanged.wakeAll()
      return lanes
    }
    return {
      acquired: async (partition) => {
        const dispatcher = this.dispatcher
        const lanes = lanesOf(partition)
        const [first] = lanes
        if (dispatcher === undefined || first === undefined) return
        first.gate.accepting = true
        // The keys held now (--on-dead-letter hold-key), as Redis has them: the former holder may have
        // held keys (or a replay released them) since this worker last held the partition, or since it started.
        await this.refreshHeldKeys(first)
        // Every entry still pending in the partition (a worker that died, froze or gave it up left
        // them), in ID order, before any new one: a key's older entries always run first.
        for (const lane of lanes) await this.takePartitionPending(session, dispatcher, lane)
        if (!first.gate.accepting) return
        first.gate.reading = true
        this.partitionsChanged.wakeAll()
      },
      releasing: async (partition) => {
        const dispatcher = this.dispatcher
        const lanes = close(partition)
        if (dispatcher === undefined) return
        // Not started: left pending (the next holder takes them, in order); running: finished here first.
        dispatcher.dropLanes(lanes)
        while (dispatcher.runningOn(lanes) > 0) await dispatcher.whenIdle(20)
        await within(flushLanes(lanes), this.options.leaseTimeoutMs, 'acknowledgements not answered').catch(() => undefined)
      },
      lost: (partition) => {
        const lanes = close(partition)
        this.dispatcher?.dropLanes(lanes, new Error(`lost the lease of partition ${partition}`))
      },
    }
  }

  /** Replace a partition's held keys (shared by its stream's lane and its replay lane) with Redis's. */
  private async refreshHeldKeys(lane: Lane): Promise<void> {
    const keys = await lane.ops.heldKeys()
    lane.held.clear()
    for (const key of keys.keys()) lane.held.add(key)
  }

  /**
   * A partition just taken: every entry pending in its group (this consumer's own from before, and
   * other consumers', including a worker that held the partition until now), in ID order, held
   * before anything new is read.
   */
  private async takePartitionPending(session: Session, dispatcher: Dispatcher, lane: Lane): Promise<void> {
    const {consumer} = this.options
    const taken: DeliveredEntry[] = []
    for (const other of await lane.ops.consumers()) {
      if (other.pending === 0) continue
      if (other.name === consumer) {
        taken.push(...(await this.ownPending(lane)))
        continue
      }
      for (;;) {
        const lease = this.leases?.value(lane.partition ?? 0)
        const claimed = lease === undefined ? undefined : await lane.ops.claimFenced(other.name, TAKE_BATCH, lease)
        if (claimed === undefined) throw new Error(`lost the lease of partition ${lane.partition ?? 0} while taking it over`)
        session.reportLost(claimed.lost)
        taken.push(...claimed.entries)
        if (claimed.entries.length + claimed.lost.length < TAKE_BATCH) break
      }
    }
    taken.sort((a, b) => compareIdText(a.id, b.id))
    this.addAll(dispatcher, taken, performance.now(), lane)
  }

  /** This consumer's own pending entries of a lane (a history read), with their attempt records. */
  private async ownPending(lane: Lane): Promise<DeliveredEntry[]> {
    const {group, consumer} = this.options
    const found: DeliveredEntry[] = []
    let after = '0'
    for (;;) {
      const reply = (await lane.reader.xreadgroup('GROUP', group, consumer, 'COUNT', TAKE_BATCH, 'STREAMS', lane.ops.stream, after)) as Array<[string, Array<[string, string[] | null]>]> | null
      const rows = reply?.[0]?.[1] ?? []
      const live = rows.filter((row): row is [string, string[]] => row[1] !== null)
      const records = await lane.ops.records(live.map(([id]) => id))
      found.push(...live.map(([id, pairs], index): DeliveredEntry => ({id, pairs, takenBack: {record: records[index]}, orphan: false})))
      if (rows.length < TAKE_BATCH) return found
      after = (rows.at(-1) as [string, unknown])[0]
    }
  }

  /** Redis's clock minus this host's, so times written into Redis agree across hosts whose clocks do not. */
  private async clockOffset(ops: GroupOps): Promise<number> {
    const before = Date.now()
    try {
      const server = await ops.serverTimeMs()
      return server - Math.round((before + Date.now()) / 2)
    } catch (error) {
      if (isPermissionDenied(error)) return 0
      throw error
    }
  }

  private onAckResult(result: {duplicates: number; failed: unknown}): 'retry' | 'drop' {
    this.tally.duplicates += result.duplicates
    if (result.failed === undefined) {
      this.telemetry.ackBatches++
      this.telemetry.lastAckAtMs = Date.now()
      return 'drop'
    }
    // A refused XACK would be refused for every entry: stop rather than handle them all again.
    if (isFatal(result.failed)) {
      this.fail(result.failed)
      return 'drop'
    }
    this.emit('warning', {message: `acknowledgement failed, retrying: ${errorMessage(result.failed)}`})
    return 'retry'
  }

  /** Say when a connection drops and comes back (the client reconnects by itself, with capped backoff). */
  private watchConnection(client: RedisClient, role: 'reader' | 'commands'): RedisClient {
    let lost = false
    // A cluster says when it reconnects, but not after how long.
    client.on('reconnecting', (delayMs?: number) => {
      const next = typeof delayMs === 'number' ? ` (next try in ${delayMs}ms)` : ''
      if (!lost && !this.stopping) this.emit('warning', {message: `lost the ${role} connection to Redis; reconnecting${next}`})
      if (!lost) this.telemetry.reconnects[role]++
      lost = true
    })
    client.on('ready', () => {
      if (lost && !this.stopping) this.emit('warning', {message: `${role} connection to Redis is back`})
      lost = false
    })
    return client
  }

  private fail(error: unknown): void {
    this.fatal ??= isNoGroup(error) ? this.groupVanished() : error
    this.close('closed')
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted
  }

  private groupVanished(): QctlError {
    return new QctlError('NOT_FOUND', `consumer group "${this.options.group}" of topic "${this.options.topic}" no longer exists (the stream was deleted or the group destroyed); stopping rather than starting over`)
  }

  /** Hold entries of `lane` taken back (not first deliveries), unless already held. */
  private addAll(dispatcher: Dispatcher, entries: readonly DeliveredEntry[], requestedAt: number, lane: Lane): void {
    if (entries.length === 0) return
    // One pass over what is held, not one per entry (a batch of 500 against 500 held).
    const held = new Set(dispatcher.heldIds(lane))
    for (const entry of entries) if (!held.has(entry.id)) dispatcher.add(entry, requestedAt, lane)
  }

  /** Deliver again what this consumer name still holds in each lane, read from its history (XREADGROUP … 0) in large batches. */
  private async recoverOwnPending(session: Session, dispatcher: Dispatcher, lanes: readonly Lane[] = session.lanes): Promise<void> {
    for (const lane of lanes) await this.recoverOwnPendingOf(session, dispatcher, lane)
  }

  private async recoverOwnPendingOf(session: Session, dispatcher: Dispatcher, lane: Lane): Promise<void> {
    const {group, consumer} = this.options
    let after = '0'
    while (!this.stopping) {
      const {count, requestedAt} = await this.roomToTake(dispatcher, Math.min(TAKE_BATCH, this.options.concurrency))
      const reply = (await lane.reader.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', lane.ops.stream, after)) as Array<[string, Array<[string, string[] | null]>]> | null
      const rows = reply?.[0]?.[1] ?? []
      if (rows.length === 0) return
      after = (rows.at(-1) as [string, unknown])[0]
      const deleted = rows.filter(([, pairs]) => pairs === null).map(([id]) => id)
      if (deleted.length > 0) {
        await lane.ops.forgetDeleted(deleted)
        session.reportLost(deleted)
      }
      const live = rows.filter((row): row is [string, string[]] => row[1] !== null)
      const records = await lane.ops.records(live.map(([id]) => id))
      this.addAll(dispatcher, live.map(([id, pairs], index) => ({id, pairs, takenBack: {record: records[index]}, orphan: false})), requestedAt, lane)
      if (rows.length < count) return
    }
  }

  /**
   * New entries, read on the dedicated blocking connection, while the command connection answers
   * (entries read now could not be acknowledged).
   *
   * Draining (--until-empty), reads do not block while entries keep coming. A read that brings fewer
   * entries than it asked for has caught up with the stream: the worker then waits for what it holds
   * to finish (at most `blockMs`), sends its acknowledgements, and reads once more without blocking.
   * Nothing there and nothing pending is the end, noticed within a round trip of the last
   * acknowledgement instead of after one more blocking read. Only while something is still pending
   * elsewhere (another consumer's entries, a parked retry) does it poll with a blocking read.
   */
  private async readLoop(session: Session, dispatcher: Dispatcher, group: ReadGroup): Promise<void> {
    const {untilEmpty, concurrency} = this.options
    const blockMs = untilEmpty ? Math.min(this.options.blockMs, 100) : this.options.blockMs
    let caughtUp = false
    let block = !untilEmpty
    while (!this.stopping) {
      // On a cluster each partition has a read loop: each reads at most its share of the room, so a
      // loop waiting in a blocking read never holds room another partition's entries need (read each
      // round: partitions added while the worker runs bring loops of their own).
      const loops = session.readGroups.length
      await session.health.whenHealthy(session.stopSignal)
      if (caughtUp) {
        await dispatcher.whenIdle(blockMs)
        if (dispatcher.size === 0) {
          await within(flushLanes(session.lanes), this.options.blockMs + READ_WATCHDOG_MARGIN_MS, 'acknowledgements not answered').catch(() => undefined)
        }
      }
      // Partitions this worker does not hold (--ordered leases) are not read.
      const reading = group.lanes.filter((lane) => lane.gate.reading)
      if (reading.length === 0) {
        // A worker holding no partition (more workers than partitions) still stops when all is drained.
        if (untilEmpty && dispatcher.size === 0 && unsentOf(session.lanes) === 0 && (await this.isDrained(session))) this.close('until-empty')
        else await this.partitionsChanged.sleep(blockMs, session.stopSignal)
        continue
      }
      this.readAhead.update(dispatcher.finished, performance.now())
      const readCount = loops === 1 ? this.readAhead.readCount : Math.max(1, Math.floor(this.readAhead.readCount / loops))
      await dispatcher.waitForRoom(caughtUp ? 1 : readCount)
      if (this.stopping) break
      // Never fewer than the idle handlers could take at once; never more than the room there is
      // (several loops share it: what one sets aside, the others cannot take). COUNT must never be 0:
      // XREADGROUP reads everything then.
      // Streams read with shares of COUNT (several partitions): at least one entry each, room permitting
      // (fewer would leave some unread this round).
      const shared = this.leases !== undefined || group.lanes.length > 2 || loops > 1
      const wanted = Math.max(readCount, Math.floor((concurrency - dispatcher.runningCount) / loops), shared ? reading.length : 1)
      // One loop reads what there is room for without setting it aside: the takeover and due loops
      // may use the room while a read blocks (as they always could).
      let reservation = loops > 1 ? dispatcher.reserve(wanted) : Math.min(dispatcher.freeCapacity, wanted)
      if (reservation <= 0) continue
      const release = (): void => {
        if (loops > 1) dispatcher.release(reservation)
        reservation = 0
      }
      let entries: Array<{lane: Lane; rows: Array<[string, string[]]>; asked: number}>
      const requestedAt = performance.now()
      // A loop of several (a cluster's partitions) gives its room back before it blocks: waiting on a
      // quiet partition must not hold room a busy one needs (its blocking read then asks for one entry a stream).
      const beforeBlocking = loops > 1 ? release : undefined
      // A blocking read ends before a lease could lapse: entries it delivers later would be pending to
      // a worker that may no longer handle them, after the next holder took the partition's over.
      const blockFor = block ? Math.floor(Math.min(blockMs, ...reading.map((lane) => lane.gate.blockLimitMs()))) : undefined
      try {
        entries = await this.read(session, {...group, lanes: reading}, reservation, blockFor !== undefined && blockFor < 10 ? undefined : blockFor, beforeBlocking)
      } catch (error) {
        release()
        if (this.stopping) break
        if (isNoGroup(error) && !(await this.groupStillThere(session))) throw this.groupVanished()
        if (isFatal(error) && !isNoGroup(error)) throw error
        this.emit('warning', {message: isUnblockedByCluster(error) ? slotMovedWarning(error) : `read failed, retrying: ${errorMessage(error)}`})
        await sleep(500, session.stopSignal)
        // Entries a cut read delivered are pending for us: take them back.
        await this.recoverOwnPending(session, dispatcher, group.lanes).catch(() => undefined)
        continue
      }
      release()
      let read = 0
      for (const {lane, rows} of entries) {
        read += rows.length
        group.lastRows.set(lane, rows.length)
        for (const [id, pairs] of rows) dispatcher.add({id, pairs, takenBack: undefined, orphan: false}, requestedAt, lane)
      }
      if (!untilEmpty) continue
      caughtUp = entries.every(({rows, asked}) => rows.length < asked)
      block = false
      if (read > 0 || dispatcher.size > 0) continue
      if (unsentOf(session.lanes) > 0) continue
      if (await this.isDrained(session)) this.close('until-empty')
      // Pending elsewhere: wait for it (or for new entries) with a blocking read rather than spin.
      else block = true
    }
  }

  /**
   * One XREADGROUP for new entries of every lane of the group (`STREAMS TOPIC REPLAY > >`): one round
   * trip, and a blocking read wakes for a replay as for a publish. COUNT applies per stream, so while
   * both have new entries a read may bring up to twice `count`. `blockMs` undefined reads without
   * blocking. A read that never returns is cut by a watchdog. Several partitions read together get
   * shares of `count` (readMany).
   */
  private async read(
    session: Session,
    group: ReadGroup,
    count: number,
    blockMs: number | undefined,
    beforeBlocking: (() => void) | undefined,
  ): Promise<Array<{lane: Lane; rows: Array<[string, string[]]>; asked: number}>> {
    if (this.leases !== undefined) return this.readLeased(this.leases, group, count, blockMs, beforeBlocking)
    if (group.lanes.length > 2 || session.readGroups.length > 1) return this.readMany(group, count, blockMs, beforeBlocking)
    const {lanes, reader} = group
    const streams = [...lanes.map((lane) => lane.ops.stream), ...lanes.map(() => '>')]
    const reply = await this.xreadgroup(reader, count, blockMs, streams)
    const byStream = new Map(reply ?? [])
    return lanes.map((lane) => ({lane, rows: byStream.get(lane.ops.stream) ?? [], asked: count}))
  }


  /**
   * The lanes of several partitions (one server): each stream gets a share of `count` (readShares:
   * they add up to `count`, so the worker never holds more than its bound, and a busy partition gets
   * most), read without blocking in one pipeline. Only when none brought anything does a blocking
   * read wait on all of them, at `count / streams` each.
   */
  private async readMany(
    group: ReadGroup,
    count: number,
    blockMs: number | undefined,
    beforeBlocking: (() => void) | undefined,
  ): Promise<Array<{lane: Lane; rows: Array<[string, string[]]>; asked: number}>> {
    const {group: groupName, consumer} = this.options
    const {lanes, reader} = group
    const shares = readShares(count, lanes.map((lane) => group.lastRows.get(lane) ?? 0), group.rotation.next)
    // Each group turns its own: a rotation shared by several loops let one of them always land on the same stream.
    group.rotation.next = (group.rotation.next + Math.max(1, count)) % lanes.length
    const pipeline = reader.pipeline()
    const asked = lanes.map((lane, index) => ({lane, count: shares[index] as number})).filter((ask) => ask.count > 0)
    for (const {lane, count: share} of asked) pipeline.xreadgroup('GROUP', groupName, consumer, 'COUNT', share, 'STREAMS', lane.ops.stream, '>')
    const ms = READ_WATCHDOG_MARGIN_MS
    const replies = ((await within(pipeline.exec(), ms, `read did not return within ${ms}ms; reconnected`, () => dropConnection(reader))) ?? []) as Array<[Error | null, unknown]>
    const rows = new Map<Lane, Array<[string, string[]]>>()
    asked.forEach(({lane}, index) => {
      const [error, reply] = replies[index] ?? [new Error('missing reply'), null]
      if (error !== null) throw error
      rows.set(lane, (reply as Array<[string, Array<[string, string[]]>]> | null)?.[0]?.[1] ?? [])
    })
    const any = [...rows.values()].some((found) => found.length > 0)
    if (!any && blockMs !== undefined) {
      beforeBlocking?.()
      const each = beforeBlocking === undefined ? Math.max(1, Math.floor(count / lanes.length)) : 1
      const reply = await this.xreadgroup(reader, each, blockMs, [...lanes.map((lane) => lane.ops.stream), ...lanes.map(() => '>')])
      const byStream = new Map(reply ?? [])
      return lanes.map((lane) => ({lane, rows: byStream.get(lane.ops.stream) ?? [], asked: each}))
    }
    return lanes.map((lane, index) => ({lane, rows: rows.get(lane) ?? [], asked: shares[index] as number}))
  }

  /**
   * Leased partitions (--ordered): each stream's share read by the fenced script, which reads nothing
   * once the lease is not this worker's under its token (then the partition is given up at once).
   * When nothing came and the read may block, a plain XREAD (which delivers nothing to the group)
   * waits for new entries after each stream's last ID, bounded by the lease; the next round reads them.
   */
  private async readLeased(
    leases: Leases,
    group: ReadGroup,
    count: number,
    blockMs: number | undefined,
    beforeBlocking: (() => void) | undefined,
  ): Promise<Array<{lane: Lane; rows: Array<[string, string[]]>; asked: number}>> {
    const {lanes, reader} = group
    const shares = readShares(count, lanes.map((lane) => group.lastRows.get(lane) ?? 0), group.rotation.next)
    // Each group turns its own: a rotation shared by several loops let one of them always land on the same stream.
    group.rotation.next = (group.rotation.next + Math.max(1, count)) % lanes.length
    const reads = await Promise.all(
      lanes.map(async (lane, index) => {
        const share = shares[index] as number
        const lease = leases.value(lane.partition ?? 0)
        if (share === 0) return {lane, rows: [], asked: 0, lastId: undefined}
        const read = lease === undefined ? undefined : await lane.ops.readFenced(share, lease)
        if (read === undefined) {
          lane.gate.lapsed()
          return {lane, rows: [], asked: share, lastId: undefined}
        }
        return {lane, rows: read.rows, asked: share, lastId: read.lastId}
      }),
    )
    // Wait only when every stream was read and is caught up: one left out this round (less room than
    // streams) may hold entries, and gets its turn in the next round at once.
    const caughtUp = reads.every((read) => read.rows.length === 0 && read.lastId !== undefined && read.lane.gate.reading)
    if (blockMs !== undefined && caughtUp && reads.length > 0) {
      const waitFrom = reads
      beforeBlocking?.()
      const streams = [...waitFrom.map((read) => read.lane.ops.stream), ...waitFrom.map((read) => read.lastId as string)]
      const ms = blockMs + READ_WATCHDOG_MARGIN_MS
      await within(reader.xread('COUNT', 1, 'BLOCK', blockMs, 'STREAMS', ...streams), ms, `wait for new entries did not return within ${ms}ms; reconnected`, () => dropConnection(reader))
    }
    return reads.map(({lane, rows, asked}) => ({lane, rows, asked}))
  }

  /** One XREADGROUP (`streams`: keys then IDs), blocking for `blockMs` when given, cut by a watchdog if it never returns. */
  private async xreadgroup(reader: RedisClient, count: number, blockMs: number | undefined, streams: string[]): Promise<Array<[string, Array<[string, string[]]>]> | null> {
    const {group, consumer} = this.options
    const read =
      blockMs === undefined
        ? reader.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', ...streams)
        : reader.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', ...streams)
    const ms = (blockMs ?? 0) + READ_WATCHDOG_MARGIN_MS
    return (await within(read, ms, `read did not return within ${ms}ms; reconnected`, () => dropConnection(reader))) as Array<[string, Array<[string, string[]]>]> | null
  }

  /**
   * After NOGROUP on a Redis Cluster: whether the group is there after all, asked of the node a fresh
   * slot map names (a read that met a slot on the move or a failover may have asked a node that no
   * longer holds it). On one server NOGROUP is the answer: the group is gone.
   */
  private async groupStillThere(session: Session): Promise<boolean> {
    const {commands} = session
    if (!isCluster(commands)) return false
    await refreshSlots(commands)
    const [lane] = session.lanes
    return lane !== undefined && (await lane.ops.state()).exists
  }

  /** Nothing new, nothing pending, in every lane. */
  private async isDrained(session: Session): Promise<boolean> {
    for (const lane of session.lanes) {
      const state = await lane.ops.state()
      if (!state.exists) throw this.groupVanished()
      if (state.lag !== 0 || state.pending !== 0) return false
    }
    return true
  }

  /** Entries of consumers that stopped renewing them (dead or frozen workers); and idle, empty consumers pruned. */
  private async reclaimLoop(session: Session, dispatcher: Dispatcher): Promise<void> {
    const {consumer, pruneConsumersAfterMs} = this.options
    while (!this.stopping) {
      await session.health.whenHealthy(session.stopSignal)
      try {
        for (const lane of session.lanes) {
          for (const other of await lane.ops.consumers()) {
            if (this.stopping) break
            if (other.name === consumer || other.name === PARKED_CONSUMER) continue
            if (other.pending > 0) await this.takeOver(session, dispatcher, other.name, lane)
            else if (pruneConsumersAfterMs !== undefined && other.idleMs >= pruneConsumersAfterMs && (await lane.ops.deleteConsumerIfIdle(other.name, pruneConsumersAfterMs))) {
              // Said once, for the topic: a worker leaves a consumer in each lane.
              if (lane === session.lanes[0]) this.emit('warning', {message: `removed consumer "${other.name}": it held nothing and was idle ${Math.round(other.idleMs / 1000)}s (a worker that was killed)`})
            }
          }
        }
      } catch (error) {
        if (isNoGroup(error)) throw this.groupVanished()
        if (isFatal(error)) throw error
        this.emit('warning', {message: `takeover of dead consumers' entries failed, retrying: ${errorMessage(error)}`})
      }
      await sleep(this.options.reclaimIntervalMs, session.stopSignal)
    }
  }

  /**
   * Wait for room to take entries back (due retries, a dead consumer's, this consumer's own): by
   * default a read's worth, as the read loop waits for (or any room once nothing is queued), since
   * one call per entry would cost a round trip each. Returns how many to ask for (up to TAKE_BATCH)
   * and when the asking starts (the entries are this worker's from then).
   */
  private async roomToTake(dispatcher: Dispatcher, min?: number): Promise<{count: number; requestedAt: number}> {
    this.readAhead.update(dispatcher.finished, performance.now())
    await dispatcher.waitForRoom(min ?? this.readAhead.readCount)
    return {count: Math.max(1, Math.min(dispatcher.freeCapacity, TAKE_BATCH)), requestedAt: performance.now()}
  }

  private async takeOver(session: Session, dispatcher: Dispatcher, from: string, lane: Lane): Promise<void> {
    while (!this.stopping) {
      const {count, requestedAt} = await this.roomToTake(dispatcher)
      if (this.stopping) return
      const {entries, lost} = await lane.ops.reclaim(from, this.options.visibilityTimeoutMs, count)
      session.reportLost(lost)
      this.addAll(dispatcher, entries, requestedAt, lane)
      if (entries.length + lost.length < count) return
    }
  }

  /** Parked retries whose backoff is over (Redis's clock), popped by due time: nothing is scanned that is not due. */
  private async dueLoop(session: Session, dispatcher: Dispatcher): Promise<void> {
    const {duePollMs} = this.options
    while (!this.stopping) {
      await session.health.whenHealthy(session.stopSignal)
      const {count, requestedAt} = await this.roomToTake(dispatcher)
      if (this.stopping) break
      let waitMs = duePollMs
      try {
        // Each lane's due set in turn (one loop, one alarm: a retry parked in either wakes it), sharing
        // the room there is: the second lane takes what the first left, never `count` again.
        let room = count
        for (const lane of session.lanes) {
          const {entries, lost, nextDueInMs} = await lane.ops.takeDue(room)
          session.reportLost(lost)
          this.addAll(dispatcher, entries, requestedAt, lane)
          room -= entries.length + lost.length
          if (room <= 0) waitMs = 0
          else if (nextDueInMs >= 0) waitMs = Math.min(nextDueInMs, waitMs)
          if (waitMs === 0) break
        }
      } catch (error) {
        if (isNoGroup(error)) throw this.groupVanished()
        if (isFatal(error)) throw error
        this.emit('warning', {message: `taking due retries failed, retrying: ${errorMessage(error)}`})
      }
      await this.dueAlarm.sleep(waitMs, session.stopSignal)
    }
  }

  /** Renew what is held, so a slow but live handler keeps its entries; act on what was no longer this worker's. */
  private async heartbeatLoop(session: Session, dispatcher: Dispatcher): Promise<void> {
    const signal = this.endController.signal
    while (!signal.aborted) {
      await this.heartbeatAlarm.sleep(this.options.heartbeatIntervalMs, signal)
      if (signal.aborted) break
      for (const lane of session.lanes) {
        const sentAt = performance.now()
        const ids = dispatcher.renewable(lane)
        let fates: Map<string, HeldEntryFate>
        try {
          fates = await lane.ops.heartbeat(ids)
        } catch (error) {
          if (isFatal(error) && !isNoGroup(error)) throw error
          if (!this.stopping) this.emit('warning', {message: `heartbeat failed, retrying: ${errorMessage(error)}`})
          continue
        }
        // One lookup table per beat, not a scan of what is held per ID: an --ordered worker may hold
        // thousands by ID (spilled), and the beat renews them all.
        const held = dispatcher.heldById(lane)
        for (const id of ids) {
          const tracked = fates.has(id) ? undefined : held.get(id)
          if (tracked !== undefined) tracked.renewedAt = sentAt
        }
        if (fates.size > 0) this.actOnFates(session, dispatcher, fates, sentAt, lane)
      }
      dispatcher.resume()
    }
  }

  /**
   * What to do with held entries that are no longer this consumer's. An entry no longer pending
   * anywhere was either finished by a worker that took it over (possible only once this worker had
   * not renewed it for a visibility timeout: it was frozen or cut off) or dropped from the group by an
   * operator (XGROUP DELCONSUMER of a live consumer): the first is dropped, nothing to report; the
   * second was delivered here and is handled (at-least-once), with nothing to acknowledge. One this
   * worker took over and the consumer it was taken from finished meanwhile (heartbeat-4.lua, 4: that
   * one's acknowledgement came late) is dropped too, not handled a second time.
   */
  private actOnFates(session: Session, dispatcher: Dispatcher, fates: ReadonlyMap<string, HeldEntryFate>, sentAt: number, lane: Lane): void {
    const dropIds = new Set<string>()
    /** Entries this worker took over whose former consumer finished them meanwhile (heartbeat-4.lua, case 4). */
    const finishedByFormer = new Set<string>()
    const counts = {takenRunning: 0, orphaned: 0, deletedRunning: 0, formerRunning: 0}
    const held = dispatcher.heldById(lane)
    for (const [id, found] of fates) {
      const tracked = held.get(id)
      if (tracked === undefined) continue
      const fate = found === 'orphaned' && sentAt - tracked.renewedAt >= this.options.visibilityTimeoutMs ? 'acknowledged' : found
      tracked.fate = fate
      if (found === 'acknowledged') finishedByFormer.add(id)
      if (fate === 'orphaned') counts.orphaned++
      else if (!tracked.started) dropIds.add(id)
      else if (found === 'acknowledged') counts.formerRunning++
      else if (fate === 'taken-over' || fate === 'acknowledged') counts.takenRunning++
      else if (fate === 'deleted') counts.deletedRunning++
    }
    const dropped = dispatcher.dropQueued(dropIds, lane)
    const deleted = dropped.filter((tracked) => tracked.fate === 'deleted').map((tracked) => tracked.id)
    session.reportLost(deleted)
    const formerQueued = dropped.filter((tracked) => finishedByFormer.has(tracked.id)).length
    if (formerQueued + counts.formerRunning > 0) {
      session.warn(
        `${formerQueued + counts.formerRunning} entries this worker took over were finished meanwhile by the consumer they were taken from (its acknowledgement came late): ${formerQueued} not yet started are dropped, the ${counts.formerRunning} running finish here (a second handling)`,
      )
    }
    const takenQueued = dropped.length - deleted.length - formerQueued
    const finishedThere = dropped.filter((tracked) => tracked.fate === 'acknowledged' && !finishedByFormer.has(tracked.id)).length
    if (takenQueued + counts.takenRunning > 0) {
      const finished = finishedThere > 0 ? ` (${finishedThere} already finished there)` : ''
      session.warn(
        `${takenQueued + counts.takenRunning} entries were taken over by another consumer (this worker was too slow to renew them): ${takenQueued} not yet started are theirs now${finished}, the ${counts.takenRunning} running finish here (a second handling)`,
      )
    }
    if (counts.orphaned > 0) {
      session.warn(`${counts.orphaned} held entries are no longer pending in the group (its consumer was deleted, e.g. XGROUP DELCONSUMER): handling them anyway, with nothing to acknowledge`)
    }
    if (counts.deletedRunning > 0) session.warn(`${counts.deletedRunning} entries were deleted from the stream while their handlers ran: handled, nothing to acknowledge`)
  }

  /**
   * After the loops stop, within --shutdown-timeout: what was read ahead and what runs finishes;
   * then acknowledgements are sent, whatever never started is released to other workers, and the
   * consumer is removed if it holds nothing. Every Redis call is bounded, so a Redis that is down
   * cannot hold the exit.
   */
  private async shutdown(session: Session, dispatcher: Dispatcher): Promise<Pick<WorkerSummary, 'unfinished' | 'released' | 'unacknowledged'>> {
    const stoppedAt = this.stoppedAt || Date.now()
    const deadline = stoppedAt + this.options.shutdownTimeoutMs
    if (this.fatal !== undefined) dispatcher.abandon()
    while ((dispatcher.runningCount > 0 || (dispatcher.queuedCount > 0 && dispatcher.mayStart)) && Date.now() < deadline) {
      await dispatcher.whenIdle(Math.min(20, deadline - Date.now()))
    }
    const {notStarted, running} = dispatcher.abandon()
    this.endController.abort()
    const cleanupEnds = Math.max(deadline, Date.now() + CLEANUP_MIN_MS)
    const bounded = async (step: Promise<unknown>): Promise<boolean> =>
      within(step, Math.max(0, cleanupEnds - Date.now()), 'shutdown timeout').then(
        () => true,
        () => false,
      )
    const {lanes} = session
    await bounded(Promise.all(lanes.map(async (lane) => lane.parks.flush())))
    await bounded(Promise.all(lanes.map(async (lane) => lane.acks.flush())))
    // The outcomes just sent may have second handlings to count (Dispatcher.countLater): the summary has them.
    await bounded(dispatcher.countsSettled())
    const unacknowledged = lanes.reduce((sum, lane) => sum + lane.acks.unsent, 0)
    for (const lane of lanes) lane.acks.stop()
    // --trim-acked: once more, behind what was just acknowledged (a run with --until-empty may end before the first round).
    if (this.trimmer !== undefined && this.fatal === undefined) await bounded(this.trimmer.trimOnce())
    // Partitions given back at once (others take them within a renewal interval), and this worker leaves the members.
    if (this.leases !== undefined) await bounded(this.leases.stop())
    const left = [...notStarted, ...running]
    // Others may take them at once instead of after the visibility timeout.
    await bounded(Promise.all(lanes.map(async (lane) => lane.ops.setIdle(left.filter((tracked) => tracked.lane === lane).map((tracked) => tracked.id), this.options.visibilityTimeoutMs))))
    if (this.fatal === undefined && left.length === 0 && unacknowledged === 0 && !(await bounded(Promise.all(lanes.map(async (lane) => lane.ops.deleteConsumerIfIdle()))))) {
      session.warn(`could not remove consumer ${this.options.consumer} from the group`)
    }
    return {unfinished: running.length, released: notStarted.length, unacknowledged}
  }
}

/** A read group's lanes, none read yet. */
const readGroupOf = (reader: RedisClient, lanes: readonly Lane[]): ReadGroup => ({reader, lanes: [...lanes], lastRows: new Map(), rotation: {next: 0}})

/** Whether each partition is read by a loop and a connection of its own: a partitioned topic on a Redis Cluster. */
const readsPerPartition = (commands: RedisClient, partitioned: boolean): boolean => isCluster(commands) && partitioned

/** Partitions opened by Worker.openPartitions: each one's lanes (its stream's, and its replay stream's unless refused) and reader. */
interface OpenedPartitions {
  partitions: Array<{ops: GroupOps; replayStream: string; lanes: Lane[]; reader: RedisClient}>
  /** Whether the group was made on any of them (it did not exist there). */
  groupCreated: boolean
  /** Per partition, why its replay stream could not be made, if it could not. */
  replaysRefused: Array<'out of memory' | 'refused by the ACL' | undefined>
}

/** Said when a blocking read was ended by a slot migration or a failover (isUnblockedByCluster). */
const slotMovedWarning = (error: unknown): string =>
  `the topic's hash slot moved to another node, or its node failed over (${firstLineOf(error)}): reading again from where it lives now`
