import {Text} from 'ink'

export interface KeyHelpProps {
  view: 'table' | 'detail'
  paused: boolean
}

/** The keys that work in the current view. */
export function KeyHelp({view, paused}: KeyHelpProps) {
  const pause = paused ? 'p resume' : 'p pause'
  const keys = view === 'table' ? `↑/↓ select  Enter detail  s sort  ${pause}  q quit` : `Esc back  ${pause}  q quit`
  return <Text dimColor wrap="truncate">{keys}</Text>
}
