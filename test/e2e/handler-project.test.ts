import {execFile} from 'node:child_process'
import {mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {PROJECT_ROOT, runCli, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * The README's handler set-ups, each in a directory outside the repository (so nothing resolves `qctl`
 * through the repo's own package.json or node_modules), run by the built CLI as a user runs it.
 */

const ctx = usePrivateRedis()
const run = promisify(execFile)
let root = ''
let counter = 0

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'qctl-project-'))
})
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

/** A fresh project directory with these files. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = join(root, `project-${++counter}`)
  await mkdir(dir)
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), {recursive: true})
    await writeFile(join(dir, name), text)
  }
  return dir
}

type Event = Record<string, unknown> & {event: string}

/** One good and one bad message on a new topic, then `qctl work HANDLER --until-empty --json` in `dir`. */
async function drain(dir: string, handler: string): Promise<{result: CliResult; events: Event[]}> {
  const topic = `orders-${counter}-${handler.replace(/\W/g, '')}`
  await ctx.redis.xadd(topic, '*', 'data', JSON.stringify({orderId: 1, total: 10}))
  await ctx.redis.xadd(topic, '*', 'data', JSON.stringify({orderId: 2, total: -1}))
  const result = await runCli(['work', handler, '--topic', topic, '--group', 'billing', '--until-empty', '--json', '-u', ctx.server.url], {cwd: dir})
  const events = result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Event)
  return {result, events}
}

/** The order with a non-positive total was dead-lettered on its first attempt, the other processed. */
function expectHandled({result, events}: {result: CliResult; events: Event[]}, errorName: string): void {
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  const deadLetters = events.filter((event) => event.event === 'deadLetter')
  expect(deadLetters).toHaveLength(1)
  expect(deadLetters[0]).toMatchObject({attempts: 1})
  expect(JSON.stringify(deadLetters[0])).toContain(errorName)
  expect(events.find((event) => event.event === 'summary')).toMatchObject({processed: 1, retried: 0, deadLettered: 1})
}

const logs = (events: Event[]): unknown[] => events.filter((event) => event.event === 'log').map((event) => event['message'])

const ESM_HANDLER = `import {PermanentError} from 'qctl'

export default async function handle(message) {
  if (!(message.data.total > 0)) throw new PermanentError('non-positive total')
}
`

const CJS_HANDLER = `const {PermanentError} = require('qctl')

exports.handle = async (message) => {
  if (!(message.data.total > 0)) throw new PermanentError('non-positive total')
}
`

/** A subclass, named its own way: recognised as permanent only through the class (or its brand), not by name. */
const TS_HANDLER = `import {createRequire} from 'node:module'
import * as qctl from 'qctl'
import {PermanentError, type Handler, type Message} from 'qctl'

class InvalidOrder extends PermanentError {
  constructor(message: string) {
    super(message)
    this.name = 'InvalidOrder'
  }
}

// The qctl that require() gives is the running one (filled in by the loader): the same classes show
// that import did not load a second copy.
const required = createRequire(import.meta.url)('qctl') as typeof qctl

export const handle: Handler<{total: number}> = async (message: Message<{total: number}>, ctx) => {
  ctx.log(\`one qctl: \${required.PermanentError === qctl.PermanentError}\`)
  if (!(message.data.total > 0)) throw new InvalidOrder('non-positive total')
}
`

describe('handler projects outside the repository', () => {
  it('a plain directory (no package.json, nothing installed): an .mjs handler imports qctl', async () => {
    const dir = await project({'handler.mjs': ESM_HANDLER})
    expectHandled(await drain(dir, './handler.mjs'), 'PermanentError')
  })

  it('a plain directory: a .cjs handler requires qctl', async () => {
    const dir = await project({'handler.cjs': CJS_HANDLER})
    expectHandled(await drain(dir, './handler.cjs'), 'PermanentError')
  })

  it('an `npm init -y` CommonJS package: a .js handler requires qctl', async () => {
    const dir = await project({'handler.js': CJS_HANDLER})
    await run('npm', ['init', '-y'], {cwd: dir})
    expectHandled(await drain(dir, './handler.js'), 'PermanentError')
  })

  it('an ES module package with another copy of qctl installed: the handler gets the running one', async () => {
    // An install of another version (here one that cannot even load) must not be what the handler gets.
    const other = "throw new Error('the copy installed in the project was loaded')\n"
    const dir = await project({
      'package.json': JSON.stringify({name: 'billing', type: 'module', dependencies: {qctl: '0.0.1'}}),
      'node_modules/qctl/package.json': JSON.stringify({name: 'qctl', version: '0.0.1', exports: {import: './index.js', require: './index.cjs'}}),
      'node_modules/qctl/index.js': other,
      'node_modules/qctl/index.cjs': other,
      'handler.js': ESM_HANDLER,
      'required.cjs': CJS_HANDLER,
    })
    expectHandled(await drain(dir, './handler.js'), 'PermanentError')
    expectHandled(await drain(dir, './required.cjs'), 'PermanentError')
  })

  it('a package with this qctl installed (a link): the handler imports it, and no resolve hook thread runs', async () => {
    // The hook that maps `qctl` runs in a thread of its own on Node 20 (~10 MB): a handler whose own
    // lookup finds the running qctl does without it. The handler counts the process's threads.
    const counting = `import {readdirSync} from 'node:fs'
import {PermanentError} from 'qctl'

export default async function handle(message, ctx) {
  ctx.log(\`threads: \${readdirSync('/proc/self/task').length}\`)
  if (!(message.data.total > 0)) throw new PermanentError('non-positive total')
}
`
    const plain = await project({'handler.mjs': counting})
    const installed = await project({'package.json': JSON.stringify({name: 'billing', type: 'module'}), 'handler.mjs': counting})
    await mkdir(join(installed, 'node_modules'))
    await symlink(PROJECT_ROOT, join(installed, 'node_modules', 'qctl'), 'dir')
    const threads = (events: Event[]): number => Number(/^threads: (\d+)$/.exec(String(logs(events)[0]))?.[1])
    const hooked = await drain(plain, './handler.mjs')
    const direct = await drain(installed, './handler.mjs')
    expectHandled(hooked, 'PermanentError')
    expectHandled(direct, 'PermanentError')
    expect(threads(direct.events)).toBeGreaterThan(0)
    expect(threads(direct.events)).toBeLessThan(threads(hooked.events))
  })

  it.each([
    ['a plain directory (tsx compiles it to CommonJS)', {}],
    ['an ES module package', {'package.json': JSON.stringify({name: 'billing', type: 'module'})}],
  ])('%s: a .ts handler throwing a subclass of PermanentError is dead-lettered at once', async (_where, files) => {
    const dir = await project({...files, 'handler.ts': TS_HANDLER})
    const drained = await drain(dir, './handler.ts')
    expectHandled(drained, 'InvalidOrder')
    expect(logs(drained.events)).toEqual(['one qctl: true', 'one qctl: true'])
  })
})

describe('TypeScript types of a handler project', () => {
  // The types come from an install for the editor and tsc (`npm install -D qctl`, or `npm link qctl`):
  // a link to this repository stands for it. Checked with the repository's own tsc, offline.
  const TSC = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const TYPED_HANDLER = `import {PermanentError, type Handler, type HandlerContext, type Message} from 'qctl'

export const topic = 'order.processed'

export const handle: Handler<{total: number}> = async (message: Message<{total: number}>, ctx: HandlerContext) => {
  // @ts-expect-error: attempt is a number, so the types are qctl's and not \`any\`
  const attempt: string = ctx.attempt
  if (!(message.data.total > 0)) throw new PermanentError(\`non-positive total (\${attempt})\`)
}
`
  const tsconfig = JSON.stringify({compilerOptions: {module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: []}, include: ['*.ts']})

  it.each([
    ['an ES module package', {name: 'billing', type: 'module'}],
    ['a CommonJS package', {name: 'billing'}],
  ])('%s: `import type {Handler} from "qctl"` resolves and checks', async (_what, manifest) => {
    const dir = await project({'package.json': JSON.stringify(manifest), 'tsconfig.json': tsconfig, 'handler.ts': TYPED_HANDLER})
    await mkdir(join(dir, 'node_modules'))
    await symlink(PROJECT_ROOT, join(dir, 'node_modules', 'qctl'), 'dir')
    const checked = await run(process.execPath, [TSC, '-p', dir], {cwd: dir}).then(
      ({stdout}) => stdout,
      (error: {stdout?: string}) => `tsc failed:\n${error.stdout ?? String(error)}`,
    )
    expect(checked).toBe('')
  })
})

describe('the package installed in a project (a link to this repository stands for the install)', () => {
  it('require("qctl") and import("qctl") give one copy: the CommonJS entry is the ES module itself', async () => {
    const dir = await project({'package.json': JSON.stringify({name: 'billing'})})
    await mkdir(join(dir, 'node_modules'))
    await symlink(PROJECT_ROOT, join(dir, 'node_modules', 'qctl'), 'dir')
    const script = "const q = require('qctl'); import('qctl').then((m) => console.log(typeof q.Worker, q.PermanentError === m.PermanentError))"
    const {stdout, stderr} = await run(process.execPath, ['-e', script], {cwd: dir})
    expect(stderr).toBe('')
    expect(stdout.trim()).toBe('function true')
  })
})
