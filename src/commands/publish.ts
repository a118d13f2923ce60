import {Args, Flags} from '../cli/oclif.js'
import {BaseCommand} from '../base-command.js'
import {usageError} from '../core/errors.js'
import {DEFAULT_DEDUPE_WINDOW_MS, publish, type PublishResult} from '../core/publish/publish.js'
import {bytesFlag, durationFlag} from '../flags.js'
import {formatPublishProgress, formatPublishSummary} from '../format/publish.js'
import {startSpinner} from '../output/spinner.js'
import {parseAt, parseHeaders, sourceFrom, withTraceContext} from '../cli/publish-input.js'

export default class Publish extends BaseCommand<typeof Publish> {
  static override summary = 'Publish messages to a topic (a Redis stream) from a file, stdin or --data.'
  static override description = `A JSON document is one message. With --ndjson (automatic for .ndjson and .jsonl files) every non-empty line is one message, streamed with flat memory. Payloads are validated as JSON unless --raw; a bad NDJSON file publishes nothing (the error names file:line:column), a bad line on stdin stops the run after what was already sent. With --envelope every line is an envelope that qctl tail --json printed, stored as the entry it describes (payloads are not checked as JSON).`
  static override examples = [
    '<%= config.bin %> publish order.processed order.json',
    '<%= config.bin %> publish order.processed events.ndjson --key-field customer.id',
    'cat events.ndjson | <%= config.bin %> publish order.processed --ndjson',
    `<%= config.bin %> publish order.processed --data '{"orderId":42}' --key 42 --header source=checkout`,
    '<%= config.bin %> publish order.processed events.ndjson --idempotency-key-field order.id --dedupe-window 10m',
    `<%= config.bin %> publish order.reminder --data '{"orderId":42}' --idempotency-key reminder-42 --delay 30m --dedupe-window 1h`,
    '<%= config.bin %> publish order.reminder reminders.ndjson --at 2026-12-24T18:00:00Z',
    '<%= config.bin %> tail order.processed --json | <%= config.bin %> publish order.copy --envelope -',
    '<%= config.bin %> publish order.processed --envelope backup.ndjson --keep-ids',
    `<%= config.bin %> publish order.processed --data '{"orderId":42}' --traceparent 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`,
  ]

  static override args = {
    // ignoreStdin: stdin is message input, never an argument value.
    topic: Args.string({description: 'Topic: the stream key, used as given.', required: true, ignoreStdin: true}),
    file: Args.string({description: 'Input file; omit or use - for stdin.', ignoreStdin: true}),
  }

  static override flags = {
    data: Flags.string({char: 'd', summary: 'Publish this inline JSON document instead of reading a file.'}),
    ndjson: Flags.boolean({summary: 'One message per non-empty line (default for .ndjson/.jsonl files).', allowNo: true}),
    raw: Flags.boolean({summary: 'Publish the bytes as they are, without JSON validation.', exclusive: ['key-field', 'idempotency-key-field']}),
    key: Flags.string({char: 'k', summary: 'Message key for every message.', exclusive: ['key-field']}),
    'key-field': Flags.string({summary: 'Take each message key from this dotted path in the JSON record (e.g. customer.id).'}),
    header: Flags.string({char: 'H', summary: 'Add a header name=value (repeatable).', multiple: true, helpValue: '<name=value>'}),
    traceparent: Flags.string({
      summary: 'Add this W3C traceparent header to every message (default: $TRACEPARENT): qctl work links each handler\'s span to it.',
      helpValue: '<00-traceid-parentid-flags>',
    }),
    tracestate: Flags.string({summary: 'Add this W3C tracestate header beside the traceparent (default: $TRACESTATE).', helpValue: '<key=value,…>'}),
    'max-payload': bytesFlag({summary: 'Reject payloads larger than this, before sending.', default: 1024 * 1024, defaultHelp: async () => '1MiB'}),
    'skip-invalid': Flags.boolean({summary: 'Skip invalid lines (reported with their line numbers) instead of stopping.'}),
    'skip-lines': Flags.integer({summary: 'Skip the first N input lines (resume an interrupted NDJSON publish).', min: 0, default: 0}),
    partition: Flags.integer({summary: 'Publish every message to this partition of a partitioned topic (default: by key, murmur2(key) mod N; keyless messages spread batch by batch).', min: 0, helpValue: '<n>'}),
    'idempotency-key-field': Flags.string({
      summary: 'Publish each message once: a message whose key at this dotted path was published (or scheduled, with --delay/--at) to its stream within --dedupe-window is not stored again (counted as deduplicated).',
      exclusive: ['idempotency-key'],
    }),
    'idempotency-key': Flags.string({summary: 'Publish once under this idempotency key (every message of the input shares it: for a single --data or document).'}),
    delay: durationFlag({
      summary: 'Hold the messages this long (by Redis\'s clock) before they join the topic: a running qctl work of the topic, or qctl schedule run, appends them when due.',
      exclusive: ['at'],
    }),
    at: Flags.string({summary: 'Hold the messages until this time (ISO 8601, or Unix ms), then append them as --delay does.', helpValue: '<time>'}),
    'dedupe-window': durationFlag({
      summary: 'How long a published idempotency key keeps its message from being stored again (with --idempotency-key(-field); with --delay/--at, from when it is scheduled, not when due).',
      default: DEFAULT_DEDUPE_WINDOW_MS,
      defaultHelp: async () => '5m',
    }),
    envelope: Flags.boolean({
      summary: 'Each input line is an envelope, as qctl tail --json prints: store the entry it describes, key, headers and fields byte for byte.',
      exclusive: ['data', 'raw', 'key', 'key-field', 'header', 'ndjson', 'idempotency-key', 'idempotency-key-field', 'delay', 'at', 'traceparent', 'tracestate'],
    }),
    'keep-ids': Flags.boolean({
      summary: 'With --envelope: store each entry under its envelope\'s ID (IDs must increase; on a partitioned topic each entry stays in its partition).',
      dependsOn: ['envelope'],
      exclusive: ['partition'],
    }),
  }

  /** --delay / --at, or nothing. */
  private scheduling(): {schedule?: {mode: 'delay' | 'at'; ms: number}} {
    const {flags} = this
    if (flags.delay === undefined && flags.at === undefined) return {}
    if (flags.delay !== undefined) return {schedule: {mode: 'delay', ms: flags.delay}}
    return {schedule: {mode: 'at', ms: parseAt(flags.at as string)}}
  }

  /** The idempotency options, or nothing; --dedupe-window given without a key to publish once under is a usage error. */
  private idempotency(): {idempotencyKey?: string; idempotencyKeyField?: string; dedupeWindowMs?: number} {
    const {flags} = this
    const once = flags['idempotency-key'] !== undefined || flags['idempotency-key-field'] !== undefined
    if (!once) {
      if (this.argv.some((arg) => arg === '--dedupe-window' || arg.startsWith('--dedupe-window='))) {
        throw usageError('--dedupe-window needs --idempotency-key-field or --idempotency-key: without a key, every message is stored')
      }
      return {}
    }
    if (flags['dedupe-window'] <= 0) throw usageError('--dedupe-window must be longer than 0')
    return {
      ...(flags['idempotency-key'] === undefined ? {} : {idempotencyKey: flags['idempotency-key']}),
      ...(flags['idempotency-key-field'] === undefined ? {} : {idempotencyKeyField: flags['idempotency-key-field']}),
      dedupeWindowMs: flags['dedupe-window'],
    }
  }

  async run(): Promise<PublishResult> {
    const {flags, args} = this
    if (args.file === undefined && flags.data === undefined && process.stdin.isTTY) {
      throw usageError('no input: give a FILE, --data, or pipe messages into stdin (use - to read a terminal)')
    }

    // An envelope is stored as the entry it describes, its own traceparent included: TRACEPARENT does not apply.
    const headers = flags.envelope ? {} : withTraceContext(parseHeaders(flags.header ?? []), {traceparent: flags.traceparent, tracestate: flags.tracestate, env: process.env})
    const spinner = await startSpinner(this.stderrDecorations, `publishing to ${args.topic}`)
    const started = Date.now()
    try {
      const result = await publish(
        async () => this.redis('publish', {followFailover: false}),
        {
          topic: args.topic,
          source: sourceFrom(args.file, flags.data),
          ndjson: flags.ndjson,
          raw: flags.raw,
          key: flags.key,
          keyField: flags['key-field'],
          headers,
          maxPayloadBytes: flags['max-payload'],
          skipInvalid: flags['skip-invalid'],
          skipLines: flags['skip-lines'],
          partition: flags.partition,
          ...this.idempotency(),
          ...this.scheduling(),
          envelope: flags.envelope,
          keepIds: flags['keep-ids'],
        },
        {
          signal: this.interruptSignal(),
          errorContext: (await this.connection()).errorContext,
          onProgress: (progress) => spinner.update(formatPublishProgress(args.topic, progress, Date.now() - started)),
        },
      )
      spinner.stop()
      for (const line of formatPublishSummary(result, this.style)) this.log(line)
      return result
    } finally {
      spinner.stop()
    }
  }
}
