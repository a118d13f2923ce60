/** Where a JSON text is invalid and why, for `file:line:column` messages. */
export interface JsonProblem {
  /** 1-based column (UTF-16 code units, as editors count). */
  column: number
  reason: string
}

const isEndOfInput = (message: string): boolean => message.startsWith('Unexpected end of JSON input')

const reportedPosition = (message: string): number | undefined => {
  const position = /at position (\d+)/.exec(message)?.[1]
  return position === undefined ? undefined : Number(position)
}

/** True when parsing `prefix` failed only because it stops early. */
const failsOnlyAtEnd = (prefix: string, message: string | undefined): boolean =>
  message === undefined || isEndOfInput(message) || (reportedPosition(message) ?? -1) >= prefix.length

const parseError = (text: string): string | undefined => {
  try {
    JSON.parse(text)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/**
 * V8 reports a position for most errors but not for "Unexpected token": find it by bisecting on
 * prefixes (a prefix before the bad character fails only with "end of input" or parses).
 * Runs only on the error path.
 */
function locateError(text: string): number {
  let low = 1
  let high = text.length
  while (low < high) {
    const middle = Math.floor((low + high) / 2)
    const prefix = text.slice(0, middle)
    if (failsOnlyAtEnd(prefix, parseError(prefix))) low = middle + 1
    else high = middle
  }
  return low
}

/** Explain why `text` is not valid JSON; `undefined` if it is. */
export function findJsonProblem(text: string): JsonProblem | undefined {
  const message = parseError(text)
  if (message === undefined) return undefined
  // Drop V8's echo of the input (it may be huge) and its position suffix.
  const reason = message
    .replace(/, (\.\.\.)?"[\s\S]*"(\.\.\.)? is not valid JSON$/, '')
    .replace(/ (in JSON )?at position \d+.*$/s, '')
    .replace(/ of JSON input$/, ' of input')
  const position = reportedPosition(message)
  if (position !== undefined) return {column: position + 1, reason}
  if (isEndOfInput(message)) return {column: text.length + 1, reason}
  return {column: locateError(text), reason}
}
