import {resolveTopic} from '../partitions/metadata.js'
import {isCluster, type RedisClient} from '../redis/client.js'
import {sleep} from '../sleep.js'
import {connectUnlessStopped} from './outage.js'
import {earlier, type Lane, type Sink} from './sink.js'

export type GrowthEvent = {event: 'partitionsAdded'; from: number; to: number} | {event: 'topicRecreated'}

export interface FollowOptions {
  topic: string
  partitioned: boolean
  /** The connection for what does not block (the topic's metadata); on a cluster, also says that readers go per partition. */
  commands: RedisClient
  connectReader: () => Promise<RedisClient>
  /** Entries asked for per partition per read, for the partitions read now. */
  batch: () => number
  blockMs: number
  growthPollMs: number
  signal: AbortSignal | undefined
  /** Called after each read Redis answered. */
  answered: () => void
  onEvent: ((event: GrowthEvent) => void) | undefined
  /** Said already that the topic was made again (kept over reconnects, so it is said once). */
  growth: {recreatedSaid: boolean}
}

type XreadReply = Array<[stream: Buffer, rows: Array<[id: Buffer, pairs: Buffer[]]>]> | null

/**
 * New entries as they come, after each lane's `after`: XREADs on readers of their own (one over
 * every lane on one server, one per lane on a cluster, where a read cannot span slots and a
 * blocking read holds its connection). Each reader's first read does not block: it shows what came
 * while it was away (after a reconnect) and proves the connection; the next ones wait `blockMs`.
 *
 * A partitioned topic's metadata is read again every `growthPollMs`: partitions `qctl topic alter`
 * added are followed from their start (so what was published there before this noticed is shown
 * too), on one server in the same XREAD from its next round, on a cluster on readers of their own.
 *
 * Ends when the limit is reached or the signal stops it (the readers are then disconnected, which
 * ends a read that is waiting), or with the first failure of any read (the others are stopped).
 */
export async function follow(lanes: Lane[], sink: Sink, options: FollowOptions): Promise<void> {
  const {signal} = options
  const readers: RedisClient[] = []
  const loops: Array<Promise<void>> = []
  const stopper = new AbortController()
  let failure: {error: unknown} | undefined
  const stopping = (): boolean => stopper.signal.aborted
  const stop = (error?: unknown): void => {
    if (stopping()) return
    if (error !== undefined) failure = {error}
    stopper.abort()
    for (const reader of readers) reader.disconnect()
  }
  const onAbort = (): void => stop()
  signal?.addEventListener('abort', onAbort, {once: true})

  /** A reader of its own, or undefined when stopped meanwhile. */
  const open = async (): Promise<RedisClient | undefined> => {
    const reader = await connectUnlessStopped(options.connectReader, stopper.signal)
    if (reader === undefined) return undefined
    if (stopping()) {
      reader.disconnect()
      return undefined
    }
    readers.push(reader)
    return reader
  }

  const readLoop = async (reader: RedisClient, group: Lane[]): Promise<void> => {
    let block = false
    while (!stopping()) {
      const streams = group.map((lane) => lane.stream)
      const after = group.map((lane) => lane.after)
      const count = options.batch()
      let reply: XreadReply
      try {
        reply = (
          block
            ? await reader.xreadBuffer('COUNT', count, 'BLOCK', options.blockMs, 'STREAMS', ...streams, ...after)
            : await reader.xreadBuffer('COUNT', count, 'STREAMS', ...streams, ...after)
        ) as XreadReply
      } catch (error) {
        if (stopping()) return
        throw error
      }
      block = true
      options.answered()
      // The lanes now: on one server the group is every lane, partitions added meanwhile included.
      const byStream = new Map(group.map((lane) => [lane.stream, lane]))
      const rows: Array<{lane: Lane; id: string; pairs: Buffer[]}> = []
      for (const [stream, found] of reply ?? []) {
        const lane = byStream.get(stream.toString()) as Lane
        for (const [id, pairs] of found) rows.push({lane, id: id.toString(), pairs})
      }
      // One read's entries of several partitions, in time order too (sort is stable: each partition's own order stays).
      rows.sort((a, b) => (earlier(a.id, a.lane.index, b.id, b.lane.index) ? -1 : earlier(b.id, b.lane.index, a.id, a.lane.index) ? 1 : 0))
      for (const {lane, id, pairs} of rows) {
        if (stopping()) return
        const room = sink.offer(lane, id, pairs)
        if (room !== undefined) await room
        if (sink.full) return stop()
      }
    }
  }

  const run = (reader: RedisClient, group: Lane[]): void => {
    loops.push(readLoop(reader, group).catch((error: unknown) => stop(error)))
  }

  const perLane = isCluster(options.commands)

  /** Partitions `qctl topic alter` added: followed from their start. */
  const growthLoop = async (): Promise<void> => {
    while (!stopping()) {
      await sleep(options.growthPollMs, stopper.signal)
      if (stopping()) return
      const layout = await resolveTopic(options.commands, options.topic)
      // Fewer streams (the topic deleted, or made again smaller) is not growth: the partitions read go on being read.
      if (layout.metadata === undefined || layout.streams.length <= lanes.length) continue
      // Growth keeps the old partitions' streams; other streams mean the topic was deleted and made again.
      if (!lanes.every((lane, index) => layout.streams[index] === lane.stream)) {
        if (!options.growth.recreatedSaid) options.onEvent?.({event: 'topicRecreated'})
        options.growth.recreatedSaid = true
        continue
      }
      const from = lanes.length
      const added = layout.streams.slice(from).map((stream, offset): Lane => ({partition: from + offset, index: from + offset, stream, after: '0-0'}))
      if (perLane) {
        const opened = await Promise.all(added.map(async () => open()))
        if (stopping()) return
        lanes.push(...added)
        added.forEach((lane, offset) => run(opened[offset] as RedisClient, [lane]))
      } else lanes.push(...added)
      options.onEvent?.({event: 'partitionsAdded', from, to: lanes.length})
    }
  }

  try {
    if (signal?.aborted === true) stop()
    if (perLane) {
      const opened = await Promise.all(lanes.map(async () => open()))
      if (!stopping()) lanes.forEach((lane, index) => run(opened[index] as RedisClient, [lane]))
    } else {
      const reader = await open()
      if (reader !== undefined) run(reader, lanes)
    }
    if (options.partitioned) loops.push(growthLoop().catch((error: unknown) => stop(error)))
    // Every loop ends once stopped, and each stops all when it fails or reaches the limit; loops
    // started meanwhile (new partitions) are waited for too.
    while (loops.length > 0) await loops.shift()
  } finally {
    signal?.removeEventListener('abort', onAbort)
    stop()
  }
  if (failure !== undefined) throw failure.error
}
