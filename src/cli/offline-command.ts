import type {Command} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import type {connectionFlags} from '../flags.js'

/**
 * A command that never connects (`qctl profile …`, `qctl autocomplete`): the base command's errors,
 * exit codes and --json, without the connection flags. The cast keeps BaseCommand's flag types;
 * these commands never read the connection flags.
 */
export abstract class OfflineCommand<T extends typeof Command> extends BaseCommand<T> {
  static override baseFlags = {} as typeof connectionFlags
}
