import {Args, Flags} from '../cli/oclif.js'
import {BaseCommand} from '../base-command.js'
import {waitForGates} from '../core/lag/gate-wait.js'
import {deadLettersByGroup} from '../core/lag/dead-letters-by-group.js'
import {hasGates, lagRows, missingTopics, topicsToCountByGroup, withGates, type Gates, type LagRow} from '../core/lag/lag.js'
import {missingTopicsError} from '../core/errors.js'
import {statsOfNamedOrAll} from '../core/stats/named-or-all.js'
import {durationFlag} from '../flags.js'
import {formatGateFailure, formatGaveUp, formatLagTable, formatWaiting} from '../format/lag.js'
import {shown} from '../format/terminal-text.js'
import {startSpinner} from '../output/spinner.js'
import {tableTarget} from '../output/table-target.js'

export default class Lag extends BaseCommand<typeof Lag> {
  static override summary = 'Show lag, pending and dead letters per topic and consumer group; gate CI on thresholds.'
  static override description = `Without TOPIC, every stream in the database (SCAN TYPE stream; --match filters; on a Redis Cluster, of every primary, and a NODE column names the primary of each topic) and every partitioned topic (one row per group over all its partitions; --partitions: a row per partition). One row per consumer group: stream length, lag (entries not yet delivered to the group), pending (delivered, not acknowledged), age of the oldest pending entry, consumers (active in the last minute / total) and the group's dead letters. Messages scheduled with publish --delay / --at are in no stream until due, so in neither length nor lag: a SCHEDULED column (only when some topic has any) counts them, with how many are past their due time and not appended ("40 (3 due)": no worker or schedule run moves them); "scheduled" and "scheduledDue" in --json, null where the schedule could not be read. A named TOPIC that is not a stream exits 2; a key that is not a stream where a dead-letter stream (or a topic found by SCAN) should be is skipped with a warning (stderr, and the row's "warnings" in --json).

A named TOPIC that does not exist exits 6 naming it (--allow-missing leaves it out instead). With --group (repeatable), only those consumer groups: a topic that does not have one gets a row saying so.

Gates: if a row breaks --max-lag, --max-pending, --max-pending-age or --max-dlq, the command exits 8 and names the row and the gate. A row without a consumer group (a topic nothing reads, or without the --group named) breaks every group gate given (--max-lag, --max-pending, --max-pending-age): a gate never passes on what it cannot measure. With --wait it re-checks every second until every gate passes (exit 0) or the time is up (exit 8); the wait counts from the start, and a check Redis has not answered by the end of the wait plus --connect-timeout ends it with exit 3.`
  static override examples = [
    '<%= config.bin %> lag',
    '<%= config.bin %> lag order.processed --json',
    '<%= config.bin %> lag --match "order.*" --max-lag 1000 --max-dlq 0',
    '<%= config.bin %> lag order.processed --max-lag 0 --max-pending 0 --wait 5m   # wait until drained',
  ]

  static override strict = false
  static override args = {topic: Args.string({description: 'Topics to show (default: every stream).', ignoreStdin: true})}

  static override flags = {
    match: Flags.string({summary: 'Only topics whose key matches this glob (SCAN MATCH syntax).'}),
    group: Flags.string({
      summary: 'Only this consumer group (repeatable); a topic without it gets a row saying so, and fails the group gates.',
      multiple: true,
    }),
    partitions: Flags.boolean({summary: 'A partitioned topic\'s rows per partition (default: one row per group over all its partitions).'}),
    'allow-missing': Flags.boolean({summary: 'Leave out named TOPICs that do not exist, instead of exiting 6.'}),
    'max-lag': Flags.integer({summary: 'Fail (exit 8) if a group has more undelivered entries (or an unknown lag).', min: 0}),
    'max-pending': Flags.integer({summary: 'Fail (exit 8) if a group has more pending entries.', min: 0}),
    'max-pending-age': durationFlag({summary: 'Fail (exit 8) if a group\'s oldest pending entry has waited longer (since it was published; since its last delivery when its ID is in the future).'}),
    'max-dlq': Flags.integer({summary: 'Fail (exit 8) if a group (or a topic without groups) has more dead-lettered entries.', min: 0}),
    wait: durationFlag({summary: 'Re-check every second until all gates pass, for at most this long.'}),
  }

  async run(): Promise<LagRow[]> {
    const {flags} = this
    const startedAt = Date.now()
    const topics = this.positionals.length > 0 ? this.positionals : undefined
    const gates: Gates = {maxLag: flags['max-lag'], maxPending: flags['max-pending'], maxPendingAgeMs: flags['max-pending-age'], maxDlq: flags['max-dlq']}
    const redis = await this.redis('lag')
    const warned = new Set<string>()
    const warnOnce = (message: string): void => {
      if (!warned.has(message)) this.warnLine(shown(message))
      warned.add(message)
    }
    const measure = async (): Promise<LagRow[]> => {
      const stats = await statsOfNamedOrAll(redis, topics, {match: flags.match, onWarning: warnOnce, reading: 'lag'})
      const missing = topics === undefined || flags['allow-missing'] ? [] : missingTopics(topics, stats)
      if (missing.length > 0) throw missingTopicsError(missing)
      for (const topic of stats) for (const warning of topic.warnings) warnOnce(warning)
      const byGroup = await deadLettersByGroup(redis, topicsToCountByGroup(stats, flags.group))
      return withGates(lagRows(stats, Date.now(), flags.group, byGroup, flags.partitions), gates)
    }

    let rows: LagRow[]
    const waitMs = flags.wait
    if (waitMs !== undefined && hasGates(gates)) {
      const spinner = await startSpinner(this.stderrDecorations, 'checking the gates')
      const connection = await this.connection()
      try {
        rows = await waitForGates(measure, {
          startedAt,
          waitMs,
          graceMs: connection.connectTimeoutMs,
          errorContext: connection.errorContext,
          signal: this.interruptSignal(),
          onWaiting: (failed) => spinner.update(formatWaiting(failed, startedAt + waitMs - Date.now())),
        })
      } finally {
        spinner.stop()
      }
      const still = rows.flatMap((row) => row.failedGates).length
      // Said before the gates are named: the wait ran out, it did not crash.
      if (still > 0 && !this.jsonEnabled()) process.stderr.write(`${formatGaveUp(waitMs, still)}\n`)
    } else {
      rows = await measure()
    }
    const failing = (): boolean => rows.some((row) => row.failedGates.length > 0)

    // --json prints the rows: the table is never built for it (over 10,000 topics it was most of the time).
    if (!this.jsonEnabled()) this.log(rows.length === 0 ? 'No streams found.' : formatLagTable(rows, this.style, tableTarget(process.stdout)))
    if (failing()) {
      if (!this.jsonEnabled()) {
        for (const row of rows) for (const failure of row.failedGates) process.stderr.write(`${this.style.red('Gate failed:')} ${formatGateFailure(row, failure)}\n`)
      }
      // The rows (with their failedGates) are the output, in --json too; the exit code says it failed.
      process.exitCode = 8
    }
    return rows
  }
}
