import type {CompletionCommand, CompletionModel, ValueKind} from './model.js'

/**
 * The per-command facts every completion script needs, as shell `case` blocks (bash and zsh read
 * the same syntax; fish has its own `switch`): which flags take a value, what a flag's value is,
 * and what each argument is. Values are single words (`topic`, `options:zsh bash`).
 */

export const kindWord = (kind: ValueKind): string => (typeof kind === 'string' ? kind : `options:${kind.options.join(' ')}`)

/** Command ids and flag names are plain words; anything else would be a bug in a definition. */
function word(text: string): string {
  if (!/^[A-Za-z0-9:_.-]+$/.test(text)) throw new Error(`not a plain word for a completion script: ${JSON.stringify(text)}`)
  return text
}

const flagForms = (flag: CompletionCommand['flags'][number]): string[] => [`--${word(flag.name)}`, ...(flag.char === undefined ? [] : [`-${word(flag.char)}`])]

/** `lag) printf '%s\n' ' --match --group … ' ;;` : the flags of each command that take a value, space-delimited. */
export function valueFlagsCase(model: CompletionModel, indent: string): string {
  return model.commands
    .map((command) => `${indent}${word(command.id)}) printf '%s\\n' ' ${command.flags.filter((flag) => flag.takesValue).flatMap(flagForms).join(' ')} ' ;;`)
    .join('\n')
}

/** `lag:--match|lag:-m) printf '%s\n' 'none' ;;`: the value of each flag that takes one. */
export function flagValueCase(model: CompletionModel, indent: string): string {
  const lines: string[] = []
  for (const command of model.commands) {
    for (const flag of command.flags.filter((candidate) => candidate.takesValue)) {
      const kind = kindWord(flag.value)
      lines.push(`${indent}${flagForms(flag).map((form) => `'${command.id}:${form}'`).join('|')}) printf '%s\\n' '${kind}' ;;`)
    }
  }
  return lines.join('\n')
}

/** `dlq:show:0) …topic ;;` and, for commands taking a list, `lag:*) …topic ;;`: what each argument is. */
export function argValueCase(model: CompletionModel, indent: string): string {
  const lines: string[] = []
  for (const command of model.commands) {
    command.args.forEach((kind, index) => {
      const last = index === command.args.length - 1
      const pattern = last && command.repeats ? `'${word(command.id)}:'*` : `'${word(command.id)}:${index}'`
      lines.push(`${indent}${pattern}) printf '%s\\n' '${kindWord(kind)}' ;;`)
    })
  }
  return lines.join('\n')
}

/**
 * The word lists the bash and zsh additions both hold: command ids, oclif's command topics (profile, dlq…), and
 * the connection flags forwarded to `__complete-topics` (those taking a value, with their short forms,
 * and the switches), each blank-separated.
 */
export function shellWords(model: CompletionModel): {ids: string; topics: string; forwardedValues: string; forwardedSwitches: string} {
  const ids = model.commands.map((command) => command.id).join(' ')
  const topics = model.topics.map((topic) => topic.name).join(' ')
  const forwardedValues = model.connectionFlags.filter((flag) => flag.takesValue).flatMap((flag) => [`--${flag.name}`, ...(flag.char === undefined ? [] : [`-${flag.char}`])]).join(' ')
  const forwardedSwitches = model.connectionFlags.filter((flag) => !flag.takesValue).map((flag) => `--${flag.name}`).join(' ')
  return {ids, topics, forwardedValues, forwardedSwitches}
}
