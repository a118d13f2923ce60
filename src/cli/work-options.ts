import {basename, extname} from 'node:path'

import {usageError} from '../core/errors.js'
import type {LoadedHandler} from '../core/worker/load-handler.js'
import type {WorkerOptions} from '../core/worker/options.js'
import type {Handler} from '../core/worker/worker.js'

/** The `qctl work` flags that can also come from the handler module's exports. */
export interface WorkFlags {
  topic?: string | undefined
  group?: string | undefined
  consumer?: string | undefined
  concurrency?: number | undefined
  'max-attempts'?: number | undefined
  backoff?: string | undefined
  'backoff-delay'?: number | undefined
  'backoff-max'?: number | undefined
  'visibility-timeout'?: number | undefined
  'handler-timeout'?: number | undefined
  'shutdown-timeout'?: number | undefined
  from?: string | undefined
  dlq?: string | undefined
  'until-empty'?: boolean | undefined
  'max-messages'?: number | undefined
  prefetch?: number | undefined
}

/** Flags win over the module's exports; the group defaults to the handler file's base name. */
export function workerOptionsFrom(flags: WorkFlags, loaded: LoadedHandler): WorkerOptions {
  const {defaults} = loaded
  const topic = flags.topic ?? defaults.topic
  if (topic === undefined) throw usageError('no topic: give --topic, or export `topic` from the handler module')
  const backoff = flags.backoff ?? defaults.backoff
  if (backoff !== undefined && backoff !== 'exponential' && backoff !== 'fixed') {
    throw usageError(`backoff must be exponential or fixed, not "${backoff}"`)
  }
  return {
    topic,
    group: flags.group ?? defaults.group ?? basename(loaded.path, extname(loaded.path)),
    handler: loaded.handle as Handler,
    consumer: flags.consumer,
    concurrency: flags.concurrency ?? defaults.concurrency,
    maxAttempts: flags['max-attempts'] ?? defaults.maxAttempts,
    backoff: {
      ...(backoff === undefined ? {} : {kind: backoff}),
      ...pick('delayMs', flags['backoff-delay'] ?? defaults.backoffDelay),
      ...pick('maxMs', flags['backoff-max'] ?? defaults.backoffMax),
    },
    visibilityTimeoutMs: flags['visibility-timeout'] ?? defaults.visibilityTimeout,
    handlerTimeoutMs: flags['handler-timeout'] ?? defaults.handlerTimeout,
    shutdownTimeoutMs: flags['shutdown-timeout'],
    from: flags.from === 'latest' ? 'latest' : 'start',
    deadLetterTopic: flags.dlq,
    untilEmpty: flags['until-empty'],
    maxMessages: flags['max-messages'],
    prefetch: flags.prefetch,
  }
}

const pick = <K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> =>
  value === undefined ? {} : ({[key]: value} as Record<K, number>)
