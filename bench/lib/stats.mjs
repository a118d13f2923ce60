// Small, dependency-free statistics for benchmark samples.

export function median(values) {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export const min = (values) => (values.length === 0 ? NaN : Math.min(...values))
export const max = (values) => (values.length === 0 ? NaN : Math.max(...values))

/** {median, min, max, n} of a list of numbers (undefined entries are ignored). */
export function summary(values) {
  const known = values.filter((value) => typeof value === 'number' && Number.isFinite(value))
  return {median: median(known), min: min(known), max: max(known), n: known.length}
}
