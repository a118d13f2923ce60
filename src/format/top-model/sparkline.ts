const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']

/**
 * The last `width` values as a sparkline, scaled to the largest of them. Unknown values (null)
 * are a gap (a space), zero is the lowest bar: "no traffic" and "no data" must look different.
 */
export function sparkline(values: ReadonlyArray<number | null>, width: number): string {
  // Loops, not callbacks: this runs twice per row on every frame (see layout.ts lineOf).
  const from = Math.max(0, values.length - width)
  let max = 0
  for (let index = from; index < values.length; index++) max = Math.max(max, values[index] ?? 0)
  let bars = ''
  for (let index = from; index < values.length; index++) {
    const value = values[index] ?? null
    if (value === null) bars += ' '
    else if (max === 0) bars += BARS[0]
    else bars += BARS[Math.min(BARS.length - 1, Math.round((value / max) * (BARS.length - 1)))]
  }
  return bars.padStart(width, ' ')
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
    let sum = 0
    let known = 0
    for (let index = Math.max(0, end - size); index < end; index++) {
      const value = values[index] ?? null
      if (value === null) continue
      sum += value
      known++
    }
    points.push(known === 0 ? null : sum / known)
  }
  return points.reverse()
}
