import {join} from 'node:path'

import {PROJECT_ROOT} from './cli.js'
import {readJsonLines} from './json-lines.js'

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
export const readLog = (file: string): LogLine[] => readJsonLines<LogLine>(file)
