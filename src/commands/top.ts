import {Args, Flags} from '../cli/oclif.js'
import {BaseCommand} from '../base-command.js'
import {usageError} from '../core/errors.js'
import {readRowsBusiestKeys, type BusiestKey} from '../core/stats/busiest-keys.js'
import {serverVersion} from '../core/stats/server-info.js'
import {RedisSnapshotSource} from '../core/stats/snapshot-redis-source.js'
import {explainingConnectionErrors} from '../core/stats/snapshot-source.js'
import {sleep} from '../core/sleep.js'
import {durationFlag} from '../flags.js'
import {shown} from '../format/terminal-text.js'
import {formatTopSnapshot} from '../format/top.js'
import {tableTarget} from '../output/table-target.js'
import {sortRows} from '../format/top-model/layout.js'
import {rateRows, type RateRow} from '../core/stats/rates.js'

/** `qctl top --json` (and top off a terminal): one snapshot's rows, rates measured over one interval. */
export interface TopResult {
  /** When the second snapshot was taken (ISO 8601). */
  at: string
  /** The time between the two snapshots the rates come from. */
  intervalMs: number
  server: string | null
  /** On a Redis Cluster: its primaries (`host:port`) at the second reading; each row's `node` owns its topic. Null on a single server. */
  cluster: {nodes: string[]} | null
  rows: TopRow[]
  /** Keys skipped because they are not streams (a dead-letter key, a topic that changed type), also printed on stderr. */
  warnings: string[]
}

/** A row of `--json`: the figures, and the group's busiest keys (read with --json only; null otherwise, and for a row without a group or whose keys could not be read). */
export type TopRow = RateRow & {busiestKeys: BusiestKey[] | null}

const MIN_INTERVAL_MS = 100

export default class Top extends BaseCommand<typeof Top> {
  static override summary = 'A live terminal monitor of depth, in/out rates, lag, pending and dead letters per topic and group.'
  static override description = `Without TOPIC, every stream and partitioned topic in the database (and new ones as they appear; --match filters). Rates come from Redis's own counters between two refreshes (entries added; entries read minus pending growth for acknowledgements), so they count every producer and consumer, qctl or not. A SCHEDULED column appears while some topic holds messages scheduled with publish --delay / --at ("40 (3 due)": those past their due time are not being appended).

Keys: up/down (or k/j) select a row, Enter shows the group's consumers, oldest pending entries and, for a group that qctl work --ordered workers read, its BUSIEST KEYS (the most messages waiting behind an earlier one of their key), Esc goes back, s cycles the sort (lag, in-rate, out-rate, name), p pauses, q or Ctrl-C quits.

Trend marks: ■ stalled (lag or pending above 0 and no active consumer, or nothing acknowledged for 30s), ▲ growing (more in than out), ▼ draining (more out than in), = steady, · idle. A ↑ after LAG or DLQ means it grew since the last refresh. Colour repeats these marks: bold magenta for stalled, red for growing lag or dead letters, green for draining, dim for idle. IN and OUT sparklines of a row share one scale.

A partitioned topic (qctl topic create) is one row per group over all its partitions, as in qctl lag: depth, lag, pending and dead letters summed, the oldest pending entry across partitions, CONS the most any partition has, a group missing on a partition counting its entries as lag (with a warning); its rates are the partitions' rates summed. A PARTS column (shown while a partitioned topic is) gives its partition count; Enter shows the group over all partitions (pending entries with their partition) and a line per partition. Its partitions' streams are never rows. New partitioned topics are found by a SCAN step of their metadata keys; the metadata of known ones is re-read every 10 refreshes (topic alter).

A consumer is active when its idle time is under a minute (qctl workers beat every 10s, so an idle worker blocked in a read stays active on Redis 7.0). The dead letters of a deleted topic and groups reading a dead-letter stream get rows, as in qctl lag.

The live screen refreshes every --interval, or less often when a refresh cycle costs more than 4% of a core over it (thousands of topics): the header then says "every 7s (CPU budget; --interval 1s)". Still one round trip per refresh (on a Redis Cluster, one per primary, in parallel; the header says how many primaries); keys act at once on the last rows.

With --json, with --once, or when stdout is not a terminal: prints one snapshot (rates measured between two readings, the second starting one --interval after the first began) and exits 0.

A named TOPIC that does not exist exits 6 (--allow-missing: shown as absent), one that is not a stream exits 2; a dead-letter key (or a topic found by SCAN) that is not a stream is skipped with a warning (stderr; "warnings" in --json, with groups missing on partitions that hold entries). In --json, each row also has "partitions" (1 for a plain stream), "perPartition" (null, or the row's group on each partition) and "busiestKeys" (null without a group; else up to 10 {key, partition, waiting}, most waiting first, as the group's ordered workers report them: empty when none does).`
  static override examples = [
    '<%= config.bin %> top',
    '<%= config.bin %> top order.processed payment.settled --interval 2s',
    '<%= config.bin %> top --match "order.*"',
    '<%= config.bin %> top --json   # one snapshot for scripts',
  ]

  static override strict = false
  static override args = {topic: Args.string({description: 'Topics to show, plain or partitioned (default: every stream and partitioned topic).', ignoreStdin: true})}

  static override flags = {
    match: Flags.string({summary: 'Only topics whose name matches this glob (SCAN MATCH syntax; a partitioned topic by its name, not its partitions\' streams).'}),
    interval: durationFlag({summary: 'Time between refreshes (at least 100ms).', default: 1000, defaultHelp: async () => '1s'}),
    once: Flags.boolean({summary: 'Print one snapshot (rates between two readings one interval apart, or more over thousands of topics) and exit, even on a terminal.'}),
    'allow-missing': Flags.boolean({summary: 'Show named TOPICs that do not exist as absent, instead of exiting 6.'}),
  }

  async run(): Promise<TopResult | undefined> {
    const {flags} = this
    if (flags.interval < MIN_INTERVAL_MS) throw usageError(`--interval must be at least ${MIN_INTERVAL_MS}ms (got ${flags.interval}ms)`)
    if (this.positionals.length > 0 && flags.match !== undefined) throw usageError('give either TOPIC arguments or --match, not both')
    const selection = {topics: this.positionals.length > 0 ? this.positionals : undefined, match: flags.match, allowMissing: flags['allow-missing']}
    const live = !flags.once && !this.jsonEnabled() && process.stdout.isTTY === true && process.stdin.isTTY === true

    // Live: keep reconnecting and show the data as stale meanwhile; a refresh that gets no reply
    // within an interval (or a second; longer for refreshes that take longer, see RedisSnapshotSource)
    // fails, so the screen says so instead of freezing.
    const redis = await this.redis('top', live ? {reconnect: true, commandTimeoutMs: Math.max(1000, flags.interval)} : {})
    const server = await serverVersion(redis)
    const source = await RedisSnapshotSource.open(redis, selection)
    // Off the screen the first snapshot only starts the rates: its groups' counters are enough.
    const firstAsked = Date.now()
    const first = await source.first(live ? 'full' : 'rates')

    if (live) {
      // React's development build costs a third more CPU per frame; a monitor left open all day
      // should be cheap. Only when the user has not chosen (NODE_ENV is read when React loads).
      process.env.NODE_ENV ??= 'production'
      const {runTopScreen} = await import('../ui/run-top.js')
      const props = {source: explainingConnectionErrors(source, redis, (await this.connection()).errorContext), intervalMs: flags.interval, url: await this.displayUrl(), server, colour: this.stdoutDecorations.colour, initial: first}
      await runTopScreen(props, this.interruptSignal())
      // The screen has no room for them; said once it is closed.
      for (const warning of source.takeWarnings()) this.warnLine(warning)
      return undefined
    }

    // The second reading starts one interval after the first one started: over thousands of topics a
    // reading takes longer than a short interval, and the rates are over the time between the two
    // readings' ends (`intervalMs`), however long that turned out.
    await sleep(Math.max(0, firstAsked + flags.interval - Date.now()))
    const second = await source.refresh(null)
    const rows = sortRows(rateRows(first, second), 'name')
    // The live screen reads a group's busiest keys while its detail is open; --json, for every group.
    const keys = this.jsonEnabled() ? await readRowsBusiestKeys(redis, rows) : null
    const warnings = source.takeWarnings()
    if (typeof keys?.warning === 'string') warnings.push(keys.warning)
    for (const warning of warnings) this.warnLine(shown(warning))
    // --json prints the rows: the table is never built for it.
    if (!this.jsonEnabled()) this.log(formatTopSnapshot(rows, second.at - first.at, this.style, tableTarget(process.stdout)))
    const cluster = second.clusterNodes === undefined ? null : {nodes: second.clusterNodes}
    return {at: new Date(second.at).toISOString(), intervalMs: second.at - first.at, server, cluster, rows: rows.map((row, index) => ({...row, busiestKeys: keys?.keys[index] ?? null})), warnings}
  }
}
