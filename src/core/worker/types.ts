import type {RedisClient} from '../redis/client.js'
import type {Message} from './message.js'
import type {Failure} from './outcomes.js'

/** What a handler gets besides the message. */
export interface HandlerContext {
  /** Fired on shutdown (after --shutdown-timeout) or when --handler-timeout passes. */
  signal: AbortSignal
  attempt: number
  /**
   * `--ordered` on a partitioned topic: the fencing token of the message's partition lease. Every new
   * holder of a partition gets a larger one; pass it to what the handler writes so that a store can
   * refuse a worker that lost its lease while it still ran (keep the largest token seen, refuse
   * smaller ones). Undefined otherwise.
   */
  fencingToken: number | undefined
  /** Log a line through qctl's output (it respects --json). */
  log: (...args: unknown[]) => void
}

/** `Data`: what the handler takes `message.data` to be (qctl does not check it: the payload is whatever was published). */
export type Handler<Data = unknown> = (message: Message<Data>, context: HandlerContext) => unknown

export type StopReason = 'signal' | 'until-empty' | 'max-messages' | 'closed'

/** What the worker did, for the summary at exit (and `--json`). */
export interface WorkerSummary {
  topic: string
  group: string
  consumer: string
  processed: number
  retried: number
  deadLettered: number
  /** Entries deleted or trimmed from the stream before any handler ran them. */
  lost: number
  /** IDs of lost entries, the first 100. */
  lostIds: string[]
  /**
   * Second handlings this worker took part in: its acknowledgement found the entry already
   * acknowledged (another worker handled it too), or its dead-letter move found it gone.
   */
  duplicates: number
  /**
   * Entries this worker handled whose acknowledgement never reached Redis (it stopped answering):
   * they stay pending and will be delivered again, to this worker's account. Non-zero fails the run.
   */
  unacknowledged: number
  /** Running at shutdown and not finished within the shutdown timeout: left pending for others. */
  unfinished: number
  /** Read ahead but not started when the shutdown timeout ran out: released to other workers at once. */
  released: number
  durationMs: number
  /** Handled (processed + dead-lettered) per second. */
  rate: number
  stopReason: StopReason
  /** With `--trim-acked` only: entries it trimmed from the streams it read (behind every group). */
  trimmed?: number
}

export interface WorkerEvents {
  /**
   * `partitions`: 1 for a plain stream. `deadLetterKey` and `replayKey` are null for a partitioned
   * topic: each partition has its own (`{TOPIC:pN:…}:dlq`, `{TOPIC:pN:…}:replay:GROUP`).
   */
  started: [{topic: string; group: string; consumer: string; groupCreated: boolean; partitions: number; deadLetterKey: string | null; replayKey: string | null}]
  /**
   * `partition` (in `retry`, `deadLettered` and `log`): the partition of a partitioned topic the entry
   * belongs to (its stream's, or its replay stream's), null for a plain topic. `error`: the handler's
   * error, `{name, message}` (the same shape in every event that carries one).
   */
  retry: [{id: string; partition: number | null; attempt: number; delayMs: number; error: Failure}]
  /** `id`: the entry handled (in a replay stream, its ID there); `originId`: its topic entry ID, the dead letter's dlq.id (equal to `id` for an entry of the topic). */
  deadLettered: [{id: string; partition: number | null; originId: string; dlqId: string; attempts: number; error: Failure}]
  /** `qctl topic alter` added partitions while the worker ran: it reads `from` .. `to - 1` from now on, from their start. */
  partitionsAdded: [{topic: string; from: number; to: number}]
  lost: [{ids: string[]}]
  /** A handler's `ctx.log` line, with its entry's ID and partition. */
  log: [{id: string; partition: number | null; message: string}]
  warning: [{message: string}]
  /** The worker began a graceful stop: what it waits for. */
  stopping: [{running: number; queued: number; timeoutMs: number}]
}

/**
 * What the worker counts for its metrics (`qctl work --metrics-port`) beyond the summary's counts:
 * per acknowledgement batch and per lost connection, never per message.
 */
export interface WorkerTelemetry {
  /** Acknowledgement batches Redis answered (one XACK, or one fenced script call, each). */
  ackBatches: number
  /** When Redis last answered an acknowledgement batch (ms since the epoch, this host's clock); undefined before the first. */
  lastAckAtMs: number | undefined
  /** Times each of the worker's connections was lost and began reconnecting (a cluster's readers count together). */
  reconnects: {reader: number; commands: number}
}

/** Opens the worker's connections: blocking reads get their own, so they never delay acks. */
export type ConnectionFactory = (role: 'reader' | 'commands') => Promise<RedisClient>
