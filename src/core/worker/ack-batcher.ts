import type {GroupOps} from './group-ops.js'

/**
 * Collects acknowledgements and sends them in batches: one XACK per batch instead of one per
 * message, sent within `maxDelayMs` (a few milliseconds) of the first one queued, or at once when
 * `maxBatch` are waiting. Sending never blocks the handlers.
 *
 * A batch whose send failed is queued again when `onResult` says so (`'retry'`: a timeout or a
 * lost connection; acknowledging twice is harmless), and tried again after `retryDelayMs`: a
 * handled entry is acknowledged as soon as Redis answers again, not delivered again for nothing.
 * `unsent` is what never got through (for the summary at exit).
 */
export interface AckSink {
  /**
   * Acknowledge `ids` (and forget the attempt records of `withRecords`). `takenOver`: those this worker
   * took over from another consumer, acknowledged one by one to count second handlings (GroupOps.ackBatch);
   * empty in the common case, where one XACK does.
   */
  (ids: string[], withRecords: string[], takenOver: string[]): Promise<AckReply>
}

/** How many entries of a batch were still pending, and the second handlings this worker counts among them. */
export interface AckReply {
  acked: number
  duplicates: number
}

export interface AckResult {
  acked: number
  /** Second handlings of entries of the batch this worker counts (see AckSink and `finishedByTaker`). */
  duplicates: number
  failed: unknown
}

export class AckBatcher {
  private ids: string[] = []
  private withRecords: string[] = []
  private takenOverIds: string[] = []
  private timer: NodeJS.Timeout | undefined
  /** IDs sent and not yet answered, and who waits for them all (flush). A count, not a Set of promises: see InFlight. */
  private sendingIds = 0
  private sending = 0
  private idleWaiters: Array<() => void> = []
  /** The earliest time (performance.now()) an entry of the queued batch was last known to be this worker's. */
  private oldestRenewal = Number.POSITIVE_INFINITY

  constructor(
    private readonly sink: AckSink,
    private readonly onResult: (result: AckResult) => 'retry' | 'drop' | void,
    private readonly maxBatch = 100,
    private readonly maxDelayMs = 2,
    private readonly retryDelayMs = 250,
    /**
     * Second handlings this worker counts among `ids` it acknowledged with a plain XACK: those another
     * worker took over from it and finished first (GroupOps.finishedByTaker). Asked only when a
     * takeover was possible: some entry of the batch went unrenewed for `takeoverAfterMs` (the
     * visibility timeout). An XACK that finds an entry already acknowledged says nothing by itself:
     * the first sending of a re-sent or retried XACK may have been applied (its reply lost), or the
     * consumer was deleted (XGROUP DELCONSUMER). Nor does one that finds it pending: it may have
     * been sent before the takeover and applied after it (a frozen Redis, a re-send after a
     * reconnect), so whether it could race a takeover is not known when it is sent, only when its
     * reply comes; which of the two finished first is recorded by the taker (ack-taken-3.lua).
     */
    private readonly finishedByTaker: (ids: string[]) => Promise<number> = async () => 0,
    private readonly takeoverAfterMs = Number.POSITIVE_INFINITY,
  ) {}

  /** Handled entries whose acknowledgement has not reached Redis (queued, or sent and unanswered). */
  get unsent(): number {
    return this.ids.length + this.sendingIds
  }

  /**
   * `renewedAt`: when the entry was last known to be this worker's (delivered or renewed), performance.now().
   * `takenOver`: this worker took it over from another consumer (reclaim-4.lua), which may have handled it too.
   */
  add(id: string, hasRecord: boolean, renewedAt = Number.NEGATIVE_INFINITY, takenOver = false): void {
    this.ids.push(id)
    if (renewedAt < this.oldestRenewal) this.oldestRenewal = renewedAt
    if (hasRecord) this.withRecords.push(id)
    if (takenOver) this.takenOverIds.push(id)
    if (this.ids.length >= this.maxBatch) this.send()
    else this.timer ??= setTimeout(() => this.send(), this.maxDelayMs)
  }

  /** Send what is queued and wait until nothing is queued or in flight (callers bound the wait). */
  async flush(): Promise<void> {
    this.send()
    if (this.sending === 0 && this.ids.length === 0) return
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  /** Stop retrying (shutdown gave up): clears the timer so the process can exit. */
  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private send(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.ids.length === 0) return
    const ids = this.ids
    const withRecords = this.withRecords
    const takenOver = this.takenOverIds
    this.ids = []
    this.withRecords = []
    this.takenOverIds = []
    this.sending++
    this.sendingIds += ids.length
    const oldestRenewal = this.oldestRenewal
    this.oldestRenewal = Number.POSITIVE_INFINITY
    void this.sink(ids, withRecords, takenOver)
      .then(
        async ({acked, duplicates}) => {
          const takeoverPossible = performance.now() - oldestRenewal >= this.takeoverAfterMs
          const takenFromHere = takeoverPossible ? await this.finishedByTaker(ids).catch(() => 0) : 0
          this.onResult({acked, duplicates: duplicates + takenFromHere, failed: undefined})
        },
        (error: unknown) => {
          if (this.onResult({acked: 0, duplicates: 0, failed: error}) !== 'retry') return
          this.ids.unshift(...ids)
          this.withRecords.unshift(...withRecords)
          this.takenOverIds.unshift(...takenOver)
          if (oldestRenewal < this.oldestRenewal) this.oldestRenewal = oldestRenewal
          this.timer ??= setTimeout(() => this.send(), this.retryDelayMs)
        },
      )
      .finally(() => {
        this.sending--
        this.sendingIds -= ids.length
        if (this.sending > 0 || this.ids.length > 0) return
        const waiters = this.idleWaiters
        this.idleWaiters = []
        for (const wake of waiters) wake()
      })
  }
}

/**
 * The acknowledgements of one of a worker's lanes (its GroupOps), sent and counted as the worker does:
 * one XACK per batch, entries taken over from another consumer one by one (GroupOps.ackBatch), and the
 * second handlings of entries taken from this worker looked up once a takeover was possible
 * (GroupOps.finishedByTaker, after a visibility timeout without renewal).
 */
export function laneAcks(ops: GroupOps, onResult: (result: AckResult) => 'retry' | 'drop' | void, visibilityTimeoutMs: number, maxBatch = 100): AckBatcher {
  return new AckBatcher(
    async (ids, withRecords, takenOver) => ops.ackBatch(ids, withRecords, takenOver),
    onResult,
    maxBatch,
    2,
    250,
    async (ids) => ops.finishedByTaker(ids),
    visibilityTimeoutMs,
  )
}

/**
 * The acknowledgements of a lane of a leased partition (`--ordered` on a partitioned topic): every
 * batch through the fenced script, under the lease as the worker holds it when the batch is sent
 * (`lease()`: undefined once it is lost). A refused batch is not sent again: its entries stay pending
 * for the partition's next holder (`onFenced` says how many).
 */
export function fencedLaneAcks(
  ops: GroupOps,
  lease: () => string | undefined,
  onResult: (result: AckResult) => 'retry' | 'drop' | void,
  onFenced: (count: number) => void,
  maxBatch = 100,
): AckBatcher {
  return new AckBatcher(
    async (ids, withRecords) => {
      const {acked, fenced} = await ops.ackFenced(ids, withRecords, lease())
      if (fenced > 0) onFenced(fenced)
      return {acked, duplicates: 0}
    },
    onResult,
    maxBatch,
  )
}
