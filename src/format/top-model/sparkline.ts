const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']

/** The largest of the last `width` values (0 when none is known). */
export function largestOf(values: ReadonlyArray<number | null>, width: number): number {
  // Loops, not callbacks: this runs twice per row on every frame (see layout.ts lineOf).
  let max = 0
  for (let index = Math.max(0, values.length - width); index < values.length; index++) max = Math.max(max, values[index] ?? 0)
  return max
}

/**
 * The last `width` values as a sparkline, scaled to `max` (by default the largest of them; a row's
 * IN and OUT pass the larger of both, so their bars compare). Unknown values (null) are a gap (a
 * space), zero is the lowest bar: "no traffic" and "no data" must look different.
 */
export function sparkline(values: ReadonlyArray<number | null>, width: number, max = largestOf(values, width)): string {
  const from = Math.max(0, values.length - width)
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
 * `values` squeezed into at most `width` points by averaging runs of `size` consecutive samples
 * (by default as few as fit), so a minute of one-second samples fits a narrow column. Runs are
 * aligned to the newest sample; a run whose samples are all unknown stays unknown. The live screen
 * passes the size a full history needs, so a point spans the same time from the first refresh on:
 * the sparkline fills from the right instead of changing its scale of time as history builds up.
 */
export function downsample(values: ReadonlyArray<number | null>, width: number, size = Math.ceil(values.length / width)): Array<number | null> {
  if (width <= 0) return []
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
