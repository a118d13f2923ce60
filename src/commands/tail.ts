import {Args, Flags} from '../cli/oclif.js'
import {BaseCommand} from '../base-command.js'
import {QctlError} from '../core/errors.js'
import type {Envelope} from '../core/envelope/envelope.js'
import {parseFrom} from '../core/tail/from.js'
import {troubleText} from '../core/tail/outage.js'
import {TAIL_BLOCK_MS, tail, type TailEvent} from '../core/tail/tail.js'
import {plural} from '../format/numbers.js'
import {formatConnectionBack, formatConnectionLost, formatTailLine, formatTailPartitionsAdded, formatTailTopicRecreated} from '../format/tail.js'
import {LineWriter} from '../output/line-writer.js'

/** After Ctrl-C, how long the reader of stdout gets to take what was printed before the rest is dropped. */
const STOP_GRACE_MS = 1000

export default class Tail extends BaseCommand<typeof Tail> {
  static override summary = 'Print a topic\'s entries without joining any consumer group (XRANGE/XREAD only).'
  static override description = `On a terminal, one line per entry for people; piped, or with --json, one envelope per line (NDJSON: topic, partition, id, key, headers, data or dataBase64, publishedAt), which qctl publish --envelope reads back byte for byte. Without --follow it prints each partition's entries from --from up to its last entry when the read starts, merged in time order, and exits; with --follow it then prints new entries as they come until stopped (Ctrl-C, exit 0). A partitioned topic is read over all its partitions; with --follow, partitions that qctl topic alter adds are followed too, from their start (within 5s). With --follow a lost connection (Redis restarted, the network dropped it or went silent) is ridden out: qctl reconnects (200ms more between attempts, at most 5s, until Ctrl-C) and goes on after the last entry printed of each partition, saying so on stderr; without it a lost connection exits 3, saying how far the output got and the --from that goes on. Nothing is written to Redis: no group, no consumer, no acknowledgement.`
  static override examples = [
    '<%= config.bin %> tail order.processed --limit 20',
    '<%= config.bin %> tail order.processed --follow --match "customer-*"',
    '<%= config.bin %> tail order.processed --from 1h --json > last-hour.ndjson',
    '<%= config.bin %> tail order.processed --json | <%= config.bin %> publish order.copy --envelope -',
  ]

  static override args = {
    topic: Args.string({description: 'Topic: a stream key, or a partitioned topic (all its partitions).', required: true, ignoreStdin: true}),
  }

  static override flags = {
    from: Flags.string({
      summary: 'Where to start: start, end (only new entries), an entry ID, or a time: a duration ago (30m, 1h, 7d), ms since the epoch, an ISO time. Default: start, or end with --follow.',
      helpValue: '<start|end|id|time>',
    }),
    follow: Flags.boolean({char: 'f', summary: 'After the entries there are, wait for new ones and print them as they come, until stopped; follows partitions added meanwhile, and reconnects after a lost connection.'}),
    limit: Flags.integer({char: 'n', summary: 'Stop after N entries (in all, over the partitions; after --match).', min: 1, helpValue: '<n>'}),
    match: Flags.string({summary: 'Only entries whose message key matches this glob (* ? [abc] [^a-z], \\ escapes; entries without a key never match).', helpValue: '<glob>'}),
  }

  protected override jsonLines = true

  /**
   * Stopped while something would keep the process alive: output the reader of stdout held back
   * (what it did not take is dropped at exit), or, following through an outage, an attempt to
   * connect still under way (it may wait up to --connect-timeout).
   */
  private exitAtEnd = false

  override async finally(error: Error | undefined): Promise<void> {
    await super.finally(error)
    // Node never closes stdout, and output nobody reads would keep the process alive: exit (an error exits in catch).
    if (this.exitAtEnd && error === undefined) process.exit(0)
  }

  async run(): Promise<void> {
    const {flags, args} = this
    const from = parseFrom(flags.from ?? (flags.follow ? 'end' : 'start'), Date.now())
    const interrupted = this.interruptSignal()
    // Ends the read when the reader of stdout went away (`| head`): quietly, exit 0.
    const closed = new AbortController()
    const signal = AbortSignal.any([interrupted, closed.signal])
    const writer = new LineWriter(process.stdout, () => closed.abort(), signal)
    const envelopes = this.jsonEnabled() || process.stdout.isTTY !== true
    const style = this.style
    const columns = process.stdout.columns
    const emit = envelopes
      ? (envelope: Envelope) => writer.write(`${JSON.stringify(envelope)}\n`)
      : (envelope: Envelope) => writer.write(`${formatTailLine(envelope, style, columns)}\n`)
    const client = await this.redis('tail')
    const {commandTimeoutMs, errorContext} = await this.connection()
    // A blocking read waits TAIL_BLOCK_MS for an answer: its connection's bound on a reply is that much longer.
    const connectReader = async () => this.redis('tail:follow', {commandTimeoutMs: TAIL_BLOCK_MS + commandTimeoutMs})
    // With --follow, a lost connection is replaced by new ones (core/tail/outage.ts); said on stderr, stdout holds only entries.
    const connect = async () => this.redis('tail')
    const onEvent = (event: TailEvent): void => {
      if (event.event === 'connectionLost') this.warnLine(formatConnectionLost(troubleText(event.error, errorContext)))
      else if (event.event === 'connectionBack') this.warnLine(formatConnectionBack(errorContext.address, event.downMs, event.attempts))
      else if (event.event === 'partitionsAdded') process.stderr.write(`${formatTailPartitionsAdded(args.topic, event.from, event.to)}\n`)
      else this.warnLine(formatTailTopicRecreated(args.topic))
    }
    let summary
    try {
      const request = {topic: args.topic, from, follow: flags.follow, limit: flags.limit, match: flags.match}
      summary = await tail(client, request, {emit, signal, connect, connectReader, onEvent, errorContext})
    } finally {
      // Out before the process exits (an error exits at once); once stopped, only as long as the reader takes it.
      if (!interrupted.aborted) await writer.flush()
      else this.exitAtEnd = !(await writer.settle(STOP_GRACE_MS)) || flags.follow
    }
    if (interrupted.aborted && !flags.follow && summary.stopped === 'signal') {
      throw new QctlError('INTERRUPTED', `interrupted after ${plural(summary.entries, 'entry', 'entries')}`, {details: {entries: summary.entries}})
    }
  }
}
