import {existsSync, readFileSync, realpathSync} from 'node:fs'
import Module, {register} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * Makes `import … from 'qctl'` and `require('qctl')` in a handler module give the qctl that is running
 * `qctl work`, not whatever copy (or none) the handler's project has installed: a handler in a plain
 * directory needs no install, and error classes, `Worker` and the rest are the worker's own objects.
 *
 * - ESM (`import`, also of .ts files through tsx): a resolve hook registered with `module.register`
 *   maps the bare specifier `qctl` to the running package's dist/index.js. On Node 20 such a hook runs
 *   in a thread of its own (about 10 MB of RSS), so a JavaScript handler whose own package already
 *   resolves `qctl` to the running copy (qctl installed in the project and run from there, or the
 *   handler inside qctl's package) gets no hook: Node's resolution gives it the running qctl anyway.
 * - CommonJS (`require`, also of .ts files tsx compiles to CommonJS): `Module._resolveFilename` maps
 *   `qctl` to the running package's dist/index.cjs, whose `require.cache` entry is filled beforehand
 *   with the exports the ESM side gets, so both module systems share one instance of each (loading
 *   index.cjs itself under tsx's require hook would compile a second copy).
 *
 * Only the exact specifier `qctl` is mapped; everything else resolves as Node would.
 */

/** The running qctl's package entry points, and what its ES module exports. */
export interface QctlEntry {
  esmUrl: string
  cjsPath: string
  exports: Record<string, unknown>
}

const SPECIFIER = 'qctl'

/**
 * The hooks module, inline so it is found however qctl is installed or run (a data: URL needs no file).
 * It runs on Node's hooks thread and gets the entry URL through `initialize`.
 */
const RESOLVE_HOOKS = `
let entry
export async function initialize(data) { entry = data.entry }
export async function resolve(specifier, context, nextResolve) {
  if (specifier === ${JSON.stringify(SPECIFIER)}) return {url: entry, format: 'module', shortCircuit: true}
  return nextResolve(specifier, context)
}
`

interface ResolvableModule {
  _resolveFilename: (request: string, ...rest: unknown[]) => string
  _cache: Record<string, unknown>
}

let installed: QctlEntry | undefined

/**
 * Install both mappings for the handler module at `handlerPath`, once per process (a second entry is
 * ignored: one qctl runs). The ESM hook is left out when the handler's import of `qctl` already finds
 * the running package; TypeScript handlers get it anyway from putRunningQctlFirst, after tsx's hooks.
 */
export function useRunningQctl(entry: QctlEntry, handlerPath: string): void {
  if (installed !== undefined) return
  installed = entry
  const cached = new Module(entry.cjsPath)
  // A plain object of the same values, not the namespace itself: CommonJS interop (esbuild's, under
  // tsx) defines properties on what require() returns, which a module namespace object refuses.
  Object.assign(cached, {filename: entry.cjsPath, loaded: true, exports: {...entry.exports}})
  ;(Module as unknown as ResolvableModule)._cache[entry.cjsPath] = cached
  mapRequire(entry.cjsPath)
  if (importFinds(handlerPath) !== packageRoot(entry)) mapImport(entry.esmUrl)
}

/**
 * Put both mappings in front of any resolution hooked so far. Hooks added later run first and may change
 * what an earlier one returns (tsx marks what a namespaced module resolves with its namespace, which
 * would load a second copy): call this again after registering other hooks. Nothing before useRunningQctl.
 */
export function putRunningQctlFirst(): void {
  if (installed === undefined) return
  mapImport(installed.esmUrl)
  mapRequire(installed.cjsPath)
}

function mapImport(esmUrl: string): void {
  register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOKS)}`, {data: {entry: esmUrl}})
}

function mapRequire(cjsPath: string): void {
  const cjs = Module as unknown as ResolvableModule
  const resolveFilename = cjs._resolveFilename
  cjs._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    return request === SPECIFIER ? cjsPath : resolveFilename.call(this, request, ...rest)
  }
}

/** The running package's directory (real path): dist/index.js's parent's parent. */
const packageRoot = (entry: QctlEntry): string => realpathSync(dirname(dirname(fileURLToPath(entry.esmUrl))))

/**
 * The real path of the package directory that `import 'qctl'` in the module at `path` resolves to
 * without hooks, or undefined when it finds none. Node's ESM lookup for a bare name: the enclosing
 * package itself when its package.json names it and has "exports" (self-reference), else the first
 * node_modules/qctl walking up from the module's directory (NODE_PATH does not apply to ESM). The
 * file must exist.
 */
export function importFinds(path: string): string | undefined {
  // Node resolves from the module's real path (symbolic links followed), so the lookup does too.
  const from = dirname(realpathSync(path))
  const scope = enclosingPackage(from)
  if (scope !== undefined && scope.manifest.name === SPECIFIER && scope.manifest.exports !== undefined) return realpathSync(scope.dir)
  for (let dir = from; ; dir = dirname(dir)) {
    // Node takes the first node_modules/qctl folder that exists, with or without a usable package.json.
    const candidate = join(dir, 'node_modules', SPECIFIER)
    if (existsSync(candidate)) return realpathSync(candidate)
    if (dirname(dir) === dir) return undefined
  }
}

interface Manifest {
  name?: unknown
  exports?: unknown
}

/** The nearest package.json at or above `dir` (Node's package scope), parsed; undefined if none or unreadable. */
function enclosingPackage(dir: string): {dir: string; manifest: Manifest} | undefined {
  for (let current = dir; ; current = dirname(current)) {
    const file = join(current, 'package.json')
    if (existsSync(file)) {
      try {
        return {dir: current, manifest: JSON.parse(readFileSync(file, 'utf8')) as Manifest}
      } catch {
        return undefined
      }
    }
    if (dirname(current) === current) return undefined
  }
}
