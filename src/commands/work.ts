import {Args, Flags} from '../cli/oclif.js'
import {BaseCommand} from '../base-command.js'
import {runningQctlEntry} from '../cli/running-qctl-entry.js'
import {workerFlags} from '../cli/work-flags.js'
import {workerOptionsFrom} from '../cli/work-options.js'
import {flushTraces, handlerTracing} from '../cli/work-tracing.js'
import {WorkReporter} from '../cli/work-reporter.js'
import {holdHeapGrowth} from '../cli/heap-growth.js'
import {ExitCode, QctlError, usageError} from '../core/errors.js'
import {Histogram} from '../core/metrics/histogram.js'
import {loadHandler} from '../core/worker/load-handler.js'
import {MODULE_EXPORTS} from '../core/worker/option-schema.js'
import {waitForRedis} from '../core/redis/wait-for-redis.js'
import {Worker, WORKER_CONNECTION_OPTIONS, type ConnectionFactory} from '../core/worker/worker.js'
import {formatHandlerExit, formatStoppedNow} from '../format/work.js'
import {startSpinner} from '../output/spinner.js'

export default class Work extends BaseCommand<typeof Work> {
  static override summary = 'Run consumer workers: deliver a topic\'s messages to a handler module, with retries and dead-lettering.'
  static override description = `HANDLER is a .ts, .mts, .cts, .js, .mjs or .cjs file exporting \`default\` or \`handle\`: async (message, ctx) => void. It may also export ${MODULE_EXPORTS.map((spec) => spec.moduleExport).join(', ')}; flags override them.

Delivery is at least once: an entry is acknowledged after its handler succeeds; a PermanentError dead-letters it at once; any other error is retried with backoff until --max-attempts deliveries, then dead-lettered. Entries of a worker that died are taken over after --visibility-timeout. On SIGINT/SIGTERM the worker stops reading, lets running handlers finish (up to --shutdown-timeout) and exits; a second signal exits at once (130).

message.traceparent is the producer's W3C trace context (qctl publish --traceparent). When @opentelemetry/api resolves from the handler's directory, each handler call runs in an OpenTelemetry span "process <topic>" (kind CONSUMER) linked to it.`
  static override examples = [
    '<%= config.bin %> work ./handler.ts --concurrency 8',
    '<%= config.bin %> work ./handler.ts --topic order.processed --group billing --max-attempts 3',
    '<%= config.bin %> work ./handler.mjs --until-empty --json',
    '<%= config.bin %> work ./handler.ts --topic order.processed --group billing --trim-acked',
    '<%= config.bin %> work ./handler.ts --topic order.processed --group billing --metrics-port 9464',
  ]

  static override args = {
    handler: Args.string({description: 'Handler module (.ts, .mts, .cts, .js, .mjs, .cjs), resolved against the current directory.', required: true, ignoreStdin: true}),
  }

  static override flags = {
    ...workerFlags(),
    'prune-consumers': Flags.boolean({summary: 'Prune idle, empty consumers (see --prune-consumers-after); --no-prune-consumers if you name consumers yourself.', default: true, allowNo: true}),
    'wait-for-redis': Flags.boolean({summary: 'If Redis cannot be reached at start, keep trying (100ms doubling to 5s, a warning each time) instead of exiting 3.'}),
    'metrics-port': Flags.integer({
      summary: 'Serve Prometheus metrics at http://HOST:PORT/metrics while the worker runs (README, Metrics).',
      description: 'Counters of processed, retried, dead-lettered, lost and duplicate messages, a histogram of handler durations, in-flight and read-ahead gauges, acknowledgement batches, reconnects and the last acknowledgement time, labelled by topic and group, read when scraped. 0 takes any free port. The address is printed on stderr (a "metrics" event with --json). A port in use exits 2 before anything is read.',
      min: 0,
      max: 65_535,
      helpGroup: 'METRICS',
    }),
    'metrics-host': Flags.string({
      summary: 'The address --metrics-port listens on (0.0.0.0 or :: for every interface). Default: 127.0.0.1.',
      helpGroup: 'METRICS',
    }),
  }

  protected override jsonLines = true

  async run(): Promise<void> {
    if (this.flags['metrics-port'] === undefined && this.flags['metrics-host'] !== undefined) throw usageError('--metrics-host needs --metrics-port')
    // Listen for signals before anything slow (loading a TypeScript handler): a stop during start-up exits 130 with a line.
    const interrupted = this.interruptSignal()
    const loaded = await loadHandler(this.args.handler, process.cwd(), {qctl: await runningQctlEntry()})
    if (interrupted.aborted) throw new QctlError('INTERRUPTED', 'stopped during start-up, before reading anything')
    const connect: ConnectionFactory = async (role) => {
      const open = async () => this.redis(`work:${role}`, WORKER_CONNECTION_OPTIONS[role])
      if (!this.flags['wait-for-redis']) return open()
      const onRetry = ({attempt, error, delayMs}: {attempt: number; error: Error; delayMs: number}): void =>
        reporter.warn(`${error.message}; waiting for Redis (--wait-for-redis): attempt ${attempt}, next in ${delayMs}ms`)
      return waitForRedis(open, {signal: this.interruptSignal(), onRetry})
    }
    const options = workerOptionsFrom(this.flags, loaded)
    const {tracing, warning} = handlerTracing(loaded.path, this.config.version)
    const metricsPort = this.flags['metrics-port']
    // Handler durations are timed only when someone can scrape them.
    const instruments = {handlerDurations: metricsPort === undefined ? undefined : new Histogram()}
    const worker = new Worker({...options, tracing, pruneConsumersAfterMs: this.flags['prune-consumers'] ? this.flags['prune-consumers-after'] : false}, connect, instruments)
    // Before the first read: a port in use is refused (exit 2) with nothing delivered to this consumer.
    // Loaded only when asked for: node:http would cost every worker memory and start-up time.
    const metrics = metricsPort === undefined ? undefined : await (await import('../cli/work-metrics.js')).serveWorkerMetrics(worker, metricsPort, this.flags['metrics-host'])
    const json = this.jsonEnabled()
    const spinner = await startSpinner(this.stderrDecorations, 'starting')
    const reporter = new WorkReporter(worker, json ? 'json' : this.stderrDecorations.spinner ? 'terminal' : 'plain', spinner, this.style)
    if (warning !== undefined) reporter.warn(warning)
    if (metrics !== undefined) reporter.notice('metrics', {url: metrics.url}, `serving metrics at ${metrics.url}`)
    interrupted.addEventListener('abort', () => worker.close('signal'), {once: true})
    // The process can end under the worker: a second signal (exit 130 at once), or a handler calling process.exit.
    const onExit = (code: number): void => {
      const held = worker.inFlightCount
      if (code === ExitCode.interrupted && interrupted.aborted) {
        reporter.notice('stopped', {held}, formatStoppedNow(held))
        return
      }
      reporter.notice('handlerExit', {code, held}, formatHandlerExit(code, held))
      process.exitCode = ExitCode.handlerLoad
    }
    process.on('exit', onExit)
    holdHeapGrowth()
    try {
      const summary = await worker.run()
      reporter.finish(summary)
      if (summary.unacknowledged > 0) {
        throw new QctlError('REDIS_UNAVAILABLE', `${summary.unacknowledged} handled entries could not be acknowledged (Redis stopped answering); they stay pending and will be delivered again`)
      }
      if (summary.unfinished > 0) {
        throw new QctlError('INTERRUPTED', `${summary.unfinished} handlers did not finish within --shutdown-timeout; their entries stay pending for other workers`)
      }
    } finally {
      // Spans a batching exporter still holds (a second Ctrl-C meanwhile still exits at once, with its line).
      const flushed = await flushTraces(tracing)
      if (flushed !== undefined) reporter.warn(flushed)
      process.off('exit', onExit)
      reporter.stop()
      await metrics?.close()
      // The summary is out: a handler module that keeps connections open (a database pool, a client
      // it never closes) must not keep the worker from exiting. A second to finish what it flushes.
      setTimeout(() => process.exit(), EXIT_GRACE_MS).unref()
    }
  }
}

/** How long a finished worker lets the handler module's own open handles finish before it exits. */
const EXIT_GRACE_MS = 1000
