import {readFileSync} from 'node:fs'
import {arch, platform, release} from 'node:os'

interface Manifest {
  name?: string
  version?: string
  oclif?: {additionalVersionFlags?: string[]; hooks?: Record<string, unknown>}
}

/**
 * The line `qctl --version` prints, made without loading oclif, whose configuration alone costs a
 * one-shot command more than an empty Node process does (README, Performance: start-up). It is oclif's
 * own answer (`Config.userAgent`, printed when the first argument is --version or one of the package's
 * `oclif.additionalVersionFlags`): `qctl/0.1.0 linux-x64 node-v20.19.0`. Undefined when oclif must
 * answer: not a version request; hooks oclif runs around it (`init`, `finally`) in qctl's package.json;
 * or a Linux that may be WSL, which oclif names `wsl` after checks of its own (is-wsl).
 */
export function versionLine(argv: readonly string[], packageJson: URL = new URL('../../package.json', import.meta.url)): string | undefined {
  const first = argv[0]
  // Nothing read for a command: this runs before every command's start-up.
  if (first === undefined || !first.startsWith('-')) return undefined
  const manifest = JSON.parse(readFileSync(packageJson, 'utf8')) as Manifest
  const flags = ['--version', ...(manifest.oclif?.additionalVersionFlags ?? [])]
  if (!flags.includes(first)) return undefined
  const hooks = manifest.oclif?.hooks ?? {}
  if ('init' in hooks || 'finally' in hooks) return undefined
  if (mayBeWsl()) return undefined
  if (manifest.name === undefined) return undefined
  return `${manifest.name}/${manifest.version ?? '0.0.0'} ${platform()}-${arch() === 'ia32' ? 'x86' : arch()} node-${process.version}`
}

function mayBeWsl(): boolean {
  if (platform() !== 'linux') return false
  if (release().toLowerCase().includes('microsoft')) return true
  try {
    return readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')
  } catch {
    return false
  }
}
