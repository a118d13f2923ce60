import {Args} from '../../cli/oclif.js'

import {ProfileCommand} from '../../cli/profile-command.js'
import {showProfile, type ProfileView} from '../../core/profiles/manage.js'
import {formatProfileView} from '../../format/profile.js'

export default class ProfileShow extends ProfileCommand<typeof ProfileShow> {
  static override summary = 'Show a profile\'s settings (default: the one in use), passwords masked.'
  static override description = 'A password stored in the profile, alone or in the URL, is shown as ***; a password file by its path. Exits 6 if the profile does not exist, 2 if none is named and none is in use.'
  static override examples = ['<%= config.bin %> profile show', '<%= config.bin %> profile show prod --json']

  static override args = {name: Args.string({description: 'Profile name (default: $QCTL_PROFILE, else the current profile).', ignoreStdin: true})}

  async run(): Promise<ProfileView> {
    const view = await showProfile(this.store, this.args.name, process.env)
    if (!this.jsonEnabled()) for (const line of formatProfileView(view)) this.log(line)
    return view
  }
}
