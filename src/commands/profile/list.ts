import {ProfileCommand} from '../../cli/profile-command.js'
import {listProfiles, type ListProfilesResult} from '../../core/profiles/manage.js'
import {formatProfileList} from '../../format/profile.js'
import {tableTarget} from '../../output/table-target.js'

export default class ProfileList extends ProfileCommand<typeof ProfileList> {
  static override summary = 'List the profiles; * marks the one in use ($QCTL_PROFILE, else the current one).'
  static override description = 'Passwords are never shown: PASSWORD says where it comes from (file, stored, none).'
  static override examples = ['<%= config.bin %> profile list', '<%= config.bin %> profile list --json']

  async run(): Promise<ListProfilesResult> {
    const result = await listProfiles(this.store, process.env)
    if (!this.jsonEnabled()) for (const line of formatProfileList(result, this.style, tableTarget(process.stdout))) this.log(line)
    return result
  }
}
