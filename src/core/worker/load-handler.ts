import {stat} from 'node:fs/promises'
import type {Stats} from 'node:fs'
import {extname, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

import {QctlError} from '../errors.js'
import {parseDuration} from '../units.js'
import {MODULE_EXPORTS, type OptionSpec} from './option-schema.js'
import {putRunningQctlFirst, useRunningQctl, type QctlEntry} from './running-qctl.js'

/**
 * Loads the handler module of `qctl work HANDLER`: any .ts/.mts/.cts/.js/.mjs/.cjs file, anywhere
 * on disk, with no build step. Every failure is a QctlError that names the file and the cause in
 * one line, because this is the first thing a new user gets wrong.
 */

/** Worker settings a handler module may export (MODULE_EXPORTS of option-schema.ts); flags override them. Durations are in ms. */
export interface HandlerDefaults {
  topic?: string
  group?: string
  concurrency?: number
  maxAttempts?: number
  backoff?: string
  backoffDelay?: number
  backoffMax?: number
  visibilityTimeout?: number
  handlerTimeout?: number
  [other: string]: unknown
}

export interface LoadedHandler {
  /** Absolute resolved path. */
  path: string
  handle: (message: unknown, ctx: unknown) => unknown
  defaults: HandlerDefaults
  exportName: 'default' | 'handle'
}

const TS_EXTENSIONS = ['.ts', '.mts', '.cts']
const JS_EXTENSIONS = ['.js', '.mjs', '.cjs']

type Exports = Record<string, unknown>

const isContainer = (value: unknown): value is Exports =>
  (typeof value === 'object' && value !== null) || typeof value === 'function'

const isFunction = (value: unknown): value is (...args: unknown[]) => unknown => typeof value === 'function'

export interface LoadOptions {
  /** The running qctl, given to the handler for `import 'qctl'` / `require('qctl')` (see running-qctl.ts). */
  qctl?: QctlEntry | undefined
}

export async function loadHandler(file: string, cwd = process.cwd(), options: LoadOptions = {}): Promise<LoadedHandler> {
  const path = resolve(cwd, file)
  await checkFile(file, path)
  if (options.qctl !== undefined) useRunningQctl(options.qctl, path)
  const exports = unwrapCommonJs(await importModule(file, path))
  const found = findHandler(exports)
  if (found === undefined) {
    const names = exportedNames(exports)
    const listed = names.length === 0 ? 'it exports nothing' : `it exports: ${names.join(', ')}`
    throw loadError(`handler ${file} exports no function as default or handle (${listed})`, path)
  }
  return {path, ...found, defaults: readDefaults(exports, file, path)}
}

const loadError = (message: string, path: string, options: {cause?: unknown; suggestion?: string} = {}): QctlError =>
  new QctlError('HANDLER_LOAD_FAILED', message, {...options, details: {path}})

/** Directory before extension (so `qctl work ./handlers` says what is wrong), extension before existence. */
async function checkFile(file: string, path: string): Promise<void> {
  let stats: Stats | undefined
  try {
    stats = await stat(path)
  } catch (error) {
    // ENOTDIR: a path through a file (`handler.js/x.ts`), which is as missing as a path through nothing.
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      throw loadError(`cannot load handler ${file}: ${firstLine(error)}`, path, {cause: error})
    }
  }
  if (stats?.isDirectory() === true) {
    throw loadError(`handler ${file} is a directory: name the module file (resolved to ${path})`, path)
  }
  const extension = extname(path)
  if (!TS_EXTENSIONS.includes(extension) && !JS_EXTENSIONS.includes(extension)) {
    const allowed = [...TS_EXTENSIONS, ...JS_EXTENSIONS].join(', ')
    throw new QctlError('USAGE', `handler ${file} must be a ${allowed} file`, {details: {path}})
  }
  if (stats === undefined) {
    throw new QctlError('NOT_FOUND', `handler module not found: ${file} (resolved to ${path})`, {details: {path}})
  }
}

async function importModule(file: string, path: string): Promise<Exports> {
  const url = pathToFileURL(path).href
  try {
    if (TS_EXTENSIONS.includes(extname(path))) return await (await typeScriptImporter())(url)
    return (await import(url)) as Exports
  } catch (error) {
    const message = firstLine(error)
    // tsx compiles a .ts file outside a "type": "module" package to CommonJS, where top-level await cannot exist.
    const suggestion = /top-level await .*"cjs"/i.test(message)
      ? 'rename the handler to .mts, or put it in a package whose package.json has "type": "module"'
      : undefined
    throw loadError(`cannot load handler ${file}: ${message}`, path, {cause: error, ...(suggestion === undefined ? {} : {suggestion})})
  }
}

let typeScript: Promise<(url: string) => Promise<Exports>> | undefined

/**
 * Imports .ts/.mts/.cts handlers through tsx, registered once (on demand: tsx and esbuild behind it cost
 * start-up time that JS handlers should not pay), under a namespace of its own as `tsImport` does, so
 * its hooks apply to the handler and what it imports, not to qctl's own later imports. The resolve hook
 * that gives a handler the running qctl is registered again after tsx's, so it runs first: tsx marks
 * everything it resolves for a namespaced module with the namespace, which would load a second copy of
 * qctl, not the running one (its classes other objects than the worker's).
 */
async function typeScriptImporter(): Promise<(url: string) => Promise<Exports>> {
  typeScript ??= (async () => {
    const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')])
    const namespace = 'qctl-handler'
    cjs.register({namespace})
    const api = esm.register({namespace})
    putRunningQctlFirst()
    return async (url: string) => (await api.import(url, import.meta.url)) as Exports
  })()
  return typeScript
}

/**
 * The import error as one line, without the stack. esbuild (behind tsx) reports syntax errors as
 * "Transform failed with 1 error:" followed by "<file>:<line>:<col>: ERROR: <text>": keep the useful part.
 */
function firstLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error).split('\n')[0] ?? ''
  const [line = '', next = ''] = error.message.split('\n')
  if (/^Transform failed with \d+ errors?:$/.test(line)) {
    const located = /^(.*:\d+:\d+): ERROR: (.*)$/.exec(next)
    return located === null ? next.replace(/^error: /, '') : `${located[2] ?? ''} (at ${located[1] ?? ''})`
  }
  if (line === '') return error.name
  // A SyntaxError's message alone ("Unexpected token '{'") does not say what kind of failure it was.
  return error.name === 'Error' ? line : `${error.name}: ${line}`
}

/**
 * The module's own exports. tsx compiles a .ts file outside a "type": "module" package to CommonJS, so
 * its ES exports arrive wrapped in `default` and marked __esModule: unwrap them so `export default`
 * keeps winning over `export function handle` as it does in ESM.
 */
function unwrapCommonJs(namespace: Exports): Exports {
  const inner = namespace['default']
  return isContainer(inner) && !isFunction(inner) && inner['__esModule'] === true ? inner : namespace
}

/** First callable of: default, handle, default.default, default.handle (the last two: `module.exports = {...}`). */
function findHandler(exports: Exports): Pick<LoadedHandler, 'handle' | 'exportName'> | undefined {
  const inner = exports['default']
  const candidates: Array<[Exports, 'default' | 'handle']> = [[exports, 'default'], [exports, 'handle']]
  if (isContainer(inner)) candidates.push([inner, 'default'], [inner, 'handle'])
  for (const [owner, exportName] of candidates) {
    const fn = owner[exportName]
    // Called on its owner, so an object handler (`module.exports = {handle() {this...}}`) keeps its `this`.
    if (isFunction(fn)) return {exportName, handle: (message, ctx) => fn.call(owner, message, ctx)}
  }
  return undefined
}

const IGNORED_NAMES = new Set(['default', '__esModule', 'module.exports'])

/** What the module does export, for the "exports no function" message; sorted, as ESM namespaces are. */
function exportedNames(exports: Exports): string[] {
  const inner = exports['default']
  const names = [...Object.keys(exports), ...(isContainer(inner) ? Object.keys(inner) : [])].filter((name) => !IGNORED_NAMES.has(name))
  if (!isContainer(inner) && inner !== undefined) names.push('default')
  return [...new Set(names)].sort()
}

type Check = (value: unknown) => number | string | boolean | undefined

const nonEmptyString: Check = (value) => (typeof value === 'string' && value.trim() !== '' ? value : undefined)

/** Milliseconds as a number, or a duration string ('5s') like the flags take. */
const duration: Check = (value) => {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined
  if (typeof value !== 'string') return undefined
  try {
    return parseDuration(value)
  } catch {
    return undefined
  }
}

const DURATION: [Check, string] = [duration, "milliseconds or a duration string such as '5s'"]

/** How an export of each kind is checked (bounds of numbers are checked with the flags', in resolveWorkerOptions). */
function checkOf(spec: OptionSpec): [Check, string] {
  switch (spec.kind) {
    case 'integer': {
      const min = spec.min ?? 0
      return [(value) => (Number.isInteger(value) && (value as number) >= min ? (value as number) : undefined), min === 1 ? 'a positive integer' : `an integer of at least ${min}`]
    }
    case 'duration':
      return DURATION
    case 'choice': {
      const choices: readonly string[] = spec.choices ?? []
      return [(value) => (typeof value === 'string' && choices.includes(value) ? value : undefined), choices.join(' or ')]
    }
    case 'boolean':
      return [(value) => (typeof value === 'boolean' ? value : undefined), 'true or false']
    default:
      return [nonEmptyString, 'a non-empty string']
  }
}

/** The settings a handler module may export, and how each is checked: from the option schema. */
const DEFAULT_CHECKS: Record<string, [Check, string]> = Object.fromEntries(MODULE_EXPORTS.map((spec) => [spec.moduleExport, checkOf(spec)]))

/** Exported settings, found where the handler was found; `undefined` counts as not exported. */
function readDefaults(exports: Exports, file: string, path: string): HandlerDefaults {
  const inner = exports['default']
  const defaults: HandlerDefaults = {}
  for (const [name, [check, expected]] of Object.entries(DEFAULT_CHECKS)) {
    const value = Object.hasOwn(exports, name) ? exports[name] : isContainer(inner) && Object.hasOwn(inner, name) ? inner[name] : undefined
    if (value === undefined) continue
    const checked = check(value)
    if (checked === undefined) throw loadError(`handler ${file} exports ${name} = ${describe(value)}: expected ${expected}`, path)
    defaults[name] = checked
  }
  return defaults
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null) return 'an object'
  return String(value)
}
