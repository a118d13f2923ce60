import type {ParkOutcome} from './group-ops.js'

/**
 * Collects the failures to park (retry later) and sends them in batches: one script call for up to
 * `maxBatch` entries, within `maxDelayMs` of the first. The handler's slot is free at once (parking
 * is not handler work); the outcome of each park reaches its callback when Redis answers.
 *
 * If the worker dies before a batch is sent, those entries are still pending for it: they are taken
 * over like any entry of a dead worker, their failed attempt unrecorded (it counts as unproven).
 */
export interface ParkRequest {
  id: string
  delayMs: number
  attempt: number
}

/** Park each request; resolves, in order, to its outcome (see GroupOps.park). */
export type ParkSink = (requests: ParkRequest[]) => Promise<ParkOutcome[]>

export type ParkResult = {parked: ParkOutcome} | {failed: unknown}

export class ParkBatcher {
  private requests: ParkRequest[] = []
  private callbacks: Array<(result: ParkResult) => void> = []
  private timer: NodeJS.Timeout | undefined
  private sending = 0
  private idleWaiters: Array<() => void> = []

  constructor(
    private readonly sink: ParkSink,
    private readonly maxBatch = 100,
    private readonly maxDelayMs = 2,
  ) {}

  add(request: ParkRequest, done: (result: ParkResult) => void): void {
    this.requests.push(request)
    this.callbacks.push(done)
    if (this.requests.length >= this.maxBatch) this.send()
    else this.timer ??= setTimeout(() => this.send(), this.maxDelayMs)
  }

  /** Send what is queued and wait for every batch in flight (callers bound the wait). */
  async flush(): Promise<void> {
    this.send()
    if (this.sending === 0) return
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  /** Requests not yet answered. */
  get unsent(): number {
    return this.requests.length + this.sending
  }

  private send(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.requests.length === 0) return
    const requests = this.requests
    const callbacks = this.callbacks
    this.requests = []
    this.callbacks = []
    this.sending++
    void this.sink(requests)
      .then(
        (results) => callbacks.forEach((done, index) => done({parked: results[index]})),
        (error: unknown) => callbacks.forEach((done) => done({failed: error})),
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
