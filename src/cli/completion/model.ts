import type {Command, Config} from '@oclif/core'

/**
 * What the completion scripts know of qctl, taken from the commands' definitions (the manifest):
 * the same source as @oclif/plugin-autocomplete's lists, plus what it cannot express: which
 * arguments and flag values are topic names (completed from Redis) or profile names.
 */

/** What a value is: completed from Redis, from the profiles file, from a fixed list, as a file name, or not at all. */
export type ValueKind = 'topic' | 'profile' | 'file' | 'none' | {options: string[]}

export interface CompletionFlag {
  name: string
  char: string | undefined
  /** Takes a value (`--topic T`); boolean flags do not. */
  takesValue: boolean
  /** `--no-NAME` exists too. */
  allowNo: boolean
  value: ValueKind
  summary: string
}

export interface CompletionCommand {
  /** `dlq:list` */
  id: string
  summary: string
  flags: CompletionFlag[]
  /** By position; the last one repeats when `repeats` (commands taking a list: `lag TOPIC…`). */
  args: ValueKind[]
  repeats: boolean
}

export interface CompletionModel {
  bin: string
  commands: CompletionCommand[]
  /** Topic prefixes (`dlq`, `group`, `autocomplete`) with their descriptions. */
  topics: Array<{name: string; description: string}>
  /** Flags forwarded from the line to `qctl __complete-topics`, so topics come from the Redis the line names. */
  connectionFlags: CompletionFlag[]
}

/** Flags whose value is a topic name. */
const TOPIC_FLAGS = new Set(['topic', 'to-topic'])
/** Arguments that name a file. */
const FILE_ARGS = new Set(['file', 'handler'])
/** The connection flags forwarded to the topic lookup (the others do not change which Redis answers). */
const FORWARDED = new Set(['profile', 'redis-url', 'cluster', 'cluster-nat', 'password-file', 'tls-ca', 'tls-cert', 'tls-key', 'tls-insecure'])

type FlagDefinition = Command.Loadable['flags'][string]
type ArgDefinition = Command.Loadable['args'][string]

/** The first line of a summary, for one-line menus. */
const firstLine = (text: string | undefined): string => (text ?? '').split('\n')[0]?.trim() ?? ''

function valueOfFlag(name: string, flag: FlagDefinition): ValueKind {
  if (flag.type !== 'option') return 'none'
  if (TOPIC_FLAGS.has(name)) return 'topic'
  if (name === 'profile') return 'profile'
  if (flag.options !== undefined && flag.options.length > 0) return {options: [...flag.options]}
  return /<file>|<path>/.test(flag.helpValue === undefined ? '' : String(flag.helpValue)) ? 'file' : 'none'
}

function valueOfArg(commandId: string, arg: ArgDefinition): ValueKind {
  if (arg.options !== undefined && arg.options.length > 0) return {options: [...arg.options]}
  if (arg.name === 'topic') return 'topic'
  if (FILE_ARGS.has(arg.name)) return 'file'
  // `profile create NAME` names a new one: nothing to complete.
  if (arg.name === 'name' && commandId.startsWith('profile:') && commandId !== 'profile:create') return 'profile'
  return 'none'
}

function flagsOf(command: Command.Loadable): CompletionFlag[] {
  return Object.entries(command.flags)
    .filter(([, flag]) => flag.hidden !== true)
    .map(([name, flag]) => ({
      name,
      char: flag.char,
      takesValue: flag.type === 'option',
      allowNo: flag.type === 'boolean' && flag.allowNo === true,
      value: valueOfFlag(name, flag),
      summary: firstLine(flag.summary ?? flag.description),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** Every visible command of every plugin (qctl's and the autocomplete plugin's), as the plugin itself lists them. */
export function completionModel(config: Config): CompletionModel {
  const commands: CompletionCommand[] = config.commands
    .filter((command) => command.hidden !== true)
    .map((command) => ({
      id: command.id,
      summary: firstLine(command.summary ?? command.description),
      flags: flagsOf(command),
      args: Object.values(command.args).map((arg) => valueOfArg(command.id, arg)),
      repeats: command.strict === false,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const prefixes = new Set(commands.flatMap((command) => command.id.split(':').slice(0, -1).map((_part, index, parts) => parts.slice(0, index + 1).join(':'))))
  const described = new Map(config.topics.map((topic) => [topic.name, firstLine(topic.description)]))
  const topics = [...prefixes].sort().map((name) => ({name, description: described.get(name) ?? `${name.replaceAll(':', ' ')} commands`}))
  // Every command that connects has them all; `profile create` has some of the names with other meanings, and no --profile.
  const withConnection = commands.find((command) => command.flags.some((flag) => flag.name === 'profile'))
  const connectionFlags = (withConnection?.flags ?? []).filter((flag) => FORWARDED.has(flag.name))
  return {bin: config.bin, commands, topics, connectionFlags}
}
