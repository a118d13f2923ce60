import type {Hook} from '@oclif/core'

import {Errors} from '../cli/oclif.js'
import {closest} from '../core/closest.js'
import {styleFor, decorationsFor} from '../output/terminal.js'

/**
 * An unknown command gets qctl's one-line usage error (exit 2, as every usage error), with the
 * closest command as a suggestion, instead of oclif's "command lagg not found" (README, "Output,
 * errors and exit codes").
 */
const hook: Hook<'command_not_found'> = async function ({id, argv, config}) {
  const words = id.split(':')
  // The longest leading part that is a topic ("dlq" in "dlq shw"): the unknown word is the one after it.
  let depth = 0
  while (depth < words.length - 1 && config.findTopic(words.slice(0, depth + 1).join(':')) !== undefined) depth++
  const prefix = words.slice(0, depth)
  const typed = words[depth] ?? id
  const siblings = config.commandIDs
    .map((command) => command.split(':'))
    .filter((parts) => parts.length === depth + 1 && parts.slice(0, depth).join(':') === prefix.join(':'))
    .map((parts) => parts[depth] as string)
  const match = closest(typed, siblings)
  const name = [...prefix, typed].join(' ')
  const message = `unknown command "${name}"`
  const suggestion = match === undefined ? `see ${config.bin} --help` : `did you mean "${[config.bin, ...prefix, match].join(' ')}"? (see ${config.bin} --help)`
  if ((argv ?? []).includes('--json')) {
    process.stdout.write(`${JSON.stringify({error: {code: 'USAGE', message, exitCode: 2, suggestion}}, null, 2)}\n`)
  } else {
    const style = styleFor(decorationsFor(process.stderr, false))
    process.stderr.write(`${style.red('Error:')} ${message}\n${style.dim(`Hint: ${suggestion}`)}\n`)
  }
  throw new Errors.ExitError(2)
}

export default hook
