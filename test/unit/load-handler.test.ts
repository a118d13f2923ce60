import {execFile} from 'node:child_process'
import {cp, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {QctlError} from '../../src/core/errors.js'
import {loadHandler} from '../../src/core/worker/load-handler.js'

const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'handlers')
const SOURCE = join(PROJECT_ROOT, 'src', 'core', 'worker', 'load-handler.ts')

// The fixtures again, in a temporary directory with no package.json above it: there tsx compiles .ts
// files to CommonJS, which changes the shape of what they export. The space tests path-to-URL handling.
let outside = ''
beforeAll(async () => {
  outside = await mkdtemp(join(tmpdir(), 'qctl handler '))
  await cp(FIXTURES, outside, {recursive: true})
})
afterAll(async () => {
  await rm(outside, {recursive: true, force: true})
})

type Location = 'in the project' | 'outside any package'
const LOCATIONS: Location[] = ['in the project', 'outside any package']
const dirOf = (location: Location): string => (location === 'in the project' ? FIXTURES : outside)

async function failure(file: string, cwd: string): Promise<QctlError> {
  const error: unknown = await loadHandler(file, cwd).then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(QctlError)
  return error as QctlError
}

describe('loadHandler: handler shapes', () => {
  const shapes: Array<[string, 'default' | 'handle', string]> = [
    ['default-export.ts', 'default', 'shipped A1'],
    ['named-handle.mts', 'handle', 'handled A1'],
    ['both-exports.ts', 'default', 'default'],
    ['export-equals.cts', 'default', 'assigned A1'],
    ['imports-sibling.ts', 'handle', 'label A1'],
    ['plain.js', 'default', 'plain A1'],
    ['module-exports-function.cjs', 'default', 'cjs A1'],
    ['module-exports-object.cjs', 'handle', 'sent A1'],
    ['with-defaults.mjs', 'default', 'shipped A1'],
  ]
  const cases = LOCATIONS.flatMap((location) => shapes.map(([file, exportName, result]) => [file, location, exportName, result] as const))

  it.each(cases)('%s (%s) exports a callable %s', async (file, location, exportName, result) => {
    const loaded = await loadHandler(file, dirOf(location))
    expect(loaded.path).toBe(join(dirOf(location), file))
    expect(loaded.exportName).toBe(exportName)
    expect(await loaded.handle({id: 'A1'}, {})).toBe(result)
  })

  it('top-level await works in a .ts file under a "type": "module" package', async () => {
    const loaded = await loadHandler('top-level-await.ts', FIXTURES)
    expect(await loaded.handle({id: 'A1'}, {})).toBe('awaited A1')
  })
})

describe('loadHandler: defaults', () => {
  it.each(LOCATIONS)('reads and type-checks exported settings, durations in ms (%s)', async (location) => {
    const {defaults} = await loadHandler('with-defaults.mjs', dirOf(location))
    expect(defaults).toEqual({topic: 'orders', group: 'shipping', concurrency: 8, maxAttempts: 5, backoffDelay: 2000, handlerTimeout: 30_000})
  })

  it.each(LOCATIONS)('finds settings of a compiled-to-CommonJS .ts file and of a module.exports object (%s)', async (location) => {
    expect((await loadHandler('imports-sibling.ts', dirOf(location))).defaults).toEqual({topic: 'labels'})
    expect((await loadHandler('module-exports-object.cjs', dirOf(location))).defaults).toEqual({topic: 'emails'})
    expect((await loadHandler('default-export.ts', dirOf(location))).defaults).toEqual({})
  })

  it('rejects a setting of the wrong type, naming the export and the expected type', async () => {
    const error = await failure('wrong-type.mjs', FIXTURES)
    expect(error.code).toBe('HANDLER_LOAD_FAILED')
    expect(error.exitCode).toBe(7)
    expect(error.message).toBe('handler wrong-type.mjs exports concurrency = "eight": expected a positive integer')
  })

  it.each([
    ["export const topic = ''", 'topic = "": expected a non-empty string'],
    ['export const group = 42', 'group = 42: expected a non-empty string'],
    ['export const concurrency = 2.5', 'concurrency = 2.5: expected a positive integer'],
    ['export const maxAttempts = 0', 'maxAttempts = 0: expected a positive integer'],
    ['export const backoff = null', 'backoff = null: expected exponential or fixed'],
    ["export const visibilityTimeout = 'soon'", `visibilityTimeout = "soon": expected milliseconds or a duration string such as '5s'`],
    ['export const handlerTimeout = () => 5', `handlerTimeout = a function: expected milliseconds or a duration string such as '5s'`],
  ])('rejects `%s`', async (line, expected) => {
    // One file per case: a module URL is imported once per process.
    const file = `bad-${expected.split(' ')[0] ?? ''}.mjs`
    await writeFile(join(outside, file), `export default () => null\n${line}\n`)
    const error = await failure(file, outside)
    expect(error.code).toBe('HANDLER_LOAD_FAILED')
    expect(error.message).toBe(`handler ${file} exports ${expected}`)
  })
})

describe('loadHandler: paths', () => {
  it('resolves a relative path against the given cwd', async () => {
    const loaded = await loadHandler('handlers/named-handle.mts', join(FIXTURES, '..'))
    expect(loaded.path).toBe(join(FIXTURES, 'named-handle.mts'))
    expect(loaded.handle({id: 'B2'}, {})).toBe('handled B2')
  })

  it('takes an absolute path as it is, whatever the cwd', async () => {
    const loaded = await loadHandler(join(outside, 'default-export.ts'), FIXTURES)
    expect(loaded.path).toBe(join(outside, 'default-export.ts'))
  })

  it('reports a missing file with the path as given and as resolved (NOT_FOUND, exit 6)', async () => {
    const error = await failure('./orders/handler.ts', outside)
    expect(error.code).toBe('NOT_FOUND')
    expect(error.exitCode).toBe(6)
    expect(error.message).toBe(`handler module not found: ./orders/handler.ts (resolved to ${join(outside, 'orders', 'handler.ts')})`)
  })

  it('reports a path through a file as not found', async () => {
    const error = await failure('plain.js/handler.ts', FIXTURES)
    expect(error.code).toBe('NOT_FOUND')
    expect(error.message).toBe(`handler module not found: plain.js/handler.ts (resolved to ${join(FIXTURES, 'plain.js', 'handler.ts')})`)
  })

  it.each(['handlers', 'handlers/'])('refuses a directory (%s) with HANDLER_LOAD_FAILED', async (file) => {
    const error = await failure(file, join(FIXTURES, '..'))
    expect(error.code).toBe('HANDLER_LOAD_FAILED')
    expect(error.exitCode).toBe(7)
    expect(error.message).toBe(`handler ${file} is a directory: name the module file (resolved to ${FIXTURES})`)
  })

  it('refuses a directory even when its name looks like a module', async () => {
    await mkdir(join(outside, 'dir.ts'), {recursive: true})
    expect((await failure('dir.ts', outside)).code).toBe('HANDLER_LOAD_FAILED')
  })

  it.each(['handler.py', 'handler.tsx', 'handler.json', 'handler'])('refuses %s: a usage error naming the allowed extensions', async (file) => {
    const error = await failure(file, outside)
    expect(error.code).toBe('USAGE')
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(`handler ${file} must be a .ts, .mts, .cts, .js, .mjs, .cjs file`)
  })
})

describe('loadHandler: modules that fail to load (HANDLER_LOAD_FAILED, exit 7)', () => {
  it.each(LOCATIONS)('an import-time throw: its first line only, no stack (%s)', async (location) => {
    const error = await failure('throws-at-import.ts', dirOf(location))
    expect(error.code).toBe('HANDLER_LOAD_FAILED')
    expect(error.exitCode).toBe(7)
    expect(error.message).toBe('cannot load handler throws-at-import.ts: ORDERS_API_URL is not set')
    expect(error.details).toEqual({path: join(dirOf(location), 'throws-at-import.ts')})
  })

  it('a TypeScript syntax error, with its location instead of esbuild\'s "Transform failed" header', async () => {
    // Written here rather than kept as a fixture: `tsc -p tsconfig.test.json` would reject it.
    await writeFile(join(outside, 'broken.ts'), 'export default function handle(message: unknown {\n  return message\n}\n')
    const error = await failure('broken.ts', outside)
    expect(error.code).toBe('HANDLER_LOAD_FAILED')
    expect(error.message).toBe(`cannot load handler broken.ts: Expected ")" but found "{" (at ${join(outside, 'broken.ts')}:1:48)`)
  })

  it.each(LOCATIONS)('a missing dependency (%s)', async (location) => {
    const error = await failure('missing-dependency.mjs', dirOf(location))
    expect(error.code).toBe('HANDLER_LOAD_FAILED')
    expect(error.message).toBe(
      `cannot load handler missing-dependency.mjs: Cannot find package 'qctl-fixture-no-such-package' imported from ${join(dirOf(location), 'missing-dependency.mjs')}`,
    )
  })

  it('top-level await in a .ts file outside an ESM package: says why and how to fix it', async () => {
    const error = await failure('top-level-await.ts', outside)
    expect(error.code).toBe('HANDLER_LOAD_FAILED')
    expect(error.message).toBe(
      `cannot load handler top-level-await.ts: Top-level await is currently not supported with the "cjs" output format (at ${join(outside, 'top-level-await.ts')}:2:15)`,
    )
    expect(error.suggestion).toBe('rename the handler to .mts, or put it in a package whose package.json has "type": "module"')
  })
})

describe('loadHandler: modules without a handler function (HANDLER_LOAD_FAILED, exit 7)', () => {
  it('lists what the module does export', async () => {
    const error = await failure('no-function.mjs', FIXTURES)
    expect(error.code).toBe('HANDLER_LOAD_FAILED')
    expect(error.exitCode).toBe(7)
    expect(error.message).toBe('handler no-function.mjs exports no function as default or handle (it exports: group, helper, topic)')
  })

  it('says when it exports nothing', async () => {
    const error = await failure('exports-nothing.mjs', FIXTURES)
    expect(error.message).toBe('handler exports-nothing.mjs exports no function as default or handle (it exports nothing)')
  })

  it.each([
    ['a CommonJS-compiled .ts file', 'settings.ts', "export const topic = 'orders'\nexport const handle = 'not a function'\n", 'handle, topic'],
    ['a module.exports object', 'settings.cjs', "module.exports = {topic: 'orders', __esModule: true}\n", 'topic'],
    ['a non-function default', 'settings.mjs', 'export default 42\n', 'default'],
    ['an empty CommonJS module', 'empty.cjs', '', 'nothing'],
  ])('unwraps %s for the list', async (_shape, file, source, listed) => {
    await writeFile(join(outside, file), source)
    const error = await failure(file, outside)
    expect(error.code).toBe('HANDLER_LOAD_FAILED')
    const expected = listed === 'nothing' ? 'it exports nothing' : `it exports: ${listed}`
    expect(error.message).toBe(`handler ${file} exports no function as default or handle (${expected})`)
  })
})

describe("loadHandler under Node's own loader", () => {
  // Vitest sends import() of .js/.mjs/.cjs files through Vite, which words syntax errors its own way and
  // keeps source order in namespaces. `qctl work` runs on plain Node: check those cases there.
  it('reports a JavaScript syntax error as a SyntaxError, and lists exports sorted', async () => {
    const script = [
      `import {loadHandler} from ${JSON.stringify(pathToFileURL(SOURCE).href)}`,
      `for (const file of ['syntax-error.mjs', 'no-function.mjs', 'with-defaults.mjs']) {`,
      `  const result = await loadHandler(file, ${JSON.stringify(FIXTURES)}).then((h) => h.defaults, (error) => error.message)`,
      '  console.log(JSON.stringify(result))',
      '}',
    ].join('\n')
    const {stdout} = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {cwd: PROJECT_ROOT})
    expect(stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      "cannot load handler syntax-error.mjs: SyntaxError: Unexpected token '{'",
      'handler no-function.mjs exports no function as default or handle (it exports: group, helper, topic)',
      {topic: 'orders', group: 'shipping', concurrency: 8, maxAttempts: 5, backoffDelay: 2000, handlerTimeout: 30_000},
    ])
  })
})
