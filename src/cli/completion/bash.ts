import type {CompletionModel} from './model.js'
import {argValueCase, flagValueCase, shellWords, valueFlagsCase} from './shell-cases.js'

/** Marks qctl's addition, so adding it twice (a second `qctl autocomplete`) replaces it. */
export const BASH_MARKER = '# --- qctl: topic and profile names, flags after arguments ---'

/**
 * Appended to the bash function @oclif/plugin-autocomplete writes (`_qctl_autocomplete`, which
 * completes command names, and flags from a static list). The plugin completes nothing after an
 * argument (`qctl lag orders --j` finds no command "lag:orders") and knows no values, so this wraps
 * it: it works out the command from the line, hands command names and flags to the plugin's
 * function (shown only the command's words), and completes values itself: topic names from Redis
 * (`qctl __complete-topics`, with the connection flags given on the line, 300 ms at most, nothing on
 * failure), profile names, fixed choices, and files.
 *
 * The line is split on blanks from COMP_LINE, not taken from COMP_WORDS, which bash also splits at
 * ":" and "=" (a URL or a topic "orders:eu" would be several words); replies drop what bash holds
 * to be before the current word (up to the last ":" or "=").
 */
export function bashAddition(model: CompletionModel): string {
  const bin = model.bin
  const {ids, topics, forwardedValues, forwardedSwitches} = shellWords(model)
  return `
${BASH_MARKER}
_${bin}_ids=' ${ids} '
_${bin}_topics=' ${topics} '

_${bin}_value_flags()
{
  case "$1" in
${valueFlagsCase(model, '    ')}
  esac
}

_${bin}_flag_value()
{
  case "$1:$2" in
${flagValueCase(model, '    ')}
    *) printf '%s\\n' 'none' ;;
  esac
}

_${bin}_arg_value()
{
  case "$1:$2" in
${argValueCase(model, '    ')}
    *) printf '%s\\n' 'none' ;;
  esac
}

_${bin}_complete()
{
  local line="\${COMP_LINE:0:COMP_POINT}" word i
  local -a words
  read -r -a words <<< "$line"
  [[ -z "$line" || "$line" == *[[:space:]] ]] && words+=('')
  local cword=$(( \${#words[@]} - 1 ))
  local cur="\${words[cword]}"

  # The command: the longest run of words after the program that names one (topics lead to it).
  local id='' prefix='' n=0
  for (( i = 1; i < cword; i++ )); do
    word="\${words[i]}"
    [[ "$word" == -* ]] && break
    prefix="\${prefix:+$prefix:}$word"
    if [[ "$_${bin}_ids" == *" $prefix "* ]]; then id="$prefix"; n=$i
    elif [[ "$_${bin}_topics" != *" $prefix "* ]]; then break
    fi
  done

  if [[ -z "$id" || ( "$cur" == -* && "$cur" != *=* ) ]]; then
    # Command names, or the command's flags wherever its arguments are: the plugin's function,
    # shown the command's words only.
    local -a saved_words=("\${COMP_WORDS[@]}")
    local saved_cword=$COMP_CWORD
    if [[ -n "$id" ]]; then COMP_WORDS=("\${words[@]:0:n+1}" "$cur"); COMP_CWORD=$(( n + 1 ))
    else COMP_WORDS=("\${words[@]}"); COMP_CWORD=$cword
    fi
    _${bin}_autocomplete
    COMP_WORDS=("\${saved_words[@]}"); COMP_CWORD=$saved_cword
    return 0
  fi

  # What the current word is: a flag's value (--flag VALUE, --flag=VALUE) or an argument.
  local kind='' value="$cur" head='' value_flags
  value_flags="$(_${bin}_value_flags "$id")"
  if [[ "$cur" == --*=* ]]; then
    head="\${cur%%=*}="; value="\${cur#*=}"
    kind="$(_${bin}_flag_value "$id" "\${cur%%=*}")"
  elif (( cword > n + 1 )) && [[ "\${words[cword-1]}" == -* && "\${words[cword-1]}" != *=* && "$value_flags" == *" \${words[cword-1]} "* ]]; then
    kind="$(_${bin}_flag_value "$id" "\${words[cword-1]}")"
  else
    local position=0
    for (( i = n + 1; i < cword; i++ )); do
      word="\${words[i]}"
      if [[ "$word" == -* ]]; then
        [[ "$word" != *=* && "$value_flags" == *" $word "* ]] && (( i++ ))
        continue
      fi
      (( position++ ))
    done
    kind="$(_${bin}_arg_value "$id" "$position")"
  fi

  local -a candidates=()
  case "$kind" in
    topic)
      # The connection flags on the line, so the topics come from the Redis the command will use.
      local -a connection=()
      local forwarded_values=' ${forwardedValues} ' forwarded_switches=' ${forwardedSwitches} '
      for (( i = n + 1; i < cword; i++ )); do
        word="\${words[i]}"
        if [[ "$forwarded_switches" == *" $word "* || ( "$word" == --*=* && "$forwarded_values" == *" \${word%%=*} "* ) ]]; then connection+=("$word")
        elif [[ "$forwarded_values" == *" $word "* ]] && (( i + 1 < cword )); then connection+=("$word" "\${words[i+1]}"); (( i++ ))
        fi
      done
      while IFS= read -r word; do candidates+=("$word"); done < <(${bin} __complete-topics "\${connection[@]}" "--prefix=$value" 2>/dev/null)
      ;;
    profile) while IFS= read -r word; do candidates+=("$word"); done < <(${bin} __complete-profiles 2>/dev/null) ;;
    options:*) read -r -a candidates <<< "\${kind#options:}" ;;
    file) compopt -o default 2>/dev/null; COMPREPLY=(); return 0 ;;
    *) COMPREPLY=(); return 0 ;;
  esac

  # Bash replaces only what follows the last ":" or "=" of the word: replies start there too.
  local full="$head$value" before=''
  [[ "$full" == *[:=]* ]] && before="\${full%"\${full##*[:=]}"}"
  COMPREPLY=()
  local candidate
  for candidate in "\${candidates[@]}"; do
    candidate="$head$candidate"
    [[ "$candidate" == "$full"* ]] && COMPREPLY+=("\${candidate#"$before"}")
  done
  return 0
}

complete -F _${bin}_complete ${bin}
`
}
