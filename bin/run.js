#!/usr/bin/env node
// The first thing: a signal while qctl boots must exit 130 with a line, not 143 in silence. Static
// imports would load modules before this line runs, so everything else is imported after it.
const early = []
const remember = (signal) => early.push(signal)
process.on('SIGINT', remember)
process.on('SIGTERM', remember)

const {listenForEarlySignals} = await import('../dist/output/early-signals.js')
// Add the new listeners before removing these: with none at all for an instant, a signal then
// would kill node by default.
listenForEarlySignals(early[0])
process.off('SIGINT', remember)
process.off('SIGTERM', remember)

// Redact passwords from all output before anything (oclif's own debug log included) can print them.
const {guardSecrets} = await import('../dist/output/redact.js')
guardSecrets()

// `qctl --version` answers as oclif would, without loading oclif (dist/cli/version-line.js).
const {versionLine} = await import('../dist/cli/version-line.js')
const version = versionLine(process.argv.slice(2))
if (version !== undefined) {
  process.stdout.write(`${version}\n`)
} else {
  await runOclif()
}

// oclif's execute entry alone (the package's index also loads help, ux and a semver check of Node's
// version, ~50 modules), with require(): oclif is CommonJS, and importing it from an ES module costs
// start-up time (dist/cli/oclif.js says how much).
async function runOclif() {
  const {createRequire} = await import('node:module')
  const {execute} = createRequire(import.meta.url)('@oclif/core/execute')
  await execute({dir: import.meta.url})
}
