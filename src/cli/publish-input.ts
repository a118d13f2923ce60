import {usageError} from '../core/errors.js'
import type {InputSource} from '../core/input/sources.js'

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
