import type {Interfaces} from '@oclif/core'

import {Flags} from './oclif.js'
import {WORKER_OPTIONS, type OptionSpec, type WorkerOptionSpec} from '../core/worker/option-schema.js'
import {durationFlag} from '../flags.js'

/** The `qctl work` flags of the worker options, built from the option schema (help text ends with the default). */

type FlagOf<S extends WorkerOptionSpec> = S['kind'] extends 'integer' | 'duration'
  ? Interfaces.OptionFlag<number | undefined>
  : S['kind'] extends 'boolean'
    ? Interfaces.BooleanFlag<boolean>
    : S extends {choices: ReadonlyArray<infer C>}
      ? Interfaces.OptionFlag<C | undefined>
      : Interfaces.OptionFlag<string | undefined>

export type WorkerFlags = {[S in WorkerOptionSpec as S['flag']]: FlagOf<S>}

/** `30000` as `30s`, `3600000` as `1h`: how the flags take durations. */
export function durationText(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`
  return `${ms}ms`
}

/** The help sentence: the schema's summary, then where the value comes from when the flag is not given. */
export function helpOf(spec: OptionSpec): string {
  if (spec.kind === 'boolean') return spec.summary
  const value = spec.default === undefined ? spec.defaultText : spec.kind === 'duration' ? durationText(spec.default as number) : String(spec.default)
  const fromModule = spec.moduleExport === undefined ? '' : `the handler module's \`${spec.moduleExport}\` export, else `
  if (value === undefined) return `${spec.summary} Default: ${fromModule === '' ? 'none' : `the handler module's \`${spec.moduleExport}\` export`}.`
  return `${spec.summary} Default: ${fromModule}${value}.`
}

function flagOf(spec: OptionSpec): unknown {
  const common = {summary: helpOf(spec), ...(spec.char === undefined ? {} : {char: spec.char})}
  switch (spec.kind) {
    case 'integer':
      return Flags.integer({...common, ...(spec.min === undefined ? {} : {min: spec.min})})
    case 'duration':
      return durationFlag(common)
    case 'choice':
      return Flags.option({...common, options: spec.choices ?? []})()
    case 'boolean':
      return Flags.boolean(common)
    default:
      return Flags.string(common)
  }
}

export function workerFlags(): WorkerFlags {
  return Object.fromEntries(WORKER_OPTIONS.map((spec) => [spec.flag, flagOf(spec)])) as WorkerFlags
}
