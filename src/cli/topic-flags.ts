import {Args, Flags} from './oclif.js'

/** Arguments and flags shared by the `qctl topic` commands. */

export const topicNameArg = Args.string({description: 'Topic name.', required: true, ignoreStdin: true})

export const partitionsFlag = (summary: string) => Flags.integer({char: 'p', summary, required: true, min: 1, helpValue: '<n>'})
