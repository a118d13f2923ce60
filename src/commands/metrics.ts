import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand} from '../base-command.js'
import {usageError} from '../core/errors.js'
import {startMetricsServer} from '../core/metrics/metrics-server.js'
import {QueueExporter} from '../core/metrics/queue-exporter.js'
import {RedisSnapshotSource} from '../core/stats/snapshot-redis-source.js'
import {explainingConnectionErrors} from '../core/stats/snapshot-source.js'
import {shown} from '../format/terminal-text.js'

/** `qctl metrics --json`: the last line, when it stops (the first is `{"event":"listening","url":…}`). */
export interface MetricsResult {
  event: 'stopped'
  url: string
  /** Scrapes answered (scrapes that came during a reading shared it and count once). */
  scrapes: number
  /** Of those, readings of Redis that failed (answered with qctl_up 0). */
  failedScrapes: number
}

/** Connection states in which a command would only wait for a reconnect. */
const DOWN = new Set(['reconnecting', 'close', 'end'])

export default class Metrics extends BaseCommand<typeof Metrics> {
  static override summary = 'Serve queue metrics for Prometheus: length, lag, pending, oldest pending age, dead letters, consumers and scheduled messages per topic and group.'
  static override description = `Serves http://HOST:PORT/metrics in Prometheus's text format until SIGINT/SIGTERM. Each scrape reads Redis then, with qctl top's snapshot: one round trip however many topics (on a Redis Cluster, one per primary), nothing read between scrapes. Names follow redis_exporter's stream metrics where it exports the same figure (qctl_stream_group_lag is its redis_stream_group_lag), labelled by topic and group; README, Metrics, lists them.

Without TOPIC, every stream and partitioned topic (and new ones as they appear; --match filters), as in qctl top. A named TOPIC that does not exist at start exits 6 (--allow-missing: left out until it does). Redis is read once before listening, so a wrong URL, password or ACL exits at once (3, 4); a port in use exits 2.

A scrape whose reading fails later (Redis unreachable or not answering within --command-timeout, a command refused) answers 200 with qctl_up 0 and no queue figures, and says why on stderr once until a reading succeeds again; an alert on qctl_up == 0 tells it apart from the exporter being down (Prometheus's up == 0). The connection reconnects by itself.`
  static override examples = [
    '<%= config.bin %> metrics --port 9465',
    '<%= config.bin %> metrics --port 9465 --host 0.0.0.0 --match "order.*"',
    '<%= config.bin %> metrics order.processed payment.settled --port 9465',
  ]

  static override strict = false
  static override args = {topic: Args.string({description: 'Topics to export, plain or partitioned (default: every stream and partitioned topic).', ignoreStdin: true})}

  static override flags = {
    port: Flags.integer({summary: 'The port to serve /metrics on (0: any free port; the address is printed).', required: true, min: 0, max: 65_535}),
    host: Flags.string({summary: 'The address to listen on (0.0.0.0 or :: for every interface).', default: '127.0.0.1'}),
    match: Flags.string({summary: 'Only topics whose name matches this glob (SCAN MATCH syntax; a partitioned topic by its name).'}),
    'allow-missing': Flags.boolean({summary: 'Named TOPICs that do not exist are left out (until they do) instead of exiting 6.'}),
  }

  protected override jsonLines = true

  async run(): Promise<MetricsResult> {
    const {flags} = this
    if (this.positionals.length > 0 && flags.match !== undefined) throw usageError('give either TOPIC arguments or --match, not both')
    const interrupted = this.interruptSignal()
    const selection = {topics: this.positionals.length > 0 ? this.positionals : undefined, match: flags.match, allowMissing: flags['allow-missing']}
    // Reconnects by itself; a reading with no reply within --command-timeout fails that scrape (qctl_up 0).
    const redis = await this.redis('metrics', {reconnect: true, commandTimeoutMs: flags['command-timeout']})
    const source = await RedisSnapshotSource.open(redis, selection)
    // A first reading before listening: what would fail every scrape (a missing topic, the ACL) exits now.
    await source.first()
    // While the connection is down a reading would only wait out --command-timeout (as long as
    // Prometheus's default scrape timeout): such a scrape fails at once, with the connection's own error.
    const failFast = {refresh: async (focus: null) => (DOWN.has(redis.status) ? Promise.reject(new Error('not connected')) : source.refresh(focus))}
    const explained = explainingConnectionErrors(failFast, redis, (await this.connection()).errorContext)
    const exporter = new QueueExporter(
      {refresh: async (focus) => explained.refresh(focus), takeWarnings: () => source.takeWarnings()},
      {
        onError: (message) => this.warnLine(`a scrape could not read Redis (answered qctl_up 0): ${shown(message)}`),
        onRecovered: () => this.warnLine('Redis answers scrapes again (qctl_up 1)'),
        onWarning: (message) => this.warnLine(shown(message)),
      },
    )
    for (const warning of source.takeWarnings()) this.warnLine(shown(warning))
    const server = await startMetricsServer({host: flags.host, port: flags.port, collect: async () => exporter.scrape(), flags: {host: '--host', port: '--port'}})
    try {
      if (this.jsonEnabled()) this.logJson({event: 'listening', url: server.url})
      else this.log(`serving queue metrics at ${server.url} (Ctrl-C stops)`)
      await new Promise<void>((resolve) => {
        if (interrupted.aborted) resolve()
        else interrupted.addEventListener('abort', () => resolve(), {once: true})
      })
    } finally {
      await server.close()
    }
    return {event: 'stopped', url: server.url, scrapes: exporter.counts.scrapes, failedScrapes: exporter.counts.failed}
  }
}
