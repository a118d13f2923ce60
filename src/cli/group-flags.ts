import {Args, Flags} from './oclif.js'

/** Arguments and flags shared by the `qctl group` commands. */

export const groupArgs = {
  topic: Args.string({description: 'Topic: a stream, or a partitioned topic (every partition).', required: true, ignoreStdin: true}),
  group: Args.string({description: 'Consumer group name.', required: true, ignoreStdin: true}),
}

export const forceFlag = (summary: string) => Flags.boolean({summary, default: false})
