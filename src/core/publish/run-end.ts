import {QctlError} from '../errors.js'
import type {TopicLayout} from '../partitions/metadata.js'
import type {RedisClient} from '../redis/client.js'
import {keyTypeOf} from '../redis/key-type.js'
import {isWrongType, type RedisErrorContext} from '../redis/redis-errors.js'
import type {BatchPublisher} from './batch-publisher.js'
import {dataError, failureDuring, interrupted} from './publish-errors.js'
import type {PublishResult} from './publish.js'
import type {Invalid} from './validate-lines.js'

/** How a run of lines (NDJSON, envelopes) ends: its result, or the error that says how far it got; and its invalid lines. */

const MAX_REPORTED_LINES = 10

/**
 * The invalid lines of a run: with --skip-invalid skipped, counted and the first few named; without,
 * the first one ends the run (after what was sent before it is stored) with `file:line[:column]`.
 */
export class InvalidLines {
  count = 0
  readonly lines: number[] = []

  constructor(
    private readonly name: string,
    private readonly skip: boolean,
    private readonly publisher: BatchPublisher,
  ) {}

  async meet(line: number, problem: Invalid): Promise<void> {
    if (!this.skip) {
      await this.publisher.flush()
      const column = problem.column === undefined ? '' : `:${problem.column}`
      throw dataError(`${this.name}:${line}${column}`, problem, this.publisher.progress)
    }
    this.count++
    if (this.lines.length < MAX_REPORTED_LINES) this.lines.push(line)
    this.publisher.markSkipped(line)
  }
}

export interface RunEnd {
  client: RedisClient
  topic: string
  signal?: AbortSignal | undefined
  errorContext?: RedisErrorContext | undefined
  /** A failure of this run that says more than the general classification (a refused --keep-ids ID). */
  explain?: ((cause: unknown, stream: string) => QctlError | undefined) | undefined
}

/**
 * The error a run of lines stops with: interrupted (exit 130) once what was sent is answered, a
 * QctlError as it is, or the failure of a batch once every batch in flight is answered (the counts
 * are then final), with the stored count and where to resume.
 */
export async function failedRun(error: unknown, publisher: BatchPublisher, run: RunEnd): Promise<QctlError> {
  if (run.signal?.aborted === true) {
    // Stop reading, but let what was sent be acknowledged, so the count is exact.
    await publisher.flush().catch(() => undefined)
    return interrupted(publisher.progress, true)
  }
  if (error instanceof QctlError) return error
  // The read stopped by the failed batch throws an AbortError: the batch's error is the cause.
  const cause: unknown = publisher.failedSignal.aborted ? publisher.failedSignal.reason : error
  // Batches sent after the one that failed are answered too (or time out) before the counts are final.
  await publisher.settle()
  const stream = publisher.failedStream ?? run.topic
  const explained = run.explain?.(cause, stream)
  if (explained !== undefined) return explained
  const keyType = isWrongType(cause) ? await keyTypeOf(run.client, stream) : undefined
  return failureDuring(cause, {
    topic: stream,
    progress: publisher.progress,
    redis: run.errorContext,
    ndjson: true,
    keyType,
    storedAfterFailure: publisher.storedAfterFailure,
    inDoubt: publisher.inDoubt,
  })
}

/** What a finished run of lines published: the result of `qctl publish`. */
export function linesPublished(topic: string, layout: TopicLayout, publisher: BatchPublisher, skipped: InvalidLines, started: number): PublishResult {
  const {progress, partitions} = publisher
  const invalid = {skipped: skipped.count, skippedLines: skipped.lines}
  // Scheduled (--delay, --at): held in the schedules, none in a stream yet.
  if (publisher.scheduling) {
    const dueAt = publisher.firstDueMs === undefined ? {} : {dueAt: new Date(publisher.firstDueMs).toISOString()}
    return {topic, published: 0, firstId: null, lastId: null, ...invalid, deduplicated: publisher.deduplicated, scheduled: progress.published, ...dueAt, durationMs: Date.now() - started}
  }
  return {
    topic,
    published: progress.published,
    firstId: progress.firstId ?? null,
    lastId: progress.lastId ?? null,
    ...invalid,
    deduplicated: publisher.deduplicated,
    durationMs: Date.now() - started,
    ...(layout.metadata === undefined ? {} : {partitions: partitions ?? []}),
  }
}
