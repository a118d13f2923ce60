import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {Plugin} from '@oclif/core'
import {describe, expect, it} from 'vitest'

import {PROJECT_ROOT} from '../helpers/cli.js'

/** The fields of a manifest that describe the commands (the rest is version bookkeeping). */
const commandsOf = (manifest: {commands: Record<string, unknown>}): Record<string, unknown> => JSON.parse(JSON.stringify(manifest.commands)) as Record<string, unknown>

describe('oclif.manifest.json', () => {
  it('matches the commands built into dist/ (run `npm run build` and commit the manifest)', async () => {
    const committed = JSON.parse(await readFile(join(PROJECT_ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    // What `oclif manifest` computes: load every command class, ignoring the manifest file.
    const plugin = new Plugin({root: PROJECT_ROOT, ignoreManifest: true, isRoot: true, type: 'core'})
    await plugin.load()
    expect(Object.keys(committed.commands).sort()).toEqual(plugin.commandIDs.slice().sort())
    expect(commandsOf(committed)).toEqual(commandsOf(plugin.manifest))
  })
})
