import Module, {register} from 'node:module'

/**
 * Makes `import … from 'qctl'` and `require('qctl')` in a handler module give the qctl that is running
 * `qctl work`, not whatever copy (or none) the handler's project has installed: a handler in a plain
 * directory needs no install, and error classes, `Worker` and the rest are the worker's own objects.
 *
 * - ESM (`import`, also of .ts files through tsx): a resolve hook registered with `module.register`
 *   maps the bare specifier `qctl` to the running package's dist/index.js.
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

/** Install both mappings, once per process (a second entry is ignored: one qctl runs). */
export function useRunningQctl(entry: QctlEntry): void {
  if (installed !== undefined) return
  installed = entry
  const cached = new Module(entry.cjsPath)
  // A plain object of the same values, not the namespace itself: CommonJS interop (esbuild's, under
  // tsx) defines properties on what require() returns, which a module namespace object refuses.
  Object.assign(cached, {filename: entry.cjsPath, loaded: true, exports: {...entry.exports}})
  ;(Module as unknown as ResolvableModule)._cache[entry.cjsPath] = cached
  putRunningQctlFirst()
}

/**
 * Put both mappings in front of any resolution hooked so far. Hooks added later run first and may change
 * what an earlier one returns (tsx marks what a namespaced module resolves with its namespace, which
 * would load a second copy): call this again after registering other hooks. Nothing before useRunningQctl.
 */
export function putRunningQctlFirst(): void {
  if (installed === undefined) return
  const {esmUrl, cjsPath} = installed
  register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOKS)}`, {data: {entry: esmUrl}})
  const cjs = Module as unknown as ResolvableModule
  const resolveFilename = cjs._resolveFilename
  cjs._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    return request === SPECIFIER ? cjsPath : resolveFilename.call(this, request, ...rest)
  }
}
