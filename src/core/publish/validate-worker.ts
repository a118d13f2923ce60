/**
 * Worker thread entry: validates one byte range of an NDJSON file (see validate-file.ts).
 * The range starts at a line boundary; line numbers in the verdict are relative to it.
 */
import {createReadStream} from 'node:fs'
import {parentPort, workerData} from 'node:worker_threads'

import type {MessageShape} from './prepare.js'
import {validateLines} from './validate-lines.js'

export interface RangeJob {
  path: string
  start: number
  /** Exclusive. */
  end: number
  shape: MessageShape
  bomAllowed: boolean
}

const job = workerData as RangeJob
const input = createReadStream(job.path, {start: job.start, end: job.end - 1, highWaterMark: 256 * 1024})
parentPort?.postMessage(await validateLines(input, job.shape, {bomAllowed: job.bomAllowed}))
