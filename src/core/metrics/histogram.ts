import type {HistogramSample, Labels} from './exposition.js'

/**
 * Handler durations, in seconds: from a tenth of a millisecond (a no-op handler) to a minute (past
 * the default --handler-timeout nothing is usual). Prometheus's client defaults stop at 10 s and
 * start at 5 ms, which would put every fast handler in one bucket.
 */
export const HANDLER_DURATION_BOUNDS: readonly number[] = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/**
 * A histogram with fixed buckets, cheap enough to observe every message: no allocation, a scan of
 * the bounds from the smallest (fast handlers stop at the first few) and an increment in a typed
 * array. Counts are per bucket; the scrape makes them cumulative (exposition.ts).
 */
export class Histogram {
  private readonly counts: Float64Array
  private sum = 0

  constructor(private readonly bounds: readonly number[] = HANDLER_DURATION_BOUNDS) {
    for (let index = 1; index < bounds.length; index++) {
      if (!((bounds[index] as number) > (bounds[index - 1] as number))) throw new Error('histogram bounds must increase')
    }
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(value: number): void {
    const {bounds} = this
    let index = 0
    while (index < bounds.length && value > (bounds[index] as number)) index++
    this.counts[index] = (this.counts[index] as number) + 1
    this.sum += value
  }

  /** Observations so far. */
  get count(): number {
    let total = 0
    for (const count of this.counts) total += count
    return total
  }

  /** A copy of the state, for one scrape. */
  sample(labels: Labels): HistogramSample {
    return {labels, bounds: this.bounds, counts: Float64Array.from(this.counts), sum: this.sum}
  }
}
