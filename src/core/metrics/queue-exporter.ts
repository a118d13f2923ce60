import type {Snapshot} from '../stats/snapshot.js'
import {formatExposition, type MetricFamily} from './exposition.js'
import {queueFamilies} from './queue-metrics.js'

/** Where the exporter reads: `top`'s snapshot source (one round trip per reading), with its warnings. */
export interface QueueReading {
  refresh(focus: null): Promise<Snapshot>
  takeWarnings(): string[]
}

export interface ScrapeCounts {
  scrapes: number
  /** Scrapes whose reading of Redis failed (answered with qctl_up 0). */
  failed: number
}

/**
 * The queue exporter's scrapes: each reads Redis when it comes (no background loop, so nothing is
 * read while nobody scrapes), and scrapes that arrive during a reading share it (two Prometheus
 * servers, or a retry, never double the load). A reading that fails (Redis unreachable, a command
 * refused) is not an HTTP error: the page says `qctl_up 0` and nothing else of the queues, as
 * redis_exporter's `redis_up` does, so an alert can tell "Redis or its ACL" from "exporter down"
 * (Prometheus's own `up`). `onError` hears a failure's reason (once while it repeats: a scrape every
 * 15 s must not log the same line all day), `onRecovered` the first success after failures,
 * `onWarning` the source's warnings (keys that are not streams, ...).
 */
export class QueueExporter {
  private reading: Promise<string> | undefined
  readonly counts: ScrapeCounts = {scrapes: 0, failed: 0}
  /** The last failure's reason, said already; undefined after a success. */
  private failing: string | undefined

  constructor(
    private readonly source: QueueReading,
    private readonly report: {onError: (message: string) => void; onRecovered: () => void; onWarning: (message: string) => void},
  ) {}

  async scrape(): Promise<string> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined
    })
    return this.reading
  }

  private async read(): Promise<string> {
    const started = performance.now()
    this.counts.scrapes++
    let families: MetricFamily[]
    let up = 1
    try {
      families = queueFamilies(await this.source.refresh(null))
      if (this.failing !== undefined) this.report.onRecovered()
      this.failing = undefined
    } catch (error) {
      this.counts.failed++
      up = 0
      families = []
      const message = error instanceof Error ? error.message : String(error)
      if (message !== this.failing) this.report.onError(message)
      this.failing = message
    }
    for (const warning of this.source.takeWarnings()) this.report.onWarning(warning)
    const gauge = (name: string, help: string, value: number): MetricFamily => ({name, help, type: 'gauge', samples: [{labels: {}, value}]})
    return formatExposition([
      gauge('qctl_up', 'Whether this scrape read Redis (1), or the reading failed (0: unreachable, timed out, refused; the exporter logs why).', up),
      gauge('qctl_scrape_duration_seconds', 'How long this scrape\'s reading of Redis took.', (performance.now() - started) / 1000),
      ...families,
    ])
  }
}
