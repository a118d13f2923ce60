/**
 * Every worker option once: its `qctl work` flag, the handler-module export that may set it, its kind,
 * bounds, default and help text. The flags (src/cli/work-flags.ts), the module exports a handler may
 * give (load-handler.ts) and the defaults and bounds of resolveWorkerOptions (options.ts) all come
 * from here, so a default is written once.
 */

export type OptionKind = 'string' | 'integer' | 'duration' | 'choice' | 'boolean'

export interface OptionSpec {
  /** The setting's name in workerSettings (and in WorkerOptions, with `Ms` for durations). */
  name: string
  /** The `qctl work` flag, without dashes. */
  flag: string
  char?: 'c' | 'g' | 't'
  /** The handler-module export that sets it when the flag is not given; none: flag only. */
  moduleExport?: string
  kind: OptionKind
  /** Smallest value (integers and durations, in ms). */
  min?: number
  choices?: readonly string[]
  /** Milliseconds for durations. None: no default, or one that depends on the run (`defaultText`). */
  default?: number | string | boolean
  /** How the help shows a default that is not a constant. */
  defaultText?: string
  /** One sentence for --help, without the default (added from `default`). */
  summary: string
}

export const WORKER_OPTIONS = [
  {name: 'topic', flag: 'topic', char: 't', moduleExport: 'topic', kind: 'string', summary: 'Topic (stream key) to consume.'},
  {name: 'group', flag: 'group', char: 'g', moduleExport: 'group', kind: 'string', defaultText: "the handler file's base name", summary: 'Consumer group.'},
  {name: 'consumer', flag: 'consumer', kind: 'string', defaultText: '<hostname>-<pid>', summary: 'Consumer name in the group.'},
  {name: 'concurrency', flag: 'concurrency', char: 'c', moduleExport: 'concurrency', kind: 'integer', min: 1, default: 1, summary: 'Handler calls in flight at most.'},
  {
    name: 'prefetch',
    flag: 'prefetch',
    kind: 'integer',
    min: 0,
    default: 500,
    summary: 'Most entries read ahead beyond the running handlers; the worker reads ahead about 20 ms of handling at its measured rate, up to this. With --ordered, one key holds at most prefetch / concurrency of them; a busy key\'s others are kept by ID only.',
  },
  {name: 'maxAttempts', flag: 'max-attempts', moduleExport: 'maxAttempts', kind: 'integer', min: 1, default: 5, summary: 'Deliveries before a failing entry is dead-lettered.'},
  {name: 'backoff', flag: 'backoff', moduleExport: 'backoff', kind: 'choice', choices: ['exponential', 'fixed'], default: 'exponential', summary: 'Retry delay growth.'},
  {name: 'backoffDelay', flag: 'backoff-delay', moduleExport: 'backoffDelay', kind: 'duration', min: 0, default: 1000, summary: 'First (or every, with fixed) retry delay.'},
  {name: 'backoffMax', flag: 'backoff-max', moduleExport: 'backoffMax', kind: 'duration', min: 0, default: 5 * 60_000, summary: 'Longest retry delay.'},
  {
    name: 'visibilityTimeout',
    flag: 'visibility-timeout',
    moduleExport: 'visibilityTimeout',
    kind: 'duration',
    min: 100,
    default: 30_000,
    summary: 'Take over entries of a consumer silent this long.',
  },
  {
    name: 'handlerTimeout',
    flag: 'handler-timeout',
    moduleExport: 'handlerTimeout',
    kind: 'duration',
    min: 1,
    defaultText: 'none',
    summary: 'Abort ctx.signal and count a transient failure after this long.',
  },
  {name: 'shutdownTimeout', flag: 'shutdown-timeout', kind: 'duration', min: 0, default: 30_000, summary: 'On SIGINT/SIGTERM, wait this long for running handlers.'},
  {name: 'from', flag: 'from', kind: 'choice', choices: ['start', 'latest'], default: 'start', summary: 'Where a new group starts reading.'},
  {name: 'dlq', flag: 'dlq', kind: 'string', defaultText: '{TOPIC}:dlq (same cluster slot as the topic)', summary: 'Dead-letter stream key.'},
  {
    name: 'ordered',
    flag: 'ordered',
    moduleExport: 'ordered',
    kind: 'boolean',
    default: false,
    summary: "Handle each key's messages one at a time, in stream order, retries included; on a partitioned topic, each partition is leased to one worker of the group.",
  },
  {
    name: 'onDeadLetter',
    flag: 'on-dead-letter',
    moduleExport: 'onDeadLetter',
    kind: 'choice',
    choices: ['continue', 'hold-key'],
    default: 'continue',
    summary: "With --ordered, when a message is dead-lettered: continue with the key's later messages (its order is broken there), or hold-key: dead-letter them too, in order, until the key is released.",
  },
  {
    name: 'leaseTimeout',
    flag: 'lease-timeout',
    kind: 'duration',
    min: 1000,
    default: 10_000,
    summary: 'With --ordered on a partitioned topic: a worker that stops renewing its partitions loses them after this long.',
  },
  {name: 'untilEmpty', flag: 'until-empty', kind: 'boolean', default: false, summary: 'Exit 0 once the group has nothing new, nothing pending and no retry waiting.'},
  {
    name: 'maxMessages',
    flag: 'max-messages',
    kind: 'integer',
    min: 1,
    defaultText: 'none',
    summary: 'Stop after N messages are handled (processed or dead-lettered; retried attempts do not count).',
  },
  {
    name: 'trimAcked',
    flag: 'trim-acked',
    kind: 'boolean',
    default: false,
    summary:
      'Trim each stream it reads as it goes (every 5 s, and on a clean exit), never past an entry any group of the stream has not been delivered yet or holds pending: for topics used only as queues. Needs XTRIM on the topic (README, qctl trim).',
  },
  {
    name: 'pruneConsumersAfter',
    flag: 'prune-consumers-after',
    kind: 'duration',
    min: 1000,
    default: 60 * 60_000,
    summary: 'Remove consumers of the group that hold nothing and were idle this long (left by killed workers).',
  },
] as const satisfies readonly OptionSpec[]

export type WorkerOptionSpec = (typeof WORKER_OPTIONS)[number]
export type WorkerOptionName = WorkerOptionSpec['name']

/** The spec of one option. */
export function optionSpec<N extends WorkerOptionName>(name: N): Extract<WorkerOptionSpec, {name: N}> {
  const spec = WORKER_OPTIONS.find((candidate) => candidate.name === name)
  if (spec === undefined) throw new Error(`no worker option ${name}`)
  return spec as Extract<WorkerOptionSpec, {name: N}>
}

/** An option's default (ms for durations), typed by the option. */
export const defaultOf = <N extends WorkerOptionName>(name: N): Extract<WorkerOptionSpec, {name: N}> extends {default: infer D} ? D : undefined =>
  (optionSpec(name) as {default?: unknown}).default as never

/** The options a handler module may set by exporting them. */
export const MODULE_EXPORTS = WORKER_OPTIONS.filter((spec): spec is Extract<WorkerOptionSpec, {moduleExport: string}> => 'moduleExport' in spec)
