const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']

/**
 * The last `width` values as a sparkline, scaled to the largest of them. Unknown values (null)
 * are a gap (a space), zero is the lowest bar: "no traffic" and "no data" must look different.
 */
export function sparkline(values: ReadonlyArray<number | null>, width: number): string {
  const shown = values.slice(-width)
  const max = Math.max(0, ...shown.map((value) => value ?? 0))
  const bars = shown.map((value) => {
    if (value === null) return ' '
    if (max === 0) return BARS[0]
    return BARS[Math.min(BARS.length - 1, Math.round((value / max) * (BARS.length - 1)))]
  })
  return bars.join('').padStart(width, ' ')
}

/**
 * `values` squeezed into at most `width` points by averaging runs of consecutive samples, so a
 * minute of one-second samples fits a narrow column. Runs are aligned to the newest sample; a run
 * whose samples are all unknown stays unknown.
 */
export function downsample(values: ReadonlyArray<number | null>, width: number): Array<number | null> {
  if (width <= 0) return []
  const size = Math.ceil(values.length / width)
  if (size <= 1) return [...values]
  const points: Array<number | null> = []
  for (let end = values.length; end > 0; end -= size) {
    const known = values.slice(Math.max(0, end - size), end).filter((value): value is number => value !== null)
    points.unshift(known.length === 0 ? null : known.reduce((sum, value) => sum + value, 0) / known.length)
  }
  return points
}
