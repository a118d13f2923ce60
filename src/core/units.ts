/** Human durations, byte sizes and counts: parsed for flags, written for messages. Pure; errors name the problem. */

const durationUnits: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/

/** `500ms`, `5s`, `1.5m`, `2h`, `1d`, `1w` (or `0`) to milliseconds; undefined when the text is not one. */
export function durationMs(text: string): number | undefined {
  const trimmed = text.trim()
  if (trimmed === '0') return 0
  const match = DURATION.exec(trimmed)
  if (match === null) return undefined
  return Math.round(Number(match[1]) * (durationUnits[match[2] ?? 's'] ?? 1000))
}

/** `500ms`, `5s`, `1.5m`, `2h`, `1d`, `1w` (or `0`) to milliseconds. A bare number is rejected: its unit would be a guess. */
export function parseDuration(text: string): number {
  const ms = durationMs(text)
  if (ms === undefined) throw new Error(`invalid duration "${text}": use a number with a unit (ms, s, m, h, d, w), e.g. 500ms, 5s, 2m, 1h, 7d, 1w`)
  return ms
}

const byteUnits: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
}

/** `1048576`, `512KiB`, `1MiB`, `1MB` (decimal), `1M` (binary) to bytes. */
export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const multiplier = match === null ? undefined : byteUnits[(match[2] ?? '').toLowerCase()]
  if (match === null || multiplier === undefined) {
    throw new Error(`invalid size "${text}": use bytes or a unit, e.g. 512KiB, 1MiB, 2MB`)
  }
  const bytes = Math.floor(Number(match[1]) * multiplier)
  if (bytes < 1) throw new Error(`invalid size "${text}": must be at least 1 byte`)
  return bytes
}

/**
 * A count with thousands separators, as `toLocaleString('en-US')` writes it. Whole numbers take a
 * plain path: ICU's formatter costs microseconds a call, and a table of 10,000 rows formats 80,000
 * counts (30 ms of `qctl top --once`'s table, measured with --cpu-prof). Anything else goes to ICU.
 */
export function formatCount(value: number): string {
  if (!Number.isSafeInteger(value)) return value.toLocaleString('en-US')
  // ICU writes -0 as "-0".
  const sign = value < 0 || Object.is(value, -0) ? '-' : ''
  const digits = String(Math.abs(value))
  let grouped = digits.slice(0, digits.length % 3 || 3)
  for (let at = grouped.length; at < digits.length; at += 3) grouped += `,${digits.slice(at, at + 3)}`
  return sign + grouped
}

/** A compact age for tables: 850ms, 42s, 3m12s, 2h05m, 3d04h. */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const seconds = Math.floor(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`
}
