import type {ChainableCommander, Redis} from 'ioredis'

import type {FieldValue} from '../wire-format.js'

export interface PublisherLimits {
  /** XADDs per pipeline (one write, one round trip). */
  batchSize: number
  /** Pipelines sent but not yet answered; bounds memory and keeps the connection busy. */
  maxInFlight: number
}

export const DEFAULT_PUBLISHER_LIMITS: PublisherLimits = {batchSize: 1000, maxInFlight: 4}

/** What Redis has acknowledged so far. */
export interface PublishProgress {
  published: number
  firstId: string | undefined
  lastId: string | undefined
  /** Every input line up to this one is acknowledged (or was skipped): resume after it. */
  lastAckedLine: number
}

interface Batch {
  pipeline: ChainableCommander
  lines: number[]
}

type ExecResult = Array<[error: Error | null, result: unknown]> | null

/**
 * Sends XADDs in pipelined batches with a bounded number in flight. Replies on one connection
 * arrive in order, so progress is exact: the first failed XADD stops the count, and every
 * line before it is known to be stored.
 */
export class PipelinedPublisher {
  readonly progress: PublishProgress = {published: 0, firstId: undefined, lastId: undefined, lastAckedLine: 0}
  private current: Batch | undefined
  private readonly inFlight: Array<Promise<void>> = []
  private failure: unknown

  constructor(
    private readonly client: Redis,
    private readonly topic: string,
    private readonly limits: PublisherLimits = DEFAULT_PUBLISHER_LIMITS,
  ) {}

  /** Queue one message; call `waitForRoom()` when `isFull` before queueing more. */
  push(line: number, fields: FieldValue[]): void {
    this.throwIfFailed()
    this.current ??= {pipeline: this.client.pipeline(), lines: []}
    this.current.pipeline.xadd(this.topic, '*', ...fields)
    this.current.lines.push(line)
    if (this.current.lines.length >= this.limits.batchSize) this.sendQueued()
  }

  /** Lines that were skipped (invalid) count as done for resuming once everything before them is. */
  markSkipped(line: number): void {
    if (this.current === undefined && this.inFlight.length === 0) this.progress.lastAckedLine = line
  }

  get isFull(): boolean {
    return this.inFlight.length >= this.limits.maxInFlight
  }

  /** Wait for the oldest pipeline's replies. */
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

  /** Send the partial batch now (input is idle: do not hold messages back waiting for a full batch). */
  sendQueued(): void {
    const batch = this.current
    if (batch === undefined) return
    this.current = undefined
    const done = (batch.pipeline.exec() as Promise<ExecResult>).then(
      (results) => this.record(batch, results),
      (error: unknown) => {
        this.failure ??= error
      },
    )
    const settled = done.finally(() => {
      this.inFlight.splice(this.inFlight.indexOf(settled), 1)
    })
    this.inFlight.push(settled)
  }

  private record(batch: Batch, results: ExecResult): void {
    if (results === null) {
      this.failure ??= new Error('Connection is closed.')
      return
    }
    for (const [index, [error, id]] of results.entries()) {
      if (this.failure !== undefined) return
      if (error !== null) {
        this.failure = error
        return
      }
      this.progress.published++
      this.progress.firstId ??= id as string
      this.progress.lastId = id as string
      this.progress.lastAckedLine = batch.lines[index] ?? this.progress.lastAckedLine
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure
  }
}
