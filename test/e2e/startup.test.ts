import {spawn} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {Config} from '@oclif/core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CLI, cleanEnv, PROJECT_ROOT} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * What a one-shot command loads on its way (README, Performance: start-up). Timings are the bench's
 * (`node bench/run.mjs --scenario startup`); these tests check the causes, which do not vary by machine:
 * `--version` loads no oclif at all, and no CommonJS package (oclif, ioredis) reaches an ES module
 * through `import`, which on Node 20 costs ~30-40 ms of CPU per package over require().
 */

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-startup-'))
  // At exit, every CommonJS module loaded (require's cache), one path a line.
  await writeFile(join(dir, 'required.cjs'), "process.on('exit', () => require('node:fs').writeFileSync(process.env.REQUIRED_LOG, Object.keys(require.cache).join('\\n')))\n")
  // Every module the ES loader loads as CommonJS (what an `import` of a CommonJS package costs), with its URL.
  await writeFile(
    join(dir, 'imported-hooks.mjs'),
    `import {appendFileSync} from 'node:fs'
let log
export async function initialize(data) { log = data.log }
export async function load(url, context, next) {
  const loaded = await next(url, context)
  if (loaded.format === 'commonjs') appendFileSync(log, url + '\\n')
  return loaded
}
`,
  )
  await writeFile(join(dir, 'imported.mjs'), `import {register} from 'node:module'\nregister(${JSON.stringify(pathToFileURL(join(dir, 'imported-hooks.mjs')).href)}, {data: {log: process.env.IMPORTED_LOG}})\n`)
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

let runs = 0

/** `node [preload] bin/run.js ARGS`; the preload's log as lines. */
async function run(args: string[], preload: 'required' | 'imported'): Promise<{code: number | null; stdout: string; stderr: string; logged: string[]}> {
  const log = join(dir, `${preload}-${++runs}.log`)
  const nodeArgs = preload === 'required' ? ['--require', join(dir, 'required.cjs')] : ['--import', pathToFileURL(join(dir, 'imported.mjs')).href]
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], {cwd: PROJECT_ROOT, env: cleanEnv({REQUIRED_LOG: log, IMPORTED_LOG: log}), stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  const logged = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '')
  return {code, stdout, stderr, logged}
}

describe('qctl --version', () => {
  it("prints oclif's own version line (Config.userAgent) and loads no module of oclif", async () => {
    const config = await Config.load(PROJECT_ROOT)
    const version = await run(['--version'], 'required')
    expect(version.stderr).toBe('')
    expect(version.code).toBe(0)
    expect(version.stdout).toBe(`${config.userAgent}\n`)
    expect(version.logged.filter((path) => path.includes('/@oclif/'))).toEqual([])
    // The same preload sees oclif when a command runs through it.
    const help = await run(['--help'], 'required')
    expect(help.code).toBe(0)
    expect(help.logged.some((path) => path.includes('/@oclif/core/'))).toBe(true)
  })
})

describe('a one-message publish', () => {
  const ctx = usePrivateRedis()

  it('gets oclif and ioredis through require(), not import (the ES loader translates no CommonJS module)', async () => {
    const published = await run(['publish', 'startup.t', '--data', '{"a":1}', '-u', ctx.server.url], 'imported')
    expect(published.stderr).toBe('')
    expect(published.code).toBe(0)
    expect(await ctx.redis.xlen('startup.t')).toBe(1)
    expect(published.logged).toEqual([])
  })
})
