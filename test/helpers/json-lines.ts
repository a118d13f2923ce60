import {readFileSync} from 'node:fs'

/**
 * The JSON lines a test handler or process wrote to `file` so far: none if the file does not exist
 * yet, and a last line cut short (its writer killed, or still writing) is skipped.
 */
export function readJsonLines<T>(file: string): T[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  const lines: T[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    try {
      lines.push(JSON.parse(line) as T)
    } catch {
      // cut mid-write
    }
  }
  return lines
}

/** A `--json` event of `qctl work` (one JSON object per line on stdout). */
export type WorkEvent = Record<string, unknown> & {event: string}

/** The JSON event lines of a command's stdout (other lines, a spinner's or a log's, skipped). */
export const jsonEvents = (stdout: string): WorkEvent[] =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as WorkEvent)
