import {createRequire} from 'node:module'

import type * as ArgsModule from '@oclif/core/args'
import type * as CommandModule from '@oclif/core/command'
import type * as ErrorsModule from '@oclif/core/errors'
import type * as FlagsModule from '@oclif/core/flags'

/**
 * oclif's parts that commands use, loaded with require() rather than import, and by their own entry
 * points rather than the package's index (which also loads help, ux and a semver check of Node's
 * version, ~50 modules). @oclif/core is CommonJS: an ES module importing it makes Node 20 lex and
 * translate it for the ES loader, which cost a one-shot command ~30 ms of CPU more than require()
 * (measured 2026-12-04; see the README's start-up figures). Types still come from '@oclif/core'.
 */
const require = createRequire(import.meta.url)

export const Args = require('@oclif/core/args') as typeof ArgsModule
export const Flags = require('@oclif/core/flags') as typeof FlagsModule
export const Errors = require('@oclif/core/errors') as typeof ErrorsModule
export const Command = (require('@oclif/core/command') as typeof CommandModule).Command
export type Command = CommandModule.Command
