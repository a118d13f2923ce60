/** Parsing of human durations and byte sizes used by flags. Pure; errors name the problem. */

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
