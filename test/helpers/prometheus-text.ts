import {waitFor} from './cli.js'

/**
 * A strict reader of Prometheus's text exposition format (0.0.4), for tests: every line must be a
 * HELP, a TYPE or a sample of a family declared before it, label values are unescaped, and a
 * histogram's buckets must be cumulative and end at +Inf with its _count. Anything else throws,
 * naming the line: a page this accepts is one Prometheus would.
 */

export interface ParsedSample {
  /** The sample's own name (`…_bucket`, `…_sum`, `…_count` for a histogram). */
  name: string
  labels: Record<string, string>
  value: number
}

export interface ParsedFamily {
  name: string
  help: string | undefined
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'
  samples: ParsedSample[]
}

export interface ParsedPage {
  families: Map<string, ParsedFamily>
  /** The value of the one sample named `name` whose labels include `labels`; undefined if none, throws if several. */
  value(name: string, labels?: Record<string, string>): number | undefined
  /** Every sample named `name` whose labels include `labels`. */
  samples(name: string, labels?: Record<string, string>): ParsedSample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`)

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  if (text === 'NaN') return Number.NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`not a number "${text}" in: ${line}`)
  return Number(text)
}

/** `name="value",…` with the format's escapes (\\, \", \n) undone. */
function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let at = 0
  while (at < text.length) {
    const name = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(at))
    if (name === null) throw new Error(`bad label at "${text.slice(at)}" in: ${line}`)
    at += name[0].length
    let value = ''
    for (;;) {
      const char = text[at]
      if (char === undefined) throw new Error(`unterminated label value in: ${line}`)
      at++
      if (char === '"') break
      if (char === '\n') throw new Error(`raw line feed in a label value: ${line}`)
      if (char !== '\\') {
        value += char
        continue
      }
      const escaped = text[at++]
      if (escaped === 'n') value += '\n'
      else if (escaped === '\\' || escaped === '"') value += escaped
      else throw new Error(`bad escape \\${escaped ?? ''} in: ${line}`)
    }
    const label = name[1] as string
    if (label in labels) throw new Error(`label ${label} twice in: ${line}`)
    labels[label] = value
    if (text[at] === ',') at++
    else if (at !== text.length) throw new Error(`expected , after a label in: ${line}`)
  }
  return labels
}

const includes = (labels: Record<string, string>, wanted: Record<string, string>): boolean => Object.entries(wanted).every(([name, value]) => labels[name] === value)

function familyOf(families: Map<string, ParsedFamily>, sample: string): ParsedFamily | undefined {
  const exact = families.get(sample)
  if (exact !== undefined) return exact
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue
    const family = families.get(sample.slice(0, -suffix.length))
    if (family?.type === 'histogram') return family
  }
  return undefined
}

function checkHistogram(family: ParsedFamily): void {
  const series = new Map<string, ParsedSample[]>()
  const key = (labels: Record<string, string>): string => JSON.stringify(Object.entries(labels).filter(([name]) => name !== 'le').sort())
  for (const sample of family.samples) {
    if (!sample.name.endsWith('_bucket')) continue
    const list = series.get(key(sample.labels)) ?? []
    list.push(sample)
    series.set(key(sample.labels), list)
  }
  for (const [labels, buckets] of series) {
    let previous = Number.NEGATIVE_INFINITY
    let last = 0
    for (const bucket of buckets) {
      const le = bucket.labels['le']
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`)
      const bound = parseValue(le, le)
      if (!(bound > previous)) throw new Error(`${family.name}: le ${le} out of order`)
      if (bucket.value < last) throw new Error(`${family.name}: bucket le=${le} is not cumulative`)
      previous = bound
      last = bucket.value
    }
    if (previous !== Number.POSITIVE_INFINITY) throw new Error(`${family.name}${labels}: no le="+Inf" bucket`)
    const count = family.samples.find((sample) => sample.name === `${family.name}_count` && key(sample.labels) === labels)
    if (count?.value !== last) throw new Error(`${family.name}${labels}: _count ${count?.value} is not the +Inf bucket's ${last}`)
    if (!family.samples.some((sample) => sample.name === `${family.name}_sum` && key(sample.labels) === labels)) throw new Error(`${family.name}${labels}: no _sum`)
  }
}

export function parsePrometheusText(text: string): ParsedPage {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the page does not end with a line feed')
  const families = new Map<string, ParsedFamily>()
  const seen = new Set<string>()
  for (const line of text.split('\n').slice(0, -1)) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      const [, kind, name, rest] = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line) ?? []
      if (name === undefined || !new RegExp(`^${NAME}$`).test(name)) throw new Error(`bad metric name in: ${line}`)
      const family = families.get(name) ?? {name, help: undefined, type: 'untyped' as const, samples: []}
      if (family.samples.length > 0) throw new Error(`${kind} after samples of ${name}`)
      if (kind === 'HELP') family.help = (rest ?? '').replace(/\\(\\|n)/g, (_match, char: string) => (char === 'n' ? '\n' : '\\'))
      else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest ?? '')) throw new Error(`bad type in: ${line}`)
        if (seen.has(`type:${name}`)) throw new Error(`TYPE of ${name} twice`)
        seen.add(`type:${name}`)
        family.type = rest as ParsedFamily['type']
      }
      families.set(name, family)
      continue
    }
    if (line.startsWith('#') || line === '') throw new Error(`unexpected line: ${JSON.stringify(line)}`)
    const match = SAMPLE.exec(line)
    if (match === null) throw new Error(`not a sample: ${line}`)
    const [, name, labelText, valueText] = match as unknown as [string, string, string | undefined, string]
    const family = familyOf(families, name)
    if (family === undefined) throw new Error(`sample of an undeclared family: ${line}`)
    const sample = {name, labels: labelText === undefined ? {} : parseLabels(labelText, line), value: parseValue(valueText, line)}
    const identity = `${name}${JSON.stringify(Object.entries(sample.labels).sort())}`
    if (seen.has(identity)) throw new Error(`sample twice: ${line}`)
    seen.add(identity)
    family.samples.push(sample)
  }
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family)
  const samples = (name: string, labels: Record<string, string> = {}): ParsedSample[] => {
    const family = familyOf(families, name)
    return (family?.samples ?? []).filter((sample) => sample.name === name && includes(sample.labels, labels))
  }
  return {
    families,
    samples,
    value: (name, labels = {}) => {
      const found = samples(name, labels)
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
      return found[0]?.value
    },
  }
}

/** GET a /metrics page and parse it; fails on a status other than 200 or a Content-Type other than the text format's. */
export async function scrape(url: string): Promise<ParsedPage> {
  const response = await fetch(url)
  const body = await response.text()
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${body}`)
  const type = response.headers.get('content-type') ?? ''
  if (!type.startsWith('text/plain') || !type.includes('version=0.0.4')) throw new Error(`GET ${url}: Content-Type ${type}`)
  return parsePrometheusText(body)
}

/** Scrape until `ready` holds for the page (the process works meanwhile); the last page. */
export async function scrapeUntil(url: string, ready: (page: ParsedPage) => boolean, what: string, timeoutMs = 20_000): Promise<ParsedPage> {
  let page: ParsedPage | undefined
  await waitFor(async () => {
    page = await scrape(url)
    return ready(page)
  }, timeoutMs, what)
  return page as ParsedPage
}
