/**
 * Prometheus's text exposition format, version 0.0.4 (what every Prometheus server and agent
 * scrapes): `# HELP` and `# TYPE` lines per family, then its samples, one a line. Written here
 * rather than taken from prom-client: qctl needs three metric types and the escaping rules, not a
 * registry with its own timers and default process metrics.
 */

/** The Content-Type a scrape of the text format answers with. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export type Labels = Readonly<Record<string, string>>

/** One sample of a counter or a gauge. */
export interface Sample {
  labels: Labels
  value: number
}

/**
 * One histogram series: `bounds` are the buckets' upper bounds in increasing order (+Inf is added,
 * never given), `counts` the observations in each bucket alone (not cumulative; one more than
 * `bounds`: the last is above the largest bound).
 */
export interface HistogramSample {
  labels: Labels
  bounds: readonly number[]
  counts: ArrayLike<number>
  sum: number
}

export type MetricFamily =
  | {name: string; help: string; type: 'counter' | 'gauge'; samples: readonly Sample[]}
  | {name: string; help: string; type: 'histogram'; samples: readonly HistogramSample[]}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** A label value inside its double quotes: backslash, double quote and line feed escaped (the format's only escapes). */
export const escapeLabelValue = (value: string): string => value.replace(/[\\"\n]/g, (char) => (char === '\n' ? '\\n' : `\\${char}`))

/** A HELP text: backslash and line feed escaped (a double quote is kept as it is there). */
export const escapeHelp = (text: string): string => text.replace(/[\\\n]/g, (char) => (char === '\n' ? '\\n' : '\\\\'))

/** A sample value (or an `le` bound) as Prometheus parses it: `+Inf`, `-Inf`, `NaN`, else the number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels)
  if (extra !== undefined) pairs.push(extra)
  if (pairs.length === 0) return ''
  for (const [name] of pairs) if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`invalid label name "${name}"`)
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`
}

function histogramLines(name: string, sample: HistogramSample): string[] {
  const {bounds, counts} = sample
  if (counts.length !== bounds.length + 1) throw new Error(`histogram ${name}: ${counts.length} counts for ${bounds.length} bounds (expected one more)`)
  const lines: string[] = []
  let cumulative = 0
  bounds.forEach((bound, index) => {
    cumulative += counts[index] as number
    lines.push(`${name}_bucket${labelText(sample.labels, ['le', formatValue(bound)])} ${cumulative}`)
  })
  cumulative += counts[bounds.length] as number
  lines.push(`${name}_bucket${labelText(sample.labels, ['le', '+Inf'])} ${cumulative}`)
  lines.push(`${name}_sum${labelText(sample.labels)} ${formatValue(sample.sum)}`)
  lines.push(`${name}_count${labelText(sample.labels)} ${cumulative}`)
  return lines
}

/**
 * The page a scrape gets: each family with samples, its HELP and TYPE lines first (a family without
 * samples is left out, as Prometheus's own clients do). Throws on a name the format does not allow:
 * a bug in qctl, never something a user typed (topics and groups are label values, escaped).
 */
export function formatExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = []
  for (const family of families) {
    if (family.samples.length === 0) continue
    if (!METRIC_NAME.test(family.name)) throw new Error(`invalid metric name "${family.name}"`)
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`)
    if (family.type === 'histogram') {
      for (const sample of family.samples) lines.push(...histogramLines(family.name, sample))
    } else {
      for (const sample of family.samples) lines.push(`${family.name}${labelText(sample.labels)} ${formatValue(sample.value)}`)
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}
