import {OfflineCommand} from '../../cli/offline-command.js'
import {extendPluginScripts, pluginCommand} from '../../cli/completion/install.js'

/** The plugin's `autocomplete create` (its bash and zsh scripts), then qctl's additions and the fish script. */
export default class AutocompleteCreate extends OfflineCommand<typeof AutocompleteCreate> {
  static override hidden = true
  static override enableJsonFlag = false
  static override summary = 'Write the completion scripts (bash and zsh by @oclif/plugin-autocomplete, extended by qctl; fish by qctl).'

  async run(): Promise<void> {
    await (await pluginCommand(this.config, 'autocomplete:create')).run([], this.config)
    await extendPluginScripts(this.config)
  }
}
