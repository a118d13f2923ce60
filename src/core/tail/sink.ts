import {toEnvelope, type Envelope} from '../envelope/envelope.js'
import {keyGlob} from '../key-glob.js'

/**
 * One partition's stream and how far it was read (exclusive: the next entry shown is after
 * `after`). `after` moves only as entries are handed to the output (or passed over by --match), so
 * it is always where reading goes on: after a lost connection too, nothing is shown twice or skipped.
 */
export interface Lane {
  partition: number | null
  index: number
  stream: string
  after: string
}

/** The last entry shown: how far a read got. */
export interface LastShown {
  id: string
  partition: number | null
}

/** Whether entry `a` of partition index `ai` comes before `b` of `bi` in time order (ms of the ID, then partition). */
export function earlier(a: string, ai: number, b: string, bi: number): boolean {
  const am = a.slice(0, a.indexOf('-'))
  const bm = b.slice(0, b.indexOf('-'))
  if (am.length !== bm.length) return am.length < bm.length
  return am === bm ? ai < bi : am < bm
}

/** Filters (--match), counts (--limit) and hands entries to the output. */
export class Sink {
  entries = 0
  last: LastShown | undefined

  constructor(
    private readonly topic: string,
    private readonly limit: number | undefined,
    private readonly emit: (envelope: Envelope) => void | Promise<void>,
    private readonly matches: ((key: string) => boolean) | undefined,
  ) {}

  static of(topic: string, request: {limit?: number | undefined; match?: string | undefined}, emit: (envelope: Envelope) => void | Promise<void>): Sink {
    return new Sink(topic, request.limit, emit, request.match === undefined ? undefined : keyGlob(request.match))
  }

  get full(): boolean {
    return this.limit !== undefined && this.entries >= this.limit
  }

  offer(lane: Lane, id: string, pairs: Buffer[]): void | Promise<void> {
    lane.after = id
    const envelope = toEnvelope(this.topic, lane.partition, id, pairs)
    if (this.matches !== undefined && (envelope.key === null || !this.matches(envelope.key))) return undefined
    this.entries++
    this.last = {id, partition: lane.partition}
    return this.emit(envelope)
  }
}
