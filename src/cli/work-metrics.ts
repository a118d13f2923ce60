import {formatExposition} from '../core/metrics/exposition.js'
import {startMetricsServer, type MetricsServer} from '../core/metrics/metrics-server.js'
import {workerFamilies, type WorkerMetricsSource} from '../core/metrics/worker-metrics.js'

/** `qctl work --metrics-port`: the worker's metrics served at /metrics, read at each scrape (README, Metrics). */
export async function serveWorkerMetrics(worker: WorkerMetricsSource, port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  return startMetricsServer({host, port, collect: () => formatExposition(workerFamilies(worker)), flags: {host: '--metrics-host', port: '--metrics-port'}})
}
