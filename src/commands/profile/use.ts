import {Args, Flags} from '../../cli/oclif.js'

import {ProfileCommand} from '../../cli/profile-command.js'
import {usageError} from '../../core/errors.js'
import {useProfile, type UseProfileResult} from '../../core/profiles/manage.js'
import {formatUsed} from '../../format/profile.js'

export default class ProfileUse extends ProfileCommand<typeof ProfileUse> {
  static override summary = 'Make a profile the current one: commands use it when given no --profile, $QCTL_PROFILE or URL.'
  static override description = 'Saved in the profiles file. --none: no current profile (commands use their flags, the environment and the defaults). Exits 6 if the profile does not exist.'
  static override examples = ['<%= config.bin %> profile use staging', '<%= config.bin %> profile use --none']

  static override args = {name: Args.string({description: 'Profile name.', ignoreStdin: true})}
  static override flags = {none: Flags.boolean({summary: 'Use no profile.'})}

  async run(): Promise<UseProfileResult> {
    const {args, flags} = this
    if ((args.name === undefined) === !flags.none) throw usageError(flags.none ? 'give NAME or --none, not both' : 'missing required argument: NAME (or --none for no profile)')
    const result = await useProfile(this.store, args.name)
    if (!this.jsonEnabled()) this.log(formatUsed(result))
    return result
  }
}
