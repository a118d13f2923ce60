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
