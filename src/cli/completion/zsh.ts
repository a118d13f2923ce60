import type {CompletionModel} from './model.js'
import {argValueCase, flagValueCase, shellWords, valueFlagsCase} from './shell-cases.js'

export const ZSH_MARKER = '# --- qctl: topic and profile names ---'

/**
 * The zsh function @oclif/plugin-autocomplete writes (`_qctl`, autoloaded from its file) completes
 * commands, flags (after arguments too) and fixed choices, and files for every argument. qctl
 * renames it `_qctl_oclif` and puts a `_qctl` in front that completes topic names from Redis
 * (`qctl __complete-topics`, the connection flags on the line forwarded, 300 ms at most, nothing on
 * failure) and profile names where they go, and hands everything else to the plugin's function.
 */
export function zshAugmented(pluginScript: string, model: CompletionModel): string {
  const bin = model.bin
  const main = `\n_${bin}() {`
  if (!pluginScript.includes(main)) throw new Error(`the zsh script of @oclif/plugin-autocomplete has no function _${bin}: its layout changed`)
  const [withoutAddition] = pluginScript.split(`\n${ZSH_MARKER}`)
  const body = (withoutAddition ?? '').replace(main, `\n_${bin}_oclif() {`).replace(new RegExp(`\\n_${bin}\\s*$`), '\n')
  return `${body}${zshAddition(model)}`
}

function zshAddition(model: CompletionModel): string {
  const bin = model.bin
  const {ids, topics, forwardedValues, forwardedSwitches} = shellWords(model)
  return `
${ZSH_MARKER}
__${bin}_ids=' ${ids} '
__${bin}_topics=' ${topics} '

__${bin}_value_flags() {
  case "$1" in
${valueFlagsCase(model, '    ')}
  esac
}

__${bin}_flag_value() {
  case "$1:$2" in
${flagValueCase(model, '    ')}
    *) printf '%s\\n' 'none' ;;
  esac
}

__${bin}_arg_value() {
  case "$1:$2" in
${argValueCase(model, '    ')}
    *) printf '%s\\n' 'none' ;;
  esac
}

_${bin}() {
  local cur="\${words[CURRENT]}" id='' prefix='' word kind='' value_flags
  local -i i n=1 position=0
  for (( i = 2; i < CURRENT; i++ )); do
    word="\${words[i]}"
    [[ "$word" == -* ]] && break
    prefix="\${prefix:+$prefix:}$word"
    if [[ "$__${bin}_ids" == *" $prefix "* ]]; then id="$prefix"; n=$i
    elif [[ "$__${bin}_topics" != *" $prefix "* ]]; then break
    fi
  done
  if [[ -z "$id" || ( "$cur" == -* && "$cur" != *=* ) ]]; then _${bin}_oclif "$@"; return; fi

  value_flags="$(__${bin}_value_flags "$id")"
  if [[ "$cur" == --*=* ]]; then
    kind="$(__${bin}_flag_value "$id" "\${cur%%=*}")"
  elif (( CURRENT > n + 1 )) && [[ "\${words[CURRENT-1]}" == -* && "\${words[CURRENT-1]}" != *=* && "$value_flags" == *" \${words[CURRENT-1]} "* ]]; then
    kind="$(__${bin}_flag_value "$id" "\${words[CURRENT-1]}")"
  else
    for (( i = n + 1; i < CURRENT; i++ )); do
      word="\${words[i]}"
      if [[ "$word" == -* ]]; then
        [[ "$word" != *=* && "$value_flags" == *" $word "* ]] && (( i++ ))
        continue
      fi
      (( position++ ))
    done
    kind="$(__${bin}_arg_value "$id" "$position")"
  fi

  local -a candidates connection
  case "$kind" in
    topic)
      local forwarded_values=' ${forwardedValues} ' forwarded_switches=' ${forwardedSwitches} '
      for (( i = n + 1; i < CURRENT; i++ )); do
        word="\${words[i]}"
        if [[ "$forwarded_switches" == *" $word "* || ( "$word" == --*=* && "$forwarded_values" == *" \${word%%=*} "* ) ]]; then connection+=("$word")
        elif [[ "$forwarded_values" == *" $word "* ]] && (( i + 1 < CURRENT )); then connection+=("$word" "\${words[i+1]}"); (( i++ ))
        fi
      done
      [[ "$cur" == --*=* ]] && compset -P '*='
      candidates=("\${(@f)$(${bin} __complete-topics "\${(@)connection}" "--prefix=$PREFIX" 2>/dev/null)}")
      compadd -- "\${(@)candidates:#}"
      ;;
    profile)
      [[ "$cur" == --*=* ]] && compset -P '*='
      candidates=("\${(@f)$(${bin} __complete-profiles 2>/dev/null)}")
      compadd -- "\${(@)candidates:#}"
      ;;
    *) _${bin}_oclif "$@" ;;
  esac
}

_${bin} "$@"
`
}
