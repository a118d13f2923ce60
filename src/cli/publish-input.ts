import {usageError} from '../core/errors.js'
import type {InputSource} from '../core/input/sources.js'
import {parseTraceparent, quoteForError, TRACEPARENT_HEADER, TRACESTATE_HEADER, tracestateProblem} from '../core/trace/trace-context.js'

/** FILE, `-` (stdin) or --data as an input source. */
export function sourceFrom(file: string | undefined, data: string | undefined): InputSource {
  if (data !== undefined && file !== undefined) throw usageError('give either FILE or --data, not both')
  if (data !== undefined) return {kind: 'inline', text: data}
  if (file === undefined || file === '-') return {kind: 'stdin', stream: process.stdin}
  return {kind: 'file', path: file}
}

/** `--header name=value` flags as a header object; names must be non-empty and unique. */
export function parseHeaders(pairs: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>
  for (const pair of pairs) {
    const equals = pair.indexOf('=')
    if (equals <= 0) throw usageError(`invalid --header "${pair}": expected name=value`)
    const name = pair.slice(0, equals)
    if (Object.hasOwn(headers, name)) throw usageError(`--header "${name}" is given twice`)
    headers[name] = pair.slice(equals + 1)
  }
  return {...headers}
}

/** `--at`: an ISO 8601 time (`2026-12-24T18:00:00Z`, `2026-12-24`) or Unix milliseconds. */
export function parseAt(text: string): number {
  const trimmed = text.trim()
  if (/^\d{1,16}$/.test(trimmed)) return Number(trimmed)
  const parsed = /^\d{4}-\d{2}-\d{2}/.test(trimmed) ? Date.parse(trimmed) : Number.NaN
  if (Number.isNaN(parsed)) throw usageError(`invalid --at "${text}": use an ISO 8601 time (2026-12-24T18:00:00Z) or Unix milliseconds`)
  return parsed
}

/** Where the trace context of `qctl publish` comes from: its flags, and the environment (TRACEPARENT, TRACESTATE). */
export interface TraceInput {
  traceparent?: string | undefined
  tracestate?: string | undefined
  env: Readonly<Record<string, string | undefined>>
}

/**
 * `headers` with the W3C trace context added (README, "Traces"): `traceparent` from --traceparent,
 * else TRACEPARENT (the variable OpenTelemetry names for carrying context into a process), and
 * `tracestate` from --tracestate, else TRACESTATE, only beside a traceparent (W3C: a tracestate
 * belongs to its traceparent). A `--header traceparent=…` (or `tracestate=…`) counts as given by
 * flag: with --traceparent it is a usage error, and it keeps the variable from applying. Every
 * traceparent and tracestate is checked; an empty variable counts as unset.
 */
export function withTraceContext(headers: Readonly<Record<string, string>>, input: TraceInput): Record<string, string> {
  const result: Record<string, string> = {...headers}
  const parent = traceValue(headers, TRACEPARENT_HEADER, '--traceparent', input.traceparent, input.env['TRACEPARENT'])
  const state = traceValue(headers, TRACESTATE_HEADER, '--tracestate', input.tracestate, input.env['TRACESTATE'])
  if (parent !== undefined) {
    if (parseTraceparent(parent.value) === undefined) {
      throw usageError(`invalid ${parent.source} ${quoteForError(parent.value)}: a W3C traceparent is 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>, lowercase, ids not all zeros`)
    }
    result[TRACEPARENT_HEADER] = parent.value
  }
  if (state === undefined) return result
  if (parent === undefined) {
    // TRACESTATE alone is left alone (a tracestate means nothing without its traceparent); a flag is a mistake to report.
    if (state.source === 'TRACESTATE') return result
    throw usageError(`${state.source} needs a traceparent: give --traceparent (or set TRACEPARENT)`)
  }
  const problem = tracestateProblem(state.value)
  if (problem !== undefined) throw usageError(`invalid ${state.source} ${quoteForError(state.value)}: ${problem}`)
  result[TRACESTATE_HEADER] = state.value
  return result
}

/** The value of one trace header and where it came from: --header, its flag, or its variable (in that order). */
function traceValue(
  headers: Readonly<Record<string, string>>,
  name: string,
  flag: string,
  flagValue: string | undefined,
  envValue: string | undefined,
): {value: string; source: string} | undefined {
  const header = Object.hasOwn(headers, name) ? headers[name] : undefined
  if (header !== undefined && flagValue !== undefined) throw usageError(`give either ${flag} or --header ${name}=…, not both`)
  if (header !== undefined) return {value: header, source: `--header ${name}`}
  if (flagValue !== undefined) return {value: flagValue, source: flag}
  if (envValue !== undefined && envValue !== '') return {value: envValue, source: name.toUpperCase()}
  return undefined
}
