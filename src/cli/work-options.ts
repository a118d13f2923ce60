import {basename, extname} from 'node:path'

import {usageError} from '../core/errors.js'
import type {LoadedHandler} from '../core/worker/load-handler.js'
import {optionSpec, type OptionSpec, type WorkerOptionName, type WorkerOptionSpec} from '../core/worker/option-schema.js'
import {NEEDS_ORDERED, needsOrderedError, type WorkerOptions} from '../core/worker/options.js'
import type {Handler} from '../core/worker/worker.js'

/** The `qctl work` flags of the worker options (see option-schema.ts), as parsed. */
export type WorkFlags = Partial<Record<WorkerOptionSpec['flag'], string | number | boolean | undefined>>

/**
 * Each option from its flag, else from the handler module's export where the schema names one; what
 * neither gives is left to resolveWorkerOptions's defaults. The group defaults to the handler file's base name.
 */
export function workerOptionsFrom(flags: WorkFlags, loaded: LoadedHandler): WorkerOptions {
  const value = (name: WorkerOptionName): unknown => {
    const spec: OptionSpec = optionSpec(name)
    return flags[spec.flag as WorkerOptionSpec['flag']] ?? (spec.moduleExport === undefined ? undefined : loaded.defaults[spec.moduleExport])
  }
  const number = (name: WorkerOptionName): number | undefined => value(name) as number | undefined
  const string = (name: WorkerOptionName): string | undefined => value(name) as string | undefined
  const topic = string('topic')
  if (topic === undefined) throw usageError('no topic: give --topic, or export `topic` from the handler module')
  // Checked already: by oclif for the flag, by loadHandler for the export.
  const backoff = string('backoff') as 'exponential' | 'fixed' | undefined
  // Refused again by resolveWorkerOptions, which cannot tell a module's export from the flag.
  if (value('ordered') !== true) {
    for (const name of Object.keys(NEEDS_ORDERED) as Array<keyof typeof NEEDS_ORDERED>) {
      const spec: OptionSpec = optionSpec(name)
      if (flags[spec.flag as WorkerOptionSpec['flag']] !== undefined) throw needsOrderedError(name)
      if (spec.moduleExport !== undefined && loaded.defaults[spec.moduleExport] !== undefined) throw needsOrderedError(name, `the handler module's \`${spec.moduleExport}\` export`)
    }
  }
  return {
    topic,
    group: string('group') ?? basename(loaded.path, extname(loaded.path)),
    handler: loaded.handle as Handler,
    consumer: string('consumer'),
    concurrency: number('concurrency'),
    maxAttempts: number('maxAttempts'),
    backoff: {...pick('kind', backoff), ...pick('delayMs', number('backoffDelay')), ...pick('maxMs', number('backoffMax'))},
    visibilityTimeoutMs: number('visibilityTimeout'),
    handlerTimeoutMs: number('handlerTimeout'),
    shutdownTimeoutMs: number('shutdownTimeout'),
    from: string('from') as 'start' | 'latest' | undefined,
    deadLetterTopic: string('dlq'),
    ordered: value('ordered') as boolean | undefined,
    onDeadLetter: string('onDeadLetter') as 'continue' | 'hold-key' | undefined,
    leaseTimeoutMs: number('leaseTimeout'),
    untilEmpty: value('untilEmpty') as boolean | undefined,
    trimAcked: value('trimAcked') as boolean | undefined,
    maxMessages: number('maxMessages'),
    prefetch: number('prefetch'),
    pruneConsumersAfterMs: number('pruneConsumersAfter'),
  }
}

const pick = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> => (value === undefined ? {} : ({[key]: value} as Record<K, V>))
