import {toEnvelope, type Envelope} from '../envelope/envelope.js'
import {missingTopicsError} from '../errors.js'
import {keyGlob} from '../key-glob.js'
import {resolveTopic} from '../partitions/metadata.js'
import {isCluster, type RedisClient} from '../redis/client.js'
import type {TailFrom} from './from.js'

/**
 * `qctl tail`: a topic's entries as envelopes, read with XRANGE and XREAD only, so reading joins no
 * consumer group and changes nothing (no XREADGROUP: no group, no consumer, no pending entry).
 *
 * A bounded read (without `follow`) shows each partition's entries from `from` up to its last entry
 * when the read starts (entries added meanwhile are not waited for, so piping a topic into itself
 * ends), merged over the partitions in time order: by the milliseconds of the ID, then by partition.
 * `follow` then waits for new entries with XREAD BLOCK and shows them as they come: on one server
 * one XREAD over every partition, on a Redis Cluster one per partition (a read cannot span slots,
 * and a blocking read holds its connection), each on its own connection.
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

export interface TailHooks {
  /** Takes each entry shown, in order; a promise that resolves when the output has room again (backpressure). */
  emit: (envelope: Envelope) => void | Promise<void>
  /** Stops the read (Ctrl-C): what was shown stays shown. */
  signal?: AbortSignal | undefined
  /** A connection for blocking reads (`follow`): one is opened per partition on a cluster, one in all on one server. */
  connectReader?: (() => Promise<RedisClient>) | undefined
  /** Entries asked for per partition per read (default: 1,000 over the partitions, 10 to 200 each). */
  readBatch?: number | undefined
  blockMs?: number | undefined
}

/** How long one blocking read of `follow` waits before asking again (the reader's command timeout must exceed it). */
export const TAIL_BLOCK_MS = 5000

export interface TailSummary {
  /** Entries shown. */
  entries: number
  partitions: number
  /** Why it ended: the end of a bounded read, --limit reached, or the signal (or the output closed). */
  stopped: 'end' | 'limit' | 'signal'
}

type Row = [id: Buffer, pairs: Buffer[]]

/** One partition's stream and how far it was read (exclusive: the next entry shown is after `after`). */
interface Lane {
  partition: number | null
  index: number
  stream: string
  after: string
}

/** Whether entry `a` of partition index `ai` comes before `b` of `bi` in time order (ms of the ID, then partition). */
function earlier(a: string, ai: number, b: string, bi: number): boolean {
  const am = a.slice(0, a.indexOf('-'))
  const bm = b.slice(0, b.indexOf('-'))
  if (am.length !== bm.length) return am.length < bm.length
  return am === bm ? ai < bi : am < bm
}

/** Filters (--match), counts (--limit) and hands entries to the output. */
class Sink {
  entries = 0

  constructor(
    private readonly topic: string,
    private readonly request: TailRequest,
    private readonly emit: TailHooks['emit'],
    private readonly matches = request.match === undefined ? undefined : keyGlob(request.match),
  ) {}

  get full(): boolean {
    return this.request.limit !== undefined && this.entries >= this.request.limit
  }

  offer(lane: Lane, id: string, pairs: Buffer[]): void | Promise<void> {
    lane.after = id
    const envelope = toEnvelope(this.topic, lane.partition, id, pairs)
    if (this.matches !== undefined && (envelope.key === null || !this.matches(envelope.key))) return undefined
    this.entries++
    return this.emit(envelope)
  }
}

/** A partition's last entry ID now, or undefined when it has none (or no stream yet). */
async function lastIdOf(client: RedisClient, stream: string): Promise<string | undefined> {
  const [last] = await client.xrevrange(stream, '+', '-', 'COUNT', 1)
  return last?.[0]
}

/** The entries of every lane up to its `end`, merged in time order. */
async function readBounded(client: RedisClient, lanes: readonly Lane[], ends: ReadonlyArray<string | undefined>, sink: Sink, batch: number, signal: AbortSignal | undefined): Promise<void> {
  const cursors = lanes.map((lane, index) => ({lane, end: ends[index], readAfter: lane.after, rows: [] as Row[], at: 0, exhausted: ends[index] === undefined}))
  const fill = async (cursor: (typeof cursors)[number]): Promise<void> => {
    const rows = (await client.xrangeBuffer(cursor.lane.stream, `(${cursor.readAfter}`, cursor.end as string, 'COUNT', batch)) as Row[]
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

type XreadReply = Array<[stream: Buffer, rows: Row[]]> | null

/**
 * New entries as they come: blocking XREADs on `readers` (one over every lane on one server, one per
 * lane on a cluster), until the limit is reached or the signal stops it (the readers are then
 * disconnected, which ends a read that is waiting).
 */
async function follow(groups: ReadonlyArray<{reader: RedisClient; lanes: Lane[]}>, sink: Sink, batch: number, blockMs: number, signal: AbortSignal | undefined): Promise<void> {
  let stopping = false
  const stop = (): void => {
    stopping = true
    for (const {reader} of groups) reader.disconnect()
  }
  signal?.addEventListener('abort', stop, {once: true})
  if (signal?.aborted === true) stop()
  const loop = async ({reader, lanes}: {reader: RedisClient; lanes: Lane[]}): Promise<void> => {
    const byStream = new Map(lanes.map((lane) => [lane.stream, lane]))
    while (!stopping) {
      let reply: XreadReply
      try {
        reply = (await reader.xreadBuffer('COUNT', batch, 'BLOCK', blockMs, 'STREAMS', ...lanes.map((lane) => lane.stream), ...lanes.map((lane) => lane.after))) as XreadReply
      } catch (error) {
        if (stopping) return
        throw error
      }
      const rows: Array<{lane: Lane; id: string; pairs: Buffer[]}> = []
      for (const [stream, found] of reply ?? []) {
        const lane = byStream.get(stream.toString()) as Lane
        for (const [id, pairs] of found) rows.push({lane, id: id.toString(), pairs})
      }
      // One read's entries of several partitions, in time order too (sort is stable: each partition's own order stays).
      rows.sort((a, b) => (earlier(a.id, a.lane.index, b.id, b.lane.index) ? -1 : earlier(b.id, b.lane.index, a.id, a.lane.index) ? 1 : 0))
      for (const {lane, id, pairs} of rows) {
        if (stopping) return
        const room = sink.offer(lane, id, pairs)
        if (room !== undefined) await room
        if (sink.full) return stop()
      }
    }
  }
  try {
    await Promise.all(
      groups.map(async (group) =>
        loop(group).catch((error: unknown) => {
          if (!stopping) stop()
          throw error
        }),
      ),
    )
  } finally {
    signal?.removeEventListener('abort', stop)
  }
}

/** Show a topic's entries (see TailRequest); a plain topic that does not exist is NOT_FOUND (exit 6). */
export async function tail(client: RedisClient, request: TailRequest, hooks: TailHooks): Promise<TailSummary> {
  const layout = await resolveTopic(client, request.topic)
  if (layout.metadata === undefined && (await client.exists(request.topic)) === 0) throw missingTopicsError([request.topic])
  const partitioned = layout.metadata !== undefined
  const lanes: Lane[] = layout.streams.map((stream, index) => ({partition: partitioned ? index : null, index, stream, after: '0-0'}))
  const batch = hooks.readBatch ?? Math.max(10, Math.min(200, Math.floor(1000 / lanes.length)))
  const sink = new Sink(request.topic, request, hooks.emit)
  const summary = (): TailSummary => ({entries: sink.entries, partitions: lanes.length, stopped: sink.full ? 'limit' : hooks.signal?.aborted === true ? 'signal' : 'end'})
  if (sink.full) return summary()

  const ends = await Promise.all(lanes.map(async (lane) => lastIdOf(client, lane.stream)))
  const {from} = request
  lanes.forEach((lane, index) => {
    lane.after = from.kind === 'start' ? '0-0' : from.kind === 'after' ? from.id : (ends[index] ?? '0-0')
  })
  if (from.kind !== 'end') await readBounded(client, lanes, ends, sink, batch, hooks.signal)
  if (!request.follow || sink.full || hooks.signal?.aborted === true) return summary()

  const connect = hooks.connectReader ?? (async () => client)
  const perLane = isCluster(client) && lanes.length > 1
  const groups = perLane ? await Promise.all(lanes.map(async (lane) => ({reader: await connect(), lanes: [lane]}))) : [{reader: await connect(), lanes}]
  await follow(groups, sink, batch, hooks.blockMs ?? TAIL_BLOCK_MS, hooks.signal)
  return summary()
}
