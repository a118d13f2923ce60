import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import type {Command, Config} from '@oclif/core'

import {BASH_MARKER, bashAddition} from './bash.js'
import {fishScript} from './fish.js'
import {completionModel} from './model.js'
import {zshAugmented} from './zsh.js'

export const PLUGIN = '@oclif/plugin-autocomplete'

/** A command of @oclif/plugin-autocomplete, which qctl's autocomplete commands extend by running it. */
export async function pluginCommand(config: Config, id: string): Promise<Command.Class> {
  const plugin = config.plugins.get(PLUGIN)
  if (plugin === undefined) throw new Error(`${PLUGIN} is not installed`)
  return plugin.findCommand(id, {must: true})
}

/** Where the plugin keeps its scripts: `<cacheDir>/autocomplete/functions/<shell>/…`. */
export const scriptPaths = (config: Config) => {
  const functions = join(config.cacheDir, 'autocomplete', 'functions')
  return {bash: join(functions, 'bash', `${config.bin}.bash`), zsh: join(functions, 'zsh', `_${config.bin}`), fish: join(functions, 'fish', `${config.bin}.fish`)}
}

const readIfThere = async (path: string): Promise<string | undefined> => {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * After the plugin wrote its bash and zsh scripts (`autocomplete:create`): qctl's additions to
 * them (topic and profile names; bash: flags after arguments), and the fish script beside them.
 * Running it again replaces the additions, never stacks them.
 */
export async function extendPluginScripts(config: Config): Promise<void> {
  const model = completionModel(config)
  const paths = scriptPaths(config)
  const bash = await readIfThere(paths.bash)
  if (bash !== undefined) await writeFile(paths.bash, `${(bash.split(`\n${BASH_MARKER}`)[0] ?? '').trimEnd()}\n${bashAddition(model)}`)
  const zsh = await readIfThere(paths.zsh)
  if (zsh !== undefined) await writeFile(paths.zsh, zshAugmented(zsh, model))
  await mkdir(dirname(paths.fish), {recursive: true})
  await writeFile(paths.fish, fishScript(model))
}
