/**
 * Collects acknowledgements and sends them in batches: one XACK per batch instead of one per
 * message, sent within `maxDelayMs` (a few milliseconds) of the first one queued, or at once when
 * `maxBatch` are waiting. Sending never blocks the handlers.
 */
export interface AckSink {
  /** Acknowledge `ids` (and forget the retry records of `retried`); resolves to how many were still pending. */
  (ids: string[], retried: string[]): Promise<number>
}

export interface AckResult {
  acked: number
  /** Acknowledgements that found the entry already acknowledged (handled elsewhere too). */
  duplicates: number
  failed: unknown
}

export class AckBatcher {
  private ids: string[] = []
  private retried: string[] = []
  private timer: NodeJS.Timeout | undefined
  /** XACKs sent and not yet answered, and who waits for them all (flush). A count, not a Set of promises: see InFlight. */
  private sending = 0
  private idleWaiters: Array<() => void> = []

  constructor(
    private readonly sink: AckSink,
    private readonly onResult: (result: AckResult) => void,
    private readonly maxBatch = 100,
    private readonly maxDelayMs = 2,
  ) {}

  add(id: string, hadRetryRecord: boolean): void {
    this.ids.push(id)
    if (hadRetryRecord) this.retried.push(id)
    if (this.ids.length >= this.maxBatch) this.send()
    else this.timer ??= setTimeout(() => this.send(), this.maxDelayMs)
  }

  /** Send what is queued and wait for every acknowledgement in flight. */
  async flush(): Promise<void> {
    this.send()
    if (this.sending === 0) return
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  private send(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.ids.length === 0) return
    const ids = this.ids
    const retried = this.retried
    this.ids = []
    this.retried = []
    this.sending++
    void this.sink(ids, retried)
      .then(
        (acked) => this.onResult({acked, duplicates: ids.length - acked, failed: undefined}),
        (error: unknown) => this.onResult({acked: 0, duplicates: 0, failed: error}),
      )
      .finally(() => {
        this.sending--
        if (this.sending > 0) return
        const waiters = this.idleWaiters
        this.idleWaiters = []
        for (const wake of waiters) wake()
      })
  }
}
