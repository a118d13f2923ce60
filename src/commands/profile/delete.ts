import {Args, Flags} from '../../cli/oclif.js'

import {ProfileCommand} from '../../cli/profile-command.js'
import {confirmed, requireConsentPossible} from '../../cli/confirm.js'
import {checkProfileExists, deleteProfile, type DeleteProfileResult} from '../../core/profiles/manage.js'
import {formatDeleted} from '../../format/profile.js'

export default class ProfileDelete extends ProfileCommand<typeof ProfileDelete> {
  static override summary = 'Delete a profile (asks first on a terminal; --yes otherwise).'
  static override description = 'Deleting the current profile leaves none current. A password file the profile named is left alone. Exits 6 if the profile does not exist, 2 without --yes and no terminal to ask on.'
  static override examples = ['<%= config.bin %> profile delete staging', '<%= config.bin %> profile delete staging --yes']

  static override args = {name: Args.string({description: 'Profile name.', required: true, ignoreStdin: true})}
  static override flags = {yes: Flags.boolean({char: 'y', summary: 'Delete without asking.'})}

  async run(): Promise<DeleteProfileResult> {
    const {args, flags} = this
    const consent = {action: `delete profile "${args.name}"`, yes: flags.yes, dryRun: false, offersDryRun: false}
    requireConsentPossible(consent)
    await checkProfileExists(this.store, args.name)
    const result = (await confirmed(consent, `Delete profile "${args.name}"? [y/N] `))
      ? await deleteProfile(this.store, args.name)
      : {path: this.store.path, name: args.name, deleted: false, wasCurrent: false, cancelled: true as const}
    if (!this.jsonEnabled()) for (const line of formatDeleted(result)) this.log(line)
    return result
  }
}
