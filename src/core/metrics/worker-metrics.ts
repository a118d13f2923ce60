import type {WorkerStats, WorkerTelemetry} from '../worker/worker.js'
import type {MetricFamily} from './exposition.js'
import type {Histogram} from './histogram.js'

/** What a worker's scrape reads: its summary counts so far, its telemetry, its handler durations. */
export interface WorkerMetricsSource {
  readonly options: {topic: string; group: string}
  readonly stats: WorkerStats
  readonly telemetry: WorkerTelemetry
  readonly instruments: {handlerDurations?: Histogram | undefined}
}

/**
 * A worker's metrics at scrape time, labelled by topic and group. The counters are the run's summary
 * counts (the same figures `--json` reports in `stats` and `summary`), read when scraped: the worker
 * does no per-message work for them. They start at 0 with the process (a counter reset for
 * Prometheus's rate()).
 */
export function workerFamilies(worker: WorkerMetricsSource): MetricFamily[] {
  const {topic, group} = worker.options
  const labels = {topic, group}
  const {stats, telemetry} = worker
  const counter = (name: string, help: string, value: number): MetricFamily => ({name, help, type: 'counter', samples: [{labels, value}]})
  const gauge = (name: string, help: string, value: number): MetricFamily => ({name, help, type: 'gauge', samples: [{labels, value}]})
  const durations = worker.instruments.handlerDurations
  return [
    counter('qctl_messages_processed_total', 'Messages whose handler succeeded (acknowledged, or being acknowledged).', stats.processed),
    counter('qctl_messages_retried_total', 'Failed handler calls that will be tried again after a backoff.', stats.retried),
    counter('qctl_messages_dead_lettered_total', 'Messages moved to the dead-letter stream (a PermanentError, or out of attempts).', stats.deadLettered),
    counter('qctl_messages_lost_total', 'Entries deleted or trimmed from the stream before a handler ran them.', stats.lost),
    counter('qctl_messages_duplicate_total', 'Second handlings this worker took part in (its acknowledgement or dead-letter move found the entry already handled).', stats.duplicates),
    ...(durations === undefined
      ? []
      : [{name: 'qctl_handler_duration_seconds', help: 'Time from calling the handler to its promise settling, successes and failures alike.', type: 'histogram', samples: [durations.sample(labels)]} satisfies MetricFamily]),
    gauge('qctl_messages_in_flight', 'Handler calls running now.', stats.inFlight),
    gauge('qctl_read_ahead_messages', 'Entries read ahead and held, not started yet.', stats.readAhead),
    counter('qctl_ack_batches_total', 'Acknowledgement batches Redis answered.', telemetry.ackBatches),
    {
      name: 'qctl_reconnects_total',
      help: 'Times a connection of the worker to Redis was lost and began reconnecting, by connection (reader: blocking reads; commands: everything else).',
      type: 'counter',
      samples: [
        {labels: {...labels, connection: 'reader'}, value: telemetry.reconnects.reader},
        {labels: {...labels, connection: 'commands'}, value: telemetry.reconnects.commands},
      ],
    },
    {
      name: 'qctl_last_ack_timestamp_seconds',
      help: 'When Redis last answered an acknowledgement batch of this worker (Unix time, seconds); absent before the first.',
      type: 'gauge',
      samples: telemetry.lastAckAtMs === undefined ? [] : [{labels, value: telemetry.lastAckAtMs / 1000}],
    },
  ]
}
