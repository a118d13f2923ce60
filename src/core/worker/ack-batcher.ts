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
  /** Acknowledgements that found the entry already acknowledged (handled elsewhere too). */
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
  /** Bumped when the connection drops: replies of batches sent before then may be to a re-sent XACK. */
  private epoch = 0

  constructor(
    private readonly sink: AckSink,
    private readonly onResult: (result: AckResult) => 'retry' | 'drop' | void,
    private readonly maxBatch = 100,
    private readonly maxDelayMs = 2,
    private readonly retryDelayMs = 250,
    private readonly takeoverAfterMs = Number.POSITIVE_INFINITY,
  ) {}

  /** Handled entries whose acknowledgement has not reached Redis (queued, or sent and unanswered). */
  get unsent(): number {
    return this.ids.length + this.sendingIds
  }

  add(id: string, hasRecord: boolean): void {
    this.ids.push(id)
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

  /**
   * The connection dropped: batches sent before now are re-sent on the new one, and a re-sent XACK
   * finds already acknowledged what the first sending acknowledged (its reply lost). Such a reply
   * counts duplicates only if the batch waited at least `takeoverAfterMs` (the visibility timeout):
   * before that no other worker could have taken its entries over, so an entry found acknowledged was
   * acknowledged by this worker's own first sending. After it, another worker may have handled them:
   * a second handling this worker caused, and counts.
   */
  inDoubt(): void {
    this.epoch++
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
    const epoch = this.epoch
    const sentAt = performance.now()
    void this.sink(ids, withRecords)
      .then(
        (acked) => {
          const trusted = epoch === this.epoch || performance.now() - sentAt >= this.takeoverAfterMs
          this.onResult({acked, duplicates: trusted ? ids.length - acked : 0, failed: undefined})
        },
        (error: unknown) => {
          if (this.onResult({acked: 0, duplicates: 0, failed: error}) !== 'retry') return
          this.ids.unshift(...ids)
          this.withRecords.unshift(...withRecords)
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
