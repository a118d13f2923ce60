import type {EventEmitter} from 'node:events'

import type {Histogram} from '../metrics/histogram.js'
import type {RedisClient} from '../redis/client.js'
import type {AckBatcher} from './ack-batcher.js'
import type {ConnectionHealth} from './connections.js'
import type {GroupOps} from './group-ops.js'
import type {ResolvedWorkerOptions} from './options.js'
import type {Outcomes} from './outcomes.js'
import type {ParkBatcher} from './park-batcher.js'
import type {WorkerEvents, WorkerSummary} from './types.js'

/** The summary's counters that change while the worker runs (see WorkerSummary for what each means). */
export type Tally = Pick<WorkerSummary, 'processed' | 'retried' | 'deadLettered' | 'lost' | 'lostIds' | 'duplicates'>

/**
 * One stream the worker reads for its group, with what it needs to take an entry to its outcome:
 * the topic, and the group's replay stream (entries `qctl dlq replay` re-delivers to this group
 * only). Each has its own retry state (keys.ts), so their unrelated entry IDs never mix.
 */
export interface Lane {
  readonly ops: GroupOps
  readonly acks: AckBatcher
  readonly parks: ParkBatcher
  readonly outcomes: Outcomes
  /** The partition of a partitioned topic the lane's stream belongs to; null for a plain topic. */
  readonly partition: number | null
  /** The connection that reads the lane (blocking reads): the worker's reader, or on a cluster its partition's own. */
  readonly reader: RedisClient
  /**
   * `--ordered --on-dead-letter hold-key`: the keys held on this lane's stream (shared by the
   * stream's lane and its replay stream's: a replayed message that succeeds releases its key).
   */
  readonly held: Set<string>
  /** Whether the lane is read and its entries may start (partition leases, `--ordered`); always open otherwise. */
  readonly gate: LaneGate
}

/**
 * A lane's partition as the worker holds it (`--ordered` on a partitioned topic: leases.ts). Without
 * leases every lane is always open.
 */
export interface LaneGate {
  /** Entries of the lane may be held: its partition is being taken over or read. */
  accepting: boolean
  /** New entries (`>`) are read (after the partition's pending entries were taken, in ID order). */
  reading: boolean
  /** Whether the lane's entries may start now: the partition's lease is valid on this worker's clock. */
  mayStart(): boolean
  /** How long a blocking read may wait: until shortly before the lease could lapse. */
  blockLimitMs(): number
  /** The partition lease's fencing token (grows with every new holder); undefined without leases. */
  token(): number | undefined
  /** An entry could not start because the lease lapsed on this worker's clock: stop the partition now. */
  lapsed(): void
}

/** The gate of a lane without leases: always open. */
export const OPEN_GATE: LaneGate = {accepting: true, reading: true, mayStart: () => true, blockLimitMs: () => Number.POSITIVE_INFINITY, token: () => undefined, lapsed: () => undefined}

/**
 * Lanes read together by one read loop, in one XREADGROUP (one round trip): all of them on one
 * server; on a Redis Cluster, which refuses a command over several slots, one partition's (its
 * stream and its replay stream share the partition's slot), each group with a reader of its own so
 * that a blocking read on one partition never holds another's.
 */
export interface ReadGroup {
  readonly reader: RedisClient
  /** Grows on one server when `qctl topic alter` adds partitions (Worker.addPartitions). */
  readonly lanes: Lane[]
  /** Entries each lane brought in its last read (the share of the next read follows them: read-shares.ts). */
  readonly lastRows: Map<Lane, number>
  /** Where readShares starts handing out single entries when there is less room than streams: turns with every read. */
  readonly rotation: {next: number}
}

/** Send every lane's waiting parks and acknowledgements. */
export async function flushLanes(lanes: readonly Lane[]): Promise<void> {
  await Promise.all(lanes.flatMap((lane) => [lane.parks.flush(), lane.acks.flush()]))
}

/** Acknowledgements and parks queued and not yet sent, over every lane. */
export const unsentOf = (lanes: readonly Lane[]): number => lanes.reduce((sum, lane) => sum + lane.acks.unsent + lane.parks.unsent, 0)

/**
 * Everything one run of a worker works with, made once the connections are open: no fields
 * assigned late and cast. The loops and the dispatcher take it as their context.
 */
export interface Session {
  readonly options: ResolvedWorkerOptions
  readonly commands: RedisClient
  /**
   * Every lane: per partition (one for a plain topic), the stream's lane first, then its replay
   * stream's. Grows (with `readGroups` and `partitions`) when `qctl topic alter` adds partitions.
   */
  readonly lanes: Lane[]
  /** How the lanes are read (see ReadGroup). */
  readonly readGroups: ReadGroup[]
  /** The topic's partition count (1 for a plain stream). */
  partitions: number
  /** Whether the topic is partitioned (it has metadata), even with one partition. */
  readonly partitioned: boolean
  readonly health: ConnectionHealth
  readonly tally: Tally
  /** Where handler durations (seconds) are observed: only with metrics on (no clock read per message otherwise). */
  readonly handlerDurations: Histogram | undefined
  readonly events: EventEmitter<WorkerEvents>
  /** Aborted when the worker stops reading (a graceful stop begins). */
  readonly stopSignal: AbortSignal
  /** Redis's clock, ms, estimated from the local clock and an offset measured at start. */
  now(): number
  warn(message: string): void
  reportLost(ids: readonly string[]): void
  /** Stop the worker with this error (a refusal that would recur on every entry). */
  fail(error: unknown): void
}

const MAX_LOST_IDS = 100

/** Count lost entries (deleted or trimmed before any handler ran them) and say which. */
export function reportLost(tally: Tally, events: EventEmitter<WorkerEvents>, ids: readonly string[]): void {
  if (ids.length === 0) return
  tally.lost += ids.length
  for (const id of ids) if (tally.lostIds.length < MAX_LOST_IDS) tally.lostIds.push(id)
  events.emit('lost', {ids: [...ids]})
}
