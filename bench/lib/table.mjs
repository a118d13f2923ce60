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
