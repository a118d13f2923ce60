/**
 * How many entries a worker reads ahead of its running handlers: about `windowMs` of handling at
 * the rate its handlers finish, between 1 and `max` (--prefetch).
 *
 * Why adaptive: a fast handler wants large reads (each read cycle costs a round trip, and the
 * handlers run through what is held in one go before the next reply is looked at, so a small batch
 * leaves them waiting for Redis: measured on 1M drains at concurrency 8, reads of 250 instead of 100
 * were ~10% faster). A slow handler wants the opposite: what it holds waits for it while other
 * consumers of the group may be idle (at 1 s a message and concurrency 8, a fixed read-ahead of 200
 * would hold 25 s of work). Twenty milliseconds of handling hides a read's round trip (well under a
 * millisecond on a LAN) many times over, and is little to hold back from other consumers.
 *
 * The rate is measured over at least one window (completions come in bursts: handlers awaiting the
 * same timer finish together, and a rate taken over a fraction of a millisecond once made a worker of
 * 20 ms handlers hold 90 entries instead of about 8). It also counts time the handlers spent waiting for
 * entries, which only slows growth: a drain reaches full-size reads after a window or two. The size
 * grows at once and shrinks by at most half per window, so one pause (a GC, a slow reply) does not
 * collapse it.
 */
export class ReadAhead {
  #size: number
  #sampledAt: number
  #finishedAtSample = 0

  constructor(
    private readonly max: number,
    private readonly maxReadCount: number,
    private readonly windowMs: number,
    now: number,
    initial: number,
  ) {
    this.#size = Math.min(max, Math.max(1, initial))
    this.#sampledAt = now
  }

  /** Entries to hold beyond the running handlers. */
  get size(): number {
    return this.#size
  }

  /** COUNT of the next read: half the read-ahead, so one batch is handled while the next is fetched. */
  get readCount(): number {
    return Math.min(this.maxReadCount, Math.max(1, Math.ceil(this.#size / 2)))
  }

  /** Before a read: `finished` is how many handler calls have finished so far, `now` in ms. */
  update(finished: number, now: number): void {
    const elapsed = now - this.#sampledAt
    if (elapsed < this.windowMs) return
    const wanted = Math.ceil(((finished - this.#finishedAtSample) / elapsed) * this.windowMs)
    this.#size = Math.min(this.max, Math.max(1, wanted, Math.floor(this.#size / 2)))
    this.#sampledAt = now
    this.#finishedAtSample = finished
  }
}
