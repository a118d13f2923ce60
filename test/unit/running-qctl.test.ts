import {mkdir, mkdtemp, realpath, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {importFinds} from '../../src/core/worker/running-qctl.js'

/**
 * Which qctl `import 'qctl'` finds from a handler without hooks: when it is the running one, the worker
 * registers no resolve hook (a thread of its own on Node 20). A wrong answer either costs that thread or,
 * worse, gives a handler another copy, so each case of Node's lookup is here, on real directories.
 */

let root = ''
beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'qctl-finds-')))
})
afterAll(async () => {
  await rm(root, {recursive: true, force: true})
})

async function files(base: string, entries: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(entries)) {
    await mkdir(dirname(join(base, name)), {recursive: true})
    await writeFile(join(base, name), text)
  }
}

const manifest = (fields: Record<string, unknown>): string => JSON.stringify(fields)

describe('importFinds: the qctl package a handler imports without hooks', () => {
  it('none in a plain directory', async () => {
    const dir = join(root, 'plain')
    await files(dir, {'handler.mjs': ''})
    expect(importFinds(join(dir, 'handler.mjs'))).toBeUndefined()
  })

  it('the enclosing package when it is qctl with "exports" (self-reference), from any depth', async () => {
    const dir = join(root, 'self')
    await files(dir, {'package.json': manifest({name: 'qctl', exports: './index.js'}), 'bench/handlers/h.mjs': ''})
    expect(importFinds(join(dir, 'bench/handlers/h.mjs'))).toBe(dir)
  })

  it('no self-reference without "exports", nor from a nested package of another name', async () => {
    const dir = join(root, 'no-exports')
    await files(dir, {'package.json': manifest({name: 'qctl'}), 'h.mjs': '', 'sub/package.json': manifest({name: 'other', exports: './x.js'}), 'sub/h.mjs': ''})
    expect(importFinds(join(dir, 'h.mjs'))).toBeUndefined()
    expect(importFinds(join(dir, 'sub/h.mjs'))).toBeUndefined()
  })

  it('the nearest node_modules/qctl walking up, by its real path (an npm link)', async () => {
    const dir = join(root, 'linked')
    const installed = join(root, 'installed-qctl')
    await files(installed, {'package.json': manifest({name: 'qctl', exports: './index.js'})})
    await files(dir, {'package.json': manifest({name: 'billing'}), 'src/deep/h.mjs': '', 'src/node_modules/.keep': ''})
    await mkdir(join(dir, 'node_modules'))
    await symlink(installed, join(dir, 'node_modules', 'qctl'), 'dir')
    expect(importFinds(join(dir, 'src/deep/h.mjs'))).toBe(installed)
  })

  it('a nearer copy wins over a farther one, even one without package.json (Node takes the folder)', async () => {
    const dir = join(root, 'nearer')
    await files(dir, {'node_modules/qctl/package.json': manifest({name: 'qctl'}), 'app/node_modules/qctl/index.js': '', 'app/h.mjs': ''})
    expect(importFinds(join(dir, 'app/h.mjs'))).toBe(join(dir, 'app/node_modules/qctl'))
  })

  it('from the handler\'s real path when the handler is a symbolic link', async () => {
    const real = join(root, 'real-project')
    const elsewhere = join(root, 'elsewhere')
    await files(real, {'node_modules/qctl/package.json': manifest({name: 'qctl'}), 'h.mjs': ''})
    await mkdir(elsewhere)
    await symlink(join(real, 'h.mjs'), join(elsewhere, 'h.mjs'))
    expect(importFinds(join(elsewhere, 'h.mjs'))).toBe(join(real, 'node_modules/qctl'))
  })
})
