import {Args, Flags} from '../../cli/oclif.js'

import {OfflineCommand} from '../../cli/offline-command.js'
import {extendPluginScripts, pluginCommand} from '../../cli/completion/install.js'
import {usageError} from '../../core/errors.js'
import {formatFishInstructions} from '../../format/completion.js'

const SHELLS = ['bash', 'zsh', 'fish', 'powershell']

/**
 * @oclif/plugin-autocomplete's `autocomplete`, with fish added (the plugin writes bash, zsh and
 * PowerShell scripts only) and qctl's additions to the scripts: topic names from Redis, profile
 * names, and (bash) flags after arguments.
 */
export default class Autocomplete extends OfflineCommand<typeof Autocomplete> {
  static override enableJsonFlag = false
  static override summary = 'Set up tab completion for bash, zsh or fish (also powershell): prints the steps.'
  static override description = `Completes commands, flags (with their summaries in zsh and fish), fixed choices, files, profile names, and topic names read from Redis when a connection is configured (a profile, $QCTL_REDIS_URL, or the connection flags on the line): at most 300 ms per tab press, and nothing, silently, when Redis does not answer. bash and zsh scripts come from @oclif/plugin-autocomplete, extended by qctl; the fish script is qctl's own. The scripts are kept in qctl's cache directory; run qctl autocomplete --refresh-cache after upgrading qctl.`
  static override examples = ['<%= config.bin %> autocomplete bash', '<%= config.bin %> autocomplete zsh', '<%= config.bin %> autocomplete fish', '<%= config.bin %> autocomplete --refresh-cache']

  static override args = {shell: Args.string({description: 'Shell type (default: from $SHELL).', options: SHELLS, required: false, ignoreStdin: true})}
  static override flags = {'refresh-cache': Flags.boolean({char: 'r', summary: 'Rewrite the scripts without printing the steps (after upgrading qctl).'})}

  async run(): Promise<void> {
    const shell = this.args.shell ?? this.config.shell
    if (!SHELLS.includes(shell)) throw usageError(`cannot tell the shell from $SHELL ("${shell}"): give it, one of ${SHELLS.join(', ')}`, {suggestion: 'see qctl autocomplete --help'})
    if (shell === 'fish') {
      await (await pluginCommand(this.config, 'autocomplete:create')).run([], this.config)
      await extendPluginScripts(this.config)
      if (!this.flags['refresh-cache']) for (const line of formatFishInstructions(this.config.bin)) this.log(line)
      return
    }
    // The plugin writes its scripts and prints its steps; qctl's additions go in before any shell reads them.
    await (await pluginCommand(this.config, 'autocomplete')).run(this.argv, this.config)
    await extendPluginScripts(this.config)
  }
}
