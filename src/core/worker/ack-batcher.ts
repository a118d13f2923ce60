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
  /** Acknowledge `ids` (and forget the attempt records of `withRecords`); resolves to how many were still pending. */
  (ids: string[], withRecords: string[]): Promise<number>
}

export interface AckResult {
  acked: number
  /** Entries of the batch another worker took over from this one and handled too. */
  duplicates: number
  failed: unknown
}

export class AckBatcher {
  private ids: string[] = []
  private withRecords: string[] = []
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
     * Second handlings this worker caused: those of `ids` another worker took over from it (see
     * keys.ts, takeoverKey). Asked only when a takeover was possible: some entry of the batch went
     * unrenewed for `takeoverAfterMs` (the visibility timeout). An XACK that finds an entry already
     * acknowledged says nothing by itself: the first sending of a re-sent or retried XACK may have
     * been applied (its reply lost), or the consumer was deleted (XGROUP DELCONSUMER).
     */
    private readonly takenOver: (ids: string[]) => Promise<number> = async () => 0,
    private readonly takeoverAfterMs = Number.POSITIVE_INFINITY,
  ) {}

  /** Handled entries whose acknowledgement has not reached Redis (queued, or sent and unanswered). */
  get unsent(): number {
    return this.ids.length + this.sendingIds
  }

  /** `renewedAt`: when the entry was last known to be this worker's (delivered or renewed), performance.now(). */
  add(id: string, hasRecord: boolean, renewedAt = Number.NEGATIVE_INFINITY): void {
    this.ids.push(id)
    if (renewedAt < this.oldestRenewal) this.oldestRenewal = renewedAt
    if (hasRecord) this.withRecords.push(id)
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
    this.ids = []
    this.withRecords = []
    this.sending++
    this.sendingIds += ids.length
    const oldestRenewal = this.oldestRenewal
    this.oldestRenewal = Number.POSITIVE_INFINITY
    void this.sink(ids, withRecords)
      .then(
        async (acked) => {
          const takeoverPossible = performance.now() - oldestRenewal >= this.takeoverAfterMs
          const duplicates = takeoverPossible ? await this.takenOver(ids).catch(() => 0) : 0
          this.onResult({acked, duplicates, failed: undefined})
        },
        (error: unknown) => {
          if (this.onResult({acked: 0, duplicates: 0, failed: error}) !== 'retry') return
          this.ids.unshift(...ids)
          this.withRecords.unshift(...withRecords)
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
