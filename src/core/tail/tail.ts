import type {Envelope} from '../envelope/envelope.js'
import {missingTopicsError} from '../errors.js'
import {GROWTH_POLL_MS, resolveTopic} from '../partitions/metadata.js'
import type {RedisClient} from '../redis/client.js'
import type {RedisErrorContext} from '../redis/redis-errors.js'
import {follow, type GrowthEvent} from './follow.js'
import type {TailFrom} from './from.js'
import {connectUnlessStopped, isConnectionTrouble, Outage, type OutageEvent} from './outage.js'
import {earlier, Sink, type Lane} from './sink.js'
import {failureDuring} from './tail-errors.js'

/**
 * `qctl tail`: a topic's entries as envelopes, read with XRANGE and XREAD only, so reading joins no
 * consumer group and changes nothing (no XREADGROUP: no group, no consumer, no pending entry).
 *
 * A bounded read (without `follow`) shows each partition's entries from `from` up to its last entry
 * when the read starts (entries added meanwhile are not waited for, so piping a topic into itself
 * ends), merged over the partitions in time order: by the milliseconds of the ID, then by partition.
 * `follow` then waits for new entries with XREAD BLOCK and shows them as they come (follow.ts),
 * partitions `qctl topic alter` adds meanwhile included.
 *
 * With `follow`, a lost connection (Redis restarted, the network dropped it or went silent) is
 * ridden out: new connections are tried with reconnectDelayMs's waits until one works or the signal
 * stops it, and the read goes on from each partition's last entry shown (Lane.after), so nothing is
 * shown twice and nothing skipped. Without `follow` it ends the read, saying how far it got.
 *
 * Memory is bounded: at most `readBatch` entries per partition are held, and nothing more is read
 * until `emit` says the output took what it was given (its promise resolves: a slow reader of
 * stdout holds the reads back instead of growing memory).
 */
export interface TailRequest {
  topic: string
  from: TailFrom
  follow: boolean
  /** Stop after this many entries (after `match`). */
  limit?: number | undefined
  /** Only entries whose key matches this glob (key-glob.ts); entries without a key never match. */
  match?: string | undefined
}

/** What happened while following: a connection lost and back, partitions added, the topic made again. */
export type TailEvent = OutageEvent | GrowthEvent

export interface TailHooks {
  /** Takes each entry shown, in order; a promise that resolves when the output has room again (backpressure). */
  emit: (envelope: Envelope) => void | Promise<void>
  /** Stops the read (Ctrl-C): what was shown stays shown. */
  signal?: AbortSignal | undefined
  /**
   * A new connection for what does not block (the bounded read, the topic's metadata), after the
   * first one (`tail`'s client) was lost. Without it, a lost connection ends `follow` too.
   */
  connect?: (() => Promise<RedisClient>) | undefined
  /** A connection for blocking reads (`follow`): one is opened per partition on a cluster, one in all on one server. */
  connectReader?: (() => Promise<RedisClient>) | undefined
  /** Entries asked for per partition per read (default: 1,000 over the partitions, 10 to 200 each). */
  readBatch?: number | undefined
  blockMs?: number | undefined
  /** How often `follow` looks for partitions added to a partitioned topic (default GROWTH_POLL_MS, as workers). */
  growthPollMs?: number | undefined
  onEvent?: ((event: TailEvent) => void) | undefined
  /** Names Redis in the error of a read that lost its connection (tail-errors.ts). */
  errorContext?: RedisErrorContext | undefined
}

/** How long one blocking read of `follow` waits before asking again (the reader's command timeout must exceed it). */
export const TAIL_BLOCK_MS = 5000

export interface TailSummary {
  /** Entries shown. */
  entries: number
  /** Partitions read (with `follow`, those added while it ran included). */
  partitions: number
  /** Why it ended: the end of a bounded read, --limit reached, or the signal (or the output closed). */
  stopped: 'end' | 'limit' | 'signal'
}

type Row = [id: Buffer, pairs: Buffer[]]

/** Entries asked for per partition per read: 1,000 over the partitions, 10 to 200 each. */
const defaultBatch = (partitions: number): number => Math.max(10, Math.min(200, Math.floor(1000 / partitions)))

/** A partition's last entry ID now, or undefined when it has none (or no stream yet). */
async function lastIdOf(client: RedisClient, stream: string): Promise<string | undefined> {
  const [last] = await client.xrevrange(stream, '+', '-', 'COUNT', 1)
  return last?.[0]
}

/**
 * The entries of every lane after its `after` up to its `end`, merged in time order. Read again
 * after a reconnect, it goes on where the output stopped: `after` is the last entry shown.
 */
async function readBounded(client: RedisClient, lanes: readonly Lane[], ends: ReadonlyArray<string | undefined>, sink: Sink, batch: number, signal: AbortSignal | undefined, answered: () => void): Promise<void> {
  const cursors = lanes.map((lane, index) => ({lane, end: ends[index], readAfter: lane.after, rows: [] as Row[], at: 0, exhausted: ends[index] === undefined}))
  const fill = async (cursor: (typeof cursors)[number]): Promise<void> => {
    const rows = (await client.xrangeBuffer(cursor.lane.stream, `(${cursor.readAfter}`, cursor.end as string, 'COUNT', batch)) as Row[]
    answered()
    cursor.rows = rows
    cursor.at = 0
    cursor.exhausted = rows.length < batch
    const last = rows.at(-1)
    if (last !== undefined) cursor.readAfter = last[0].toString()
  }
  for (;;) {
    await Promise.all(cursors.filter((cursor) => cursor.at >= cursor.rows.length && !cursor.exhausted).map(fill))
    let next: (typeof cursors)[number] | undefined
    let nextId = ''
    for (const cursor of cursors) {
      const row = cursor.rows[cursor.at]
      if (row === undefined) continue
      const id = row[0].toString()
      if (next === undefined || earlier(id, cursor.lane.index, nextId, next.lane.index)) {
        next = cursor
        nextId = id
      }
    }
    if (next === undefined) return
    const [, pairs] = next.rows[next.at] as Row
    next.at++
    const room = sink.offer(next.lane, nextId, pairs)
    if (room !== undefined) await room
    if (sink.full || signal?.aborted === true) return
  }
}

/** Show a topic's entries (see TailRequest); a plain topic that does not exist is NOT_FOUND (exit 6). */
export async function tail(client: RedisClient, request: TailRequest, hooks: TailHooks): Promise<TailSummary> {
  const {signal} = hooks
  const layout = await resolveTopic(client, request.topic)
  if (layout.metadata === undefined && (await client.exists(request.topic)) === 0) throw missingTopicsError([request.topic])
  const partitioned = layout.metadata !== undefined
  const lanes: Lane[] = layout.streams.map((stream, index) => ({partition: partitioned ? index : null, index, stream, after: '0-0'}))
  const batch = (): number => hooks.readBatch ?? defaultBatch(lanes.length)
  const sink = Sink.of(request.topic, request, hooks.emit)
  const aborted = (): boolean => signal?.aborted === true
  const stopped = (): boolean => sink.full || aborted()
  const summary = (): TailSummary => ({entries: sink.entries, partitions: lanes.length, stopped: sink.full ? 'limit' : aborted() ? 'signal' : 'end'})
  if (sink.full) return summary()

  const ends = await Promise.all(lanes.map(async (lane) => lastIdOf(client, lane.stream)))
  const {from} = request
  lanes.forEach((lane, index) => {
    lane.after = from.kind === 'start' ? '0-0' : from.kind === 'after' ? from.id : (ends[index] ?? '0-0')
  })

  const outage = new Outage(hooks.onEvent)
  const growth = {recreatedSaid: false}
  let connection: RedisClient | undefined = client
  let caughtUp = from.kind === 'end'
  for (;;) {
    try {
      connection ??= await connectUnlessStopped(hooks.connect as () => Promise<RedisClient>, signal)
      if (connection === undefined) return summary()
      if (!caughtUp) await readBounded(connection, lanes, ends, sink, batch(), signal, outage.answered)
      caughtUp = true
      if (!request.follow || stopped()) return summary()
      await follow(lanes, sink, {
        topic: request.topic,
        partitioned,
        commands: connection,
        connectReader: hooks.connectReader ?? (async () => connection as RedisClient),
        batch,
        blockMs: hooks.blockMs ?? TAIL_BLOCK_MS,
        growthPollMs: hooks.growthPollMs ?? GROWTH_POLL_MS,
        signal,
        answered: outage.answered,
        onEvent: hooks.onEvent,
        growth,
      })
      return summary()
    } catch (error) {
      if (!request.follow || hooks.connect === undefined || !isConnectionTrouble(error)) {
        throw failureDuring(error, {entries: sink.entries, last: sink.last, partitioned}, hooks.errorContext)
      }
      if (aborted()) return summary()
      // Every connection goes (the readers went with the failed read): new ones are made for what comes next.
      connection?.disconnect()
      connection = undefined
      await outage.failed(error, signal)
      if (aborted()) return summary()
    }
  }
}
