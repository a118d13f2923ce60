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
