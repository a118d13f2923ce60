import type {Command} from '@oclif/core'

import {ProfileStore} from '../core/profiles/store.js'
import {OfflineCommand} from './offline-command.js'

/** The `qctl profile` commands: they edit the profiles file and never connect. */
export abstract class ProfileCommand<T extends typeof Command> extends OfflineCommand<T> {
  protected get store(): ProfileStore {
    return new ProfileStore()
  }
}
