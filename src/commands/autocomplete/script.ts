import {Args} from '../../cli/oclif.js'

import {OfflineCommand} from '../../cli/offline-command.js'
import {fishScript} from '../../cli/completion/fish.js'
import {pluginCommand} from '../../cli/completion/install.js'
import {completionModel} from '../../cli/completion/model.js'

/** bash, zsh, powershell: the plugin's line that loads its script; fish: the whole script (fish loads it from its completions directory). */
export default class AutocompleteScript extends OfflineCommand<typeof AutocompleteScript> {
  static override hidden = true
  static override enableJsonFlag = false
  static override summary = 'Print the line that loads the completion script (fish: the script itself).'
  static override args = {shell: Args.string({description: 'Shell type.', options: ['bash', 'zsh', 'fish', 'powershell'], required: false, ignoreStdin: true})}

  async run(): Promise<void> {
    const shell = this.args.shell ?? this.config.shell
    if (shell === 'fish') {
      process.stdout.write(fishScript(completionModel(this.config)))
      return
    }
    await (await pluginCommand(this.config, 'autocomplete:script')).run(this.argv, this.config)
  }
}
