import {Errors} from '../cli/oclif.js'

import {ProfileCommand} from '../cli/profile-command.js'

/** Profile names for shell completion (`--profile`, `profile use|show|delete`), one a line; nothing on any error. */
export default class CompleteProfiles extends ProfileCommand<typeof CompleteProfiles> {
  static override hidden = true
  static override enableJsonFlag = false
  static override summary = 'Profile names for shell completion (used by the scripts of qctl autocomplete).'

  async run(): Promise<void> {
    const file = await this.store.load()
    for (const name of Object.keys(file.profiles).sort()) process.stdout.write(`${name}\n`)
  }

  /** Completion never prints an error. */
  override async catch(): Promise<never> {
    throw new Errors.ExitError(0)
  }
}
