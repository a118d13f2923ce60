import type {ChalkInstance} from 'chalk'

import type {Worker, WorkerSummary} from '../core/worker/worker.js'
import {shown} from '../format/terminal-text.js'
import {formatDeadLetter, formatHandlerLog, formatLost, formatPartitionsAdded, formatRetry, formatStart, formatStatus, formatStopping, formatWorkSummary} from '../format/work.js'
import type {Spinner} from '../output/spinner.js'

/** json: JSON lines; terminal: a live status line; plain: log lines; quiet: nothing (the caller prints a result). */
export type ReportMode = 'json' | 'terminal' | 'plain' | 'quiet'

const STATUS_INTERVAL_MS = 250
const JSON_STATS_INTERVAL_MS = 5000
const PLAIN_STATS_INTERVAL_MS = 10_000

/**
 * Turns worker events into output: JSON lines (`--json`: start, retries, dead letters, periodic
 * stats, summary; never one per success), a live status line on a terminal, or plain log lines.
 */
export class WorkReporter {
  /** The summary was written: with --json nothing follows it on stdout. */
  private finished = false

  private timer: NodeJS.Timeout | undefined
  private lastStats = {at: Date.now(), handled: 0}
  private buffered = ''
  private flushScheduled: NodeJS.Immediate | undefined
  /** The status line printed last without a terminal: an idle worker prints it again only when it changes. */
  private lastPlainStatus = ''

  constructor(
    private readonly worker: Worker,
    private readonly mode: ReportMode,
    private readonly spinner: Spinner,
    private readonly style: ChalkInstance,
  ) {
    worker.on('started', (event) => this.event('start', event, () => formatStart(event, style)))
    worker.on('retry', (event) => this.event('retry', event, () => formatRetry(event, style)))
    worker.on('deadLettered', (event) => this.event('deadLetter', event, () => formatDeadLetter(event, style)))
    worker.on('lost', (event) => this.event('lost', event, () => formatLost(event, style)))
    worker.on('log', (event) => this.event('log', event, () => formatHandlerLog(event)))
    worker.on('warning', (event) => this.warn(event.message))
    worker.on('stopping', (event) => this.notice('stopping', event, formatStopping(event)))
    worker.on('partitionsAdded', (event) => this.notice('partitionsAdded', event, formatPartitionsAdded(event)))
    const interval = mode === 'terminal' ? STATUS_INTERVAL_MS : mode === 'json' ? JSON_STATS_INTERVAL_MS : PLAIN_STATS_INTERVAL_MS
    this.timer = setInterval(() => this.tick(), interval)
  }

  /**
   * A warning: a `warning` event with --json, else a line on stderr. With --json the summary is the
   * last event: a warning after it (something a connection said while closing) goes to stderr.
   */
  warn(message: string): void {
    if (this.mode === 'json' && !this.finished) this.json('warning', {message})
    else if (this.mode === 'json') process.stderr.write(`warning: ${shown(message)}\n`)
    // A warning may quote a handler or a key name: shown through the one sanitiser (--json keeps it exact).
    else if (this.mode !== 'quiet') process.stderr.write(`${this.style.yellow('warning:')} ${shown(message)}\n`)
  }

  /** A line about the run itself (on stderr, even without a terminal), or an event with --json. */
  notice(name: string, data: object, line: string): void {
    if (this.mode === 'json') {
      this.json(name, data)
      this.flush()
    } else if (this.mode !== 'quiet') process.stderr.write(`${line}\n`)
  }

  /** `line` is made only when it is printed: a retry storm makes an event per message. */
  private event(name: string, data: object, line: () => string): void {
    if (this.mode === 'json') this.json(name, data)
    else if (this.mode !== 'quiet') this.spinner.log(line())
  }

  /**
   * JSON lines are written once per turn of the event loop, not one write each: a retry storm makes
   * an event per message, and a write per line cost more than the retry itself. Lines about the end
   * of the run are written at once (`flush`), the exit hook included.
   */
  private json(name: string, data: object): void {
    this.buffered += `${JSON.stringify({event: name, ...data})}\n`
    this.flushScheduled ??= setImmediate(() => this.flush())
  }

  private flush(): void {
    if (this.flushScheduled !== undefined) clearImmediate(this.flushScheduled)
    this.flushScheduled = undefined
    if (this.buffered === '') return
    process.stdout.write(this.buffered)
    this.buffered = ''
  }

  /** Rate over the last interval, so the figure follows the traffic. */
  private rate(): number {
    const {stats} = this.worker
    const handled = stats.processed + stats.deadLettered
    const now = Date.now()
    const rate = now > this.lastStats.at ? Math.round(((handled - this.lastStats.handled) * 1000) / (now - this.lastStats.at)) : 0
    this.lastStats = {at: now, handled}
    return rate
  }

  private tick(): void {
    const {stats} = this.worker
    if (this.mode === 'quiet') return
    if (this.mode === 'terminal') this.spinner.update(formatStatus(stats, this.rate()))
    else if (this.mode === 'json') this.json('stats', {processed: stats.processed, retried: stats.retried, deadLettered: stats.deadLettered, lost: stats.lost, duplicates: stats.duplicates, inFlight: stats.inFlight, readAhead: stats.readAhead, rate: this.rate()})
    else {
      const line = formatStatus(stats, this.rate())
      if (line !== this.lastPlainStatus) process.stdout.write(`${line}\n`)
      this.lastPlainStatus = line
    }
  }

  finish(summary: WorkerSummary): void {
    this.finished = true
    clearInterval(this.timer)
    this.spinner.stop()
    if (this.mode === 'json') {
      this.json('summary', summary)
      this.flush()
    } else if (this.mode !== 'quiet') {
      process.stdout.write(`${formatWorkSummary(summary, this.style)}\n`)
    }
  }

  stop(): void {
    this.flush()
    clearInterval(this.timer)
    this.spinner.stop()
  }
}
