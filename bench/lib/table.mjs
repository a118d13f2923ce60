// Markdown rendering of benchmark rows.

const grouped = (value, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}) : '–'

const ratioText = (ratio) =>
  ratio === undefined || !Number.isFinite(ratio.median)
    ? '1.00 (baseline)'
    : `${ratio.median.toFixed(2)}x (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`

const mib = (kib) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(0)} MiB` : '–')

/** Escape what would break a Markdown table cell. */
const cell = (text) => String(text).replaceAll('|', '\\|').replaceAll('\n', ' ')

/** A Markdown table from [header...] and [[cell...]...], columns padded for plain-text reading. */
export function markdownTable(header, body, align = []) {
  const rows = [header, ...body].map((row) => row.map(cell))
  const widths = header.map((_, column) => Math.max(3, ...rows.map((row) => row[column].length)))
  const line = (row) => `| ${row.map((text, column) => (align[column] === 'right' ? text.padStart(widths[column]) : text.padEnd(widths[column]))).join(' | ')} |`
  const rule = `| ${widths.map((width, column) => (align[column] === 'right' ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width))).join(' | ')} |`
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n')
}

/** The main results table: throughput rows from summarizeRounds (with optional peakRssKiB summary). */
export function renderThroughputTable(rows) {
  const header = ['scenario', 'contender', 'median msg/s', 'min–max', 'runs', 'ratio to bare (median, min–max)', 'peak RSS (median)']
  const body = rows.map((row) => [
    row.scenario,
    row.contender,
    grouped(row.median),
    `${grouped(row.min)}–${grouped(row.max)}`,
    String(row.n),
    ratioText(row.ratio),
    mib(row.peakRssKiB?.median),
  ])
  return markdownTable(header, body, ['left', 'left', 'right', 'right', 'right', 'left', 'right'])
}

/** CPU milliseconds as seconds with one decimal ('?' when not measured). */
export const cpuSeconds = (ms) => (ms === undefined ? '?' : (ms / 1000).toFixed(1))

/** The per-run table every scenario prints: wall time, rate, start-up share, peak RSS and CPU of each sample. */
export function perRunTable(rounds) {
  return markdownTable(
    ['round', 'contender', 'wall s', 'msg/s', 'in-process ms', 'startup+exit ms', 'peak RSS MiB', 'CPU s: self', 'redis', 'others'],
    rounds.flatMap(({round, samples}) =>
      Object.entries(samples).map(([contender, sample]) => [
        String(round),
        contender,
        (sample.wallMs / 1000).toFixed(2),
        Math.round(sample.rate).toLocaleString('en-US'),
        String(sample.internalMs),
        String(Math.round(sample.wallMs - sample.internalMs)),
        sample.peakRssKiB ? (sample.peakRssKiB / 1024).toFixed(0) : '–',
        cpuSeconds(sample.cpu.childMs),
        cpuSeconds(sample.cpu.redisMs),
        cpuSeconds(sample.cpu.othersMs),
      ]),
    ),
    ['right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  )
}

/** One sample as a progress line: wall time, rate, in-process time, peak RSS and CPU. */
export const describeSample = (sample) =>
  `${(sample.wallMs / 1000).toFixed(2)} s, ${Math.round(sample.rate).toLocaleString('en-US')} msg/s` +
  ` (in-process ${sample.internalMs} ms${sample.peakRssKiB ? `, peak RSS ${(sample.peakRssKiB / 1024).toFixed(0)} MiB` : ''}` +
  `, CPU s: self ${cpuSeconds(sample.cpu.childMs)} redis ${cpuSeconds(sample.cpu.redisMs)} others ${cpuSeconds(sample.cpu.othersMs)})`

/**
 * A table of measures against targets (for scenarios whose result is not a throughput, e.g. top):
 * rows {scenario, measure, median, min, max, n, target, met, format}; `format(value)` renders one
 * value, `target` is text, `met` a boolean (undefined: no verdict).
 */
export function renderTargetTable(rows) {
  const header = ['scenario', 'measure', 'median', 'min–max', 'runs', 'target', 'verdict']
  const body = rows.map((row) => [
    row.scenario,
    row.measure,
    row.format(row.median),
    `${row.format(row.min)}–${row.format(row.max)}`,
    String(row.n),
    row.target ?? '–',
    row.met === undefined ? '–' : row.met ? 'met' : 'missed',
  ])
  return markdownTable(header, body, ['left', 'left', 'right', 'right', 'right', 'left', 'left'])
}
