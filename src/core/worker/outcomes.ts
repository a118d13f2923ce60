import type {AttemptRecord} from './attempts.js'
import {backoffDelay} from './backoff.js'
import type {GroupOps} from './group-ops.js'
import {failureKind} from './handler-errors.js'
import {originalIdOfPairs} from './message.js'
import type {Tracked} from './tracked.js'
import type {ResolvedWorkerOptions} from './options.js'

const ERROR_MESSAGE_LIMIT = 1000

export const errorName = (error: unknown): string =>
  error instanceof Error ? error.name : typeof error === 'object' && error !== null && typeof (error as {name?: unknown}).name === 'string' ? String((error as {name: string}).name) : 'Error'

export const errorMessage = (error: unknown): string => {
  const text = error instanceof Error ? error.message : String(error)
  return text.length > ERROR_MESSAGE_LIMIT ? `${text.slice(0, ERROR_MESSAGE_LIMIT)}…` : text
}

/** A handler's error as every `retry` and `deadLettered` event carries it (`--json` too). */
export interface Failure {
  /** The error's name: its class (`PermanentError`, `TypeError`), or `Error` for a thrown non-error. */
  name: string
  /** Its message, the first 1,000 characters. */
  message: string
}

/** `Name: message`, for log lines and warnings. */
export const describeFailure = (failure: Failure): string => `${failure.name}: ${failure.message}`

/** What happened to an entry that did not succeed, for the summary and the events. */
export type FailureOutcome =
  | {kind: 'retry'; delayMs: number; error: Failure}
  | {kind: 'not-parked'; error: Failure}
  | {kind: 'dead-lettered'; dlqId: string; originId: string; error: Failure}
  | {kind: 'lost'}
  | {kind: 'duplicate'}
  /** A leased partition's entry whose move was refused: the lease is no longer this worker's (see OutcomeFence). */
  | {kind: 'fenced'}

/**
 * What fences the outcomes of a leased partition's entries (`--ordered` on a partitioned topic): its
 * dead-letter moves and attempt records are written only under the lease the worker holds, as its
 * acknowledgements are (ack-batcher.ts fencedLaneAcks), so a worker that lost the lease changes
 * nothing of what the partition's new holder handles.
 */
export interface OutcomeFence {
  /** The partition's lease as the worker holds it ("<token>:<owner>"); undefined once it knows it lost it. */
  lease: () => string | undefined
  /** A step refused (or not sent: `lease` undefined); the entry stays pending for the partition's next holder. */
  onFenced: (refused: {id: string; step: 'dead-letter move' | 'attempt record'; lease: string | undefined}) => void
}

/**
 * Records the failures of entries in Redis: a retry parked until its backoff is over, or a move to
 * the dead-letter stream. Times written into dead letters come from Redis's clock (`now`). A leased
 * partition's lane has a `fence`.
 */
export class Outcomes {
  constructor(
    private readonly ops: GroupOps,
    private readonly options: ResolvedWorkerOptions,
    private readonly now: () => number,
    private readonly fence?: OutcomeFence,
  ) {}

  /** A handler threw: dead-letter it (permanent, or its last attempt), or retry it after a backoff. */
  planFailure(tracked: Tracked, error: unknown): {kind: 'dead-letter'; failure: Failure} | {kind: 'retry'; delayMs: number; error: Failure} {
    const failure = {name: errorName(error), message: errorMessage(error)}
    if (failureKind(error) === 'permanent' || tracked.attempt >= this.options.maxAttempts) return {kind: 'dead-letter', failure}
    return {kind: 'retry', delayMs: backoffDelay(this.options.backoff, tracked.attempt, tracked.id), error: failure}
  }

  /** Move to the dead-letter stream with the failure and the attempt count, atomically with the acknowledgement. */
  async deadLetter(tracked: Tracked, failure: Failure): Promise<FailureOutcome> {
    const now = this.now()
    const first = tracked.record?.firstFailureMs || now
    // From a replay stream: the ID the message had on the topic, so a dead letter always names its topic entry.
    const originId = this.ops.lane === 'replay' ? originalIdOfPairs(tracked.id, tracked.entry.pairs) : tracked.id
    const metadata: Array<[string, string]> = [
      ['dlq.topic', this.options.topic],
      ['dlq.id', originId],
      ['dlq.group', this.options.group],
      ['dlq.consumer', this.options.consumer],
      ['dlq.attempts', String(tracked.attempt)],
      ['dlq.error-name', failure.name],
      ['dlq.error-message', failure.message],
      ['dlq.first-failure', new Date(first).toISOString()],
      ['dlq.last-failure', new Date(now).toISOString()],
    ]
    const {fence} = this
    const lease = fence?.lease()
    const outcome = fence === undefined ? await this.ops.deadLetter(tracked.id, metadata) : await this.ops.deadLetterFenced(tracked.id, metadata, lease)
    if (outcome.moved) return {kind: 'dead-lettered', dlqId: outcome.dlqId, originId, error: failure}
    if (outcome.reason === 'fenced') {
      fence?.onFenced({id: tracked.id, step: 'dead-letter move', lease})
      return {kind: 'fenced'}
    }
    return outcome.reason === 'deleted' ? {kind: 'lost'} : {kind: 'duplicate'}
  }

  /**
   * An ordered retry in place: the failed attempt's record, written whole (the entry stays this
   * consumer's). False when fenced: the entry is the partition's next holder's, not to be retried here.
   */
  async recordAttempt(id: string, record: AttemptRecord): Promise<boolean> {
    const {fence} = this
    if (fence === undefined) {
      await this.ops.recordAttempt(id, record)
      return true
    }
    const lease = fence.lease()
    if (await this.ops.recordAttemptFenced(id, record, lease)) return true
    fence.onFenced({id, step: 'attempt record', lease})
    return false
  }
}
