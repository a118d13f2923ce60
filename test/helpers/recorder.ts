import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {PROJECT_ROOT} from './cli.js'

/** The test handler that logs every call (see test/fixtures/work/recorder.mjs). */
export const RECORDER = join(PROJECT_ROOT, 'test', 'fixtures', 'work', 'recorder.mjs')

/** One line the recorder wrote. */
export interface LogLine {
  pid: number
  at: number
  id: string
  attempt: number
  phase: 'start' | 'done'
  running?: number
}

/** The recorder's lines so far (a line being written is skipped until complete). */
export function readLog(file: string): LogLine[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  const lines: LogLine[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    try {
      lines.push(JSON.parse(line) as LogLine)
    } catch {
      // The last line may be mid-write while a worker runs.
    }
  }
  return lines
}
