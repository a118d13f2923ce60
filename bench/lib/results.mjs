// bench/results/latest.md: one section per scenario, each from the latest run of that scenario.
// Running a subset (--scenario) replaces only those sections and keeps the others as they were.
// Sections are delimited by HTML comments, so they survive a round trip through the file.
import {readFile, writeFile} from 'node:fs/promises'

const BEGIN = (name) => `<!-- scenario: ${name} -->`
const END = (name) => `<!-- /scenario: ${name} -->`
const SECTION = /<!-- scenario: (\S+) -->\n([\s\S]*?)\n?<!-- \/scenario: \1 -->/g

/** {name: body} of the sections in an existing latest.md ({} if none or no file). */
export async function readSections(path) {
  let text
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return {sections: {}, legacy: false}
  }
  const sections = {}
  for (const [, name, body] of text.matchAll(SECTION)) sections[name] = body
  return {sections, legacy: Object.keys(sections).length === 0 && text.trim() !== ''}
}

/**
 * Write latest.md with `fresh` ({name: body}) replacing those sections; other sections are kept.
 * `order` lists scenario names in suite order; sections of unknown scenarios go last.
 */
export async function writeMergedResults(path, fresh, order) {
  const {sections, legacy} = await readSections(path)
  Object.assign(sections, fresh)
  const names = [...order.filter((name) => name in sections), ...Object.keys(sections).filter((name) => !order.includes(name))]
  const text = [
    '# qctl benchmarks',
    '',
    'One section per scenario, each from the latest run of that scenario (a run of some scenarios keeps the others\' sections). Each run is a whole child process timed from spawn to exit; contenders run in interleaved rounds; ratios are taken round by round.',
    '',
    ...names.flatMap((name) => [BEGIN(name), sections[name].trimEnd(), END(name), '']),
  ].join('\n')
  await writeFile(path, text)
  return {kept: names.filter((name) => !(name in fresh)), legacyDropped: legacy}
}
