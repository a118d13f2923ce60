import type {Command} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ProfileStore} from '../core/profiles/store.js'
import type {connectionFlags} from '../flags.js'

/**
 * The `qctl profile` commands: the base command's errors, exit codes and --json, but no connection
 * flags (they only edit the profiles file and never connect). The cast keeps BaseCommand's flag
 * types; these commands never read the connection flags.
 */
export abstract class ProfileCommand<T extends typeof Command> extends BaseCommand<T> {
  static override baseFlags = {} as typeof connectionFlags

  protected get store(): ProfileStore {
    return new ProfileStore()
  }
}
