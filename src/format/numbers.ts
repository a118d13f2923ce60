/** Number and time formatting shared by every human-readable output. Pure. */

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

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`
  const totalSeconds = Math.round(ms / 1000)
  const minutes = Math.floor(totalSeconds / 60)
  const seconds = totalSeconds % 60
  return `${minutes}m${String(seconds).padStart(2, '0')}s`
}

/** Messages per second over `ms`, as a whole number; 0 when no time has passed. */
export const ratePerSecond = (count: number, ms: number): number => (ms <= 0 ? 0 : Math.round((count * 1000) / ms))

export const plural = (count: number, one: string, many = `${one}s`): string => `${formatCount(count)} ${count === 1 ? one : many}`

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

/** A byte count for people: 512 B, 61.2 KiB, 3.4 MiB, 1.2 GiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}
