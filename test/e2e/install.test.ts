import {execFile, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {delimiter, dirname, isAbsolute, join, sep} from 'node:path'
import {pathToFileURL} from 'node:url'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {cleanEnv, PROJECT_ROOT, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * qctl as users install it: `npm pack`, `npm install -g` of the tarball into a temporary prefix, and the
 * installed `qctl` run from a directory with no clone anywhere above it (a handler there has neither a
 * package.json nor node_modules). npm's cache holds every dependency after `npm ci`, so the install runs
 * offline-first (`--prefer-offline`); it is the built dist/ that is packed (`npm test` builds first).
 */

const execFileAsync = promisify(execFile)

/** The environment for npm: a user's, without what an enclosing `npm test` exports about this repository. */
function npmEnv(): NodeJS.ProcessEnv {
  const env = cleanEnv({npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false'})
  for (const name of Object.keys(env)) {
    if (/^npm_(package|lifecycle)_/.test(name) || ['npm_config_local_prefix', 'npm_config_global', 'npm_config_prefix', 'INIT_CWD'].includes(name)) delete env[name]
  }
  // The node running the tests first on PATH: npm's shims and the installed bin run it by `env node`.
  env['PATH'] = [dirname(process.execPath), env['PATH'] ?? ''].join(delimiter)
  return env
}

const npm = async (args: string[], cwd: string): Promise<string> => (await execFileAsync('npm', args, {cwd, env: npmEnv(), maxBuffer: 64 * 1024 * 1024})).stdout

interface PackedFile {
  path: string
  size: number
}
interface Packed {
  filename: string
  size: number
  unpackedSize: number
  files: PackedFile[]
}

let root = ''
let tarball = ''
let packed: Packed
let prefix = ''
let installed = ''
let counter = 0

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'qctl-install-')))
  // `npm pack --json` lists what it packed exactly as `npm pack --dry-run --json` does, and leaves the
  // tarball. --ignore-scripts: no `prepack` build, which would replace dist/ under the other test files.
  const [first] = JSON.parse(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', root], PROJECT_ROOT)) as Packed[]
  if (first === undefined) throw new Error('npm pack printed no package')
  packed = first
  tarball = join(root, packed.filename)
  prefix = join(root, 'prefix')
  await npm(['install', '--global', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund'], root)
  installed = join(prefix, 'lib', 'node_modules', 'qctl')
}, 300_000)

afterAll(async () => {
  if (root !== '') await rm(root, {recursive: true, force: true})
})

/** A fresh directory outside the repository with these files. */
async function fresh(files: Record<string, string> = {}): Promise<string> {
  const dir = join(root, `dir-${++counter}`)
  await mkdir(dir)
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  return dir
}

/** Run the installed `qctl` (the shim npm put in PREFIX/bin) in `cwd`, as a user's shell does. */
async function qctl(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  const started = Date.now()
  const child = spawn(join(prefix, 'bin', 'qctl'), args, {cwd, env: {...npmEnv(), ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr, durationMs: Date.now() - started})
    })
  })
}

/**
 * A preload (`NODE_OPTIONS=--import …`) whose resolve hook writes every module URL the process resolves
 * to `log`: it shows whether tsx was ever loaded (qctl imports it only through `import('tsx/…')`, and
 * tsx's CommonJS side, with esbuild behind it, only after that).
 */
async function resolutionLogger(dir: string, log: string): Promise<Record<string, string>> {
  const hooks = join(dir, 'log-hooks.mjs')
  await writeFile(
    hooks,
    `import {appendFileSync} from 'node:fs'
let log
export async function initialize(data) { log = data.log }
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context)
  appendFileSync(log, resolved.url + '\\n')
  return resolved
}
`,
  )
  const preload = join(dir, 'log-preload.mjs')
  await writeFile(preload, `import {register} from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, {data: {log: ${JSON.stringify(log)}}})\n`)
  return {NODE_OPTIONS: `--import=${pathToFileURL(preload).href}`}
}

type Event = Record<string, unknown> & {event: string}

const eventsOf = (result: CliResult): Event[] =>
  result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Event)

const logsOf = (events: Event[]): unknown[] => events.filter((event) => event.event === 'log').map((event) => event['message'])

describe('the packed package', () => {
  it('ships bin, the compiled JavaScript, the Lua scripts, the public types, the examples and the manifest; no tests, sources, source maps or benchmarks', () => {
    const paths = packed.files.map((file) => file.path)
    for (const needed of ['bin/run.js', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/commands/publish.js', 'dist/core/worker/worker.d.ts', 'examples/handlers/order-processed.ts', 'examples/orders.ndjson', 'oclif.manifest.json', 'package.json', 'README.md']) {
      expect(paths, needed).toContain(needed)
    }
    expect(paths.filter((path) => path.startsWith('dist/lua/') && path.endsWith('.lua')).length).toBeGreaterThan(5)
    expect(paths.filter((path) => /^(test|bench|src|docs|node_modules|\.ci|\.github)\//.test(path))).toEqual([])
    expect(paths.filter((path) => /\.(map|tsbuildinfo)$/.test(path) || /^(tsconfig.*|vitest\.config\.ts|package-lock\.json)$/.test(path))).toEqual([])
    // Declarations only for the public API (dist/index.d.ts reaches into core/ alone): not for commands, screens, formatting.
    expect(paths.filter((path) => path.endsWith('.d.ts') && !path.startsWith('dist/core/') && path !== 'dist/index.d.ts')).toEqual([])
  })

  it('is small: under 2.75 MB unpacked (2.06 MB when written; the source maps alone would add 0.93 MB)', () => {
    // The bound leaves a third for growth and still fails if the maps, src/ (1.5 MB) or test/ (1.5 MB) ship.
    expect(packed.unpackedSize).toBeLessThan(2_750_000)
    expect(packed.size).toBeLessThan(packed.unpackedSize)
  })
})

describe('qctl installed with npm install -g, run from a directory without a clone', () => {
  const ctx = usePrivateRedis()

  it('qctl --version names the installed version', async () => {
    const {version} = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {version: string}
    const result = await qctl(['--version'], await fresh())
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^qctl/${version.replaceAll('.', '\\.')} `))
  })

  it('qctl demo runs the example handler the package ships (TypeScript), and its hints name files that exist', async () => {
    const cwd = await fresh()
    const json = await qctl(['demo', '--count', '20', '--json', '-u', ctx.server.url], cwd)
    expect(json.stderr).toBe('')
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({published: {published: 20}, worker: {processed: 20, retried: 4, deadLettered: 0, lost: 0}})
    const plain = await qctl(['demo', '--count', '20', '-u', ctx.server.url], cwd)
    expect(plain.code).toBe(0)
    const own = plain.stdout.split('\n').find((line) => line.startsWith('Try it on your own topic: ')) ?? ''
    const files = own.split(' ').filter((word) => word.includes('examples' + sep))
    expect(files).toHaveLength(2)
    for (const file of files) {
      expect(isAbsolute(file), file).toBe(true)
      expect(file.startsWith(installed + sep), file).toBe(true)
      expect(existsSync(file), file).toBe(true)
    }
  })

  it('a .js handler in a plain directory gets the installed qctl, and tsx is never loaded', async () => {
    const dir = await fresh({
      'handler.js': `const {PermanentError} = require('qctl')

exports.handle = async (message, ctx) => {
  ctx.log('qctl at ' + require.resolve('qctl'))
  if (!(message.data.total > 0)) throw new PermanentError('non-positive total')
}
`,
    })
    const log = join(dir, 'resolved.log')
    const topic = `orders-js-${counter}`
    await ctx.redis.xadd(topic, '*', 'data', JSON.stringify({total: 10}))
    await ctx.redis.xadd(topic, '*', 'data', JSON.stringify({total: 0}))
    const result = await qctl(['work', './handler.js', '--topic', topic, '--group', 'billing', '--until-empty', '--json', '-u', ctx.server.url], dir, await resolutionLogger(dir, log))
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const events = eventsOf(result)
    expect(events.find((event) => event.event === 'summary')).toMatchObject({processed: 1, deadLettered: 1})
    expect(logsOf(events)).toEqual([`qctl at ${join(installed, 'dist', 'index.cjs')}`, `qctl at ${join(installed, 'dist', 'index.cjs')}`])
    const resolved = (await readFile(log, 'utf8')).split('\n')
    // The logger saw qctl's own imports (so it would have seen tsx's).
    expect(resolved).toContain(pathToFileURL(join(installed, 'dist', 'commands', 'work.js')).href)
    expect(resolved.filter((url) => url.includes('/node_modules/tsx/'))).toEqual([])
  })

  it('a .ts handler in a plain directory runs through tsx (which the logger then sees load)', async () => {
    const dir = await fresh({
      'handler.ts': `import {PermanentError, type Message} from 'qctl'

class InvalidOrder extends PermanentError {
  constructor(message: string) {
    super(message)
    this.name = 'InvalidOrder'
  }
}

export async function handle(message: Message<{total: number}>): Promise<void> {
  if (!(message.data.total > 0)) throw new InvalidOrder('non-positive total')
}
`,
    })
    const log = join(dir, 'resolved.log')
    const topic = `orders-ts-${counter}`
    await ctx.redis.xadd(topic, '*', 'data', JSON.stringify({total: 10}))
    await ctx.redis.xadd(topic, '*', 'data', JSON.stringify({total: 0}))
    const result = await qctl(['work', './handler.ts', '--topic', topic, '--group', 'billing', '--until-empty', '--json', '-u', ctx.server.url], dir, await resolutionLogger(dir, log))
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const events = eventsOf(result)
    expect(events.find((event) => event.event === 'summary')).toMatchObject({processed: 1, retried: 0, deadLettered: 1})
    expect(JSON.stringify(events.find((event) => event.event === 'deadLetter'))).toContain('InvalidOrder')
    const resolved = (await readFile(log, 'utf8')).split('\n')
    expect(resolved.some((url) => url.startsWith(pathToFileURL(join(installed, 'node_modules', 'tsx')).href + '/'))).toBe(true)
  })

  it('the shipped types check a TypeScript handler (a project with qctl and @types/node installed)', async () => {
    // Links stand for `npm install -D qctl @types/node` in the project: qctl is the installed package
    // (its shipped .d.ts files only), @types/node the repository's. Checked with the repository's tsc, offline.
    const dir = await fresh({
      'package.json': JSON.stringify({name: 'billing', type: 'module'}),
      'tsconfig.json': JSON.stringify({compilerOptions: {module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node']}, include: ['*.ts']}),
      'handler.ts': `import {PermanentError, Worker, type Handler, type HandlerContext, type Message} from 'qctl'

export const topic = 'order.processed'

export const handle: Handler<{total: number}> = async (message: Message<{total: number}>, ctx: HandlerContext) => {
  // @ts-expect-error: attempt is a number, so the types are qctl's and not \`any\`
  const attempt: string = ctx.attempt
  if (!(message.data.total > 0)) throw new PermanentError(\`non-positive total (\${attempt})\`)
}

export const worker: typeof Worker | undefined = undefined
`,
    })
    await mkdir(join(dir, 'node_modules', '@types'), {recursive: true})
    await symlink(installed, join(dir, 'node_modules', 'qctl'), 'dir')
    await symlink(join(PROJECT_ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir')
    const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const checked = await execFileAsync(process.execPath, [tsc, '-p', dir], {cwd: dir}).then(
      ({stdout}) => stdout,
      (error: {stdout?: string}) => `tsc failed:\n${error.stdout ?? String(error)}`,
    )
    expect(checked).toBe('')
  })
})

describe('npx from the packed tarball', () => {
  it('npx --package ./qctl-VERSION.tgz qctl --version runs it without a global install', async () => {
    // npx installs into npm's cache (_npx/HASH); the entry made for this temporary tarball is removed after.
    const cache = (await npm(['config', 'get', 'cache'], root)).trim()
    const npxDir = join(cache, '_npx')
    const before = new Set(existsSync(npxDir) ? await readdir(npxDir) : [])
    const cwd = await fresh()
    try {
      const {stdout, stderr} = await execFileAsync('npx', ['--yes', '--prefer-offline', '--package', tarball, 'qctl', '--version'], {cwd, env: npmEnv()})
      expect(stderr).toBe('')
      expect(stdout).toMatch(/^qctl\/\d+\.\d+\.\d+ /)
    } finally {
      for (const entry of existsSync(npxDir) ? await readdir(npxDir) : []) {
        if (before.has(entry)) continue
        const manifest = await readFile(join(npxDir, entry, 'package.json'), 'utf8').catch(() => '')
        if (manifest.includes(root)) await rm(join(npxDir, entry), {recursive: true, force: true})
      }
    }
  })
})
