import type {CompletionFlag, CompletionModel, ValueKind} from './model.js'
import {kindWord} from './shell-cases.js'

/** A fish single-quoted string. */
const quoted = (text: string): string => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`

/** How fish completes a flag's value: -x (a value, no files) with candidates, or -r -F (a file). */
function valueSpec(bin: string, kind: ValueKind): string {
  if (kind === 'file') return '-r -F'
  if (kind === 'topic') return `-x -a '(__${bin}_complete_topics)'`
  if (kind === 'profile') return `-x -a '(${bin} __complete-profiles 2>/dev/null)'`
  if (kind === 'none') return '-x'
  return `-x -a ${quoted(kind.options.join(' '))}`
}

function flagLines(bin: string, id: string, flag: CompletionFlag): string[] {
  const names = `-l ${flag.name}${flag.char === undefined ? '' : ` -s ${flag.char}`}`
  const value = flag.takesValue ? ` ${valueSpec(bin, flag.value)}` : ''
  const lines = [`complete -c ${bin} -n '__${bin}_is ${id}' ${names}${value} -d ${quoted(flag.summary)}`]
  if (flag.allowNo) lines.push(`complete -c ${bin} -n '__${bin}_is ${id}' -l no-${flag.name} -d ${quoted(`Not: ${flag.summary}`)}`)
  return lines
}

/**
 * The fish completion script, written by qctl from the same command definitions the plugin reads:
 * @oclif/plugin-autocomplete 3.2 writes scripts for bash, zsh and PowerShell only. Commands and
 * topics with their summaries, every flag with its summary (`--no-` forms too), fixed choices, files
 * where a file goes, profile names, and topic names from Redis (`qctl __complete-topics`, with the
 * connection flags given on the line, 300 ms at most, nothing on failure).
 */
export function fishScript(model: CompletionModel): string {
  const bin = model.bin
  const lines: string[] = [
    `# ${bin} completion for fish, written by \`${bin} autocomplete fish\` from ${bin}'s command definitions`,
    `# (@oclif/plugin-autocomplete 3.2 writes bash, zsh and PowerShell scripts, not fish).`,
    `# Install: ${bin} autocomplete script fish > ~/.config/fish/completions/${bin}.fish`,
    '',
    `set -g __${bin}_ids ${model.commands.map((command) => command.id).join(' ')}`,
    `set -g __${bin}_topics ${model.topics.map((topic) => topic.name).join(' ')}`,
    '',
    `# The command typed so far (longest run of words naming one) and the index of its last word.`,
    `function __${bin}_id`,
    `    set -l words (commandline -opc)`,
    `    set -l id ''`,
    `    set -l prefix ''`,
    `    set -l n 1`,
    `    set -l i 1`,
    `    # Not (seq 2 N): BSD seq counts down when N is 1.`,
    `    for word in $words[2..-1]`,
    `        set i (math $i + 1)`,
    `        string match -q -- '-*' $word; and break`,
    `        if test -z "$prefix"`,
    `            set prefix $word`,
    `        else`,
    `            set prefix "$prefix:$word"`,
    `        end`,
    `        if contains -- $prefix $__${bin}_ids`,
    `            set id $prefix`,
    `            set n $i`,
    `        else if not contains -- $prefix $__${bin}_topics`,
    `            break`,
    `        end`,
    `    end`,
    `    printf '%s\\n' "$id" $n`,
    `end`,
    '',
    `# The words after the program are exactly this topic (or none, for ''): its commands are offered.`,
    `function __${bin}_in`,
    `    set -l words (commandline -opc)`,
    `    set -e words[1]`,
    `    set -l joined (string join ':' -- $words)`,
    `    test "$joined" = "$argv[1]"`,
    `end`,
    '',
    `function __${bin}_is`,
    `    set -l found (__${bin}_id)`,
    `    test "$found[1]" = "$argv[1]"`,
    `end`,
    '',
    `function __${bin}_value_flags`,
    `    switch $argv[1]`,
    ...model.commands.flatMap((command) => [
      `        case ${quoted(command.id)}`,
      `            printf '%s\\n' ${command.flags.filter((flag) => flag.takesValue).flatMap((flag) => [`--${flag.name}`, ...(flag.char === undefined ? [] : [`-${flag.char}`])]).join(' ') || "''"}`,
    ]),
    `    end`,
    `end`,
    '',
    `function __${bin}_arg_value`,
    `    switch "$argv[1]:$argv[2]"`,
    ...model.commands.flatMap((command) =>
      command.args.flatMap((kind, index) => {
        const last = index === command.args.length - 1
        return [`        case ${quoted(last && command.repeats ? `${command.id}:*` : `${command.id}:${index}`)}`, `            echo ${quoted(kindWord(kind))}`]
      }),
    ),
    `        case '*'`,
    `            echo none`,
    `    end`,
    `end`,
    '',
    `# What the current word is when it is an argument (not a flag, not a flag's value): topic, profile, file, options:…, none.`,
    `function __${bin}_arg_kind`,
    `    string match -q -- '-*' (commandline -ct); and return 1`,
    `    set -l found (__${bin}_id)`,
    `    test -z "$found[1]"; and return 1`,
    `    set -l words (commandline -opc)`,
    `    set -l value_flags (__${bin}_value_flags $found[1])`,
    `    set -l position 0`,
    `    set -l skip 0`,
    `    for word in $words[(math $found[2] + 1)..-1]`,
    `        if test $skip -eq 1`,
    `            set skip 0`,
    `            continue`,
    `        end`,
    `        if string match -q -- '-*' $word`,
    `            if not string match -q -- '*=*' $word; and contains -- $word $value_flags`,
    `                set skip 1`,
    `            end`,
    `            continue`,
    `        end`,
    `        set position (math $position + 1)`,
    `    end`,
    `    test $skip -eq 1; and return 1`,
    `    __${bin}_arg_value $found[1] $position`,
    `end`,
    '',
    `function __${bin}_arg_is`,
    `    set -l kind (__${bin}_arg_kind)`,
    `    string match -q -- "$argv[1]*" "$kind"`,
    `end`,
    '',
    `# Topic names from Redis, from the connection flags on the line (else the profile or the environment).`,
    `function __${bin}_complete_topics`,
    `    set -l words (commandline -opc)`,
    `    set -l connection`,
    `    set -l i 2`,
    `    while test $i -le (count $words)`,
    `        set -l word $words[$i]`,
    `        if contains -- $word ${model.connectionFlags.filter((flag) => !flag.takesValue).map((flag) => `--${flag.name}`).join(' ')}`,
    `            set -a connection $word`,
    `        else if string match -qr -- '^--(${model.connectionFlags.filter((flag) => flag.takesValue).map((flag) => flag.name).join('|')})=' $word`,
    `            set -a connection $word`,
    `        else if contains -- $word ${model.connectionFlags.filter((flag) => flag.takesValue).flatMap((flag) => [`--${flag.name}`, ...(flag.char === undefined ? [] : [`-${flag.char}`])]).join(' ')}`,
    `            set i (math $i + 1)`,
    `            test $i -le (count $words); and set -a connection $word $words[$i]`,
    `        end`,
    `        set i (math $i + 1)`,
    `    end`,
    `    set -l current (string replace -r -- '^--[^=]*=' '' (commandline -ct))`,
    `    ${bin} __complete-topics $connection "--prefix=$current" 2>/dev/null`,
    `end`,
    '',
    `# No file names unless a file goes there.`,
    `complete -c ${bin} -f`,
    `complete -c ${bin} -n '__${bin}_arg_is file' -F`,
    `complete -c ${bin} -n '__${bin}_arg_is topic' -a '(__${bin}_complete_topics)'`,
    `complete -c ${bin} -n '__${bin}_arg_is profile' -a '(${bin} __complete-profiles 2>/dev/null)'`,
    `complete -c ${bin} -n '__${bin}_arg_is options' -a '(__${bin}_arg_kind | string replace -r "^options:" "" | string split " ")'`,
    '',
  ]
  const parentOf = (id: string): string => id.split(':').slice(0, -1).join(':')
  const lastOf = (id: string): string => id.split(':').at(-1) ?? id
  lines.push('# Commands and topics')
  for (const topic of model.topics) lines.push(`complete -c ${bin} -n ${quoted(`__${bin}_in '${parentOf(topic.name)}'`)} -a ${quoted(lastOf(topic.name))} -d ${quoted(topic.description)}`)
  for (const command of model.commands) {
    if (model.topics.some((topic) => topic.name === command.id)) continue
    lines.push(`complete -c ${bin} -n ${quoted(`__${bin}_in '${parentOf(command.id)}'`)} -a ${quoted(lastOf(command.id))} -d ${quoted(command.summary)}`)
  }
  lines.push('', '# Flags')
  for (const command of model.commands) for (const flag of command.flags) lines.push(...flagLines(bin, command.id, flag))
  return `${lines.join('\n')}\n`
}
