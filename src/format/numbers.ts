/** Number and time formatting shared by every human-readable output. Pure. */

import {formatCount} from '../core/units.js'

// Counts and ages are written in core too (messages such as qctl doctor's findings): one implementation.
export {formatAge, formatCount} from '../core/units.js'

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
