import {availableParallelism} from 'node:os'
import {open} from 'node:fs/promises'
import {Worker} from 'node:worker_threads'

import {openSource, type InputSource} from '../input/sources.js'
import type {MessageShape} from './prepare.js'
import type {RangeJob} from './validate-worker.js'
import {validateLines, type LinesVerdict} from './validate-lines.js'

/**
 * Below this size one thread validates faster than starting workers. Above it, JSON parsing
 * (the dominant cost of validation) is spread over the cores: Redis is idle during this pass.
 */
export const PARALLEL_VALIDATION_MIN_BYTES = 4 * 1024 * 1024
const MAX_VALIDATION_WORKERS = 4
const BOUNDARY_WINDOW_BYTES = 64 * 1024

/** The offset just after the first newline at or after `offset` (or the file size). */
async function nextLineStart(path: string, offset: number, size: number): Promise<number> {
  const handle = await open(path, 'r')
  try {
    const window = Buffer.alloc(BOUNDARY_WINDOW_BYTES)
    for (let position = offset; position < size; position += BOUNDARY_WINDOW_BYTES) {
      const {bytesRead} = await handle.read(window, 0, BOUNDARY_WINDOW_BYTES, position)
      const newline = window.subarray(0, bytesRead).indexOf(0x0a)
      if (newline !== -1) return position + newline + 1
      if (bytesRead === 0) break
    }
    return size
  } finally {
    await handle.close()
  }
}

/** Split [0, size) into up to `parts` ranges that each start at a line boundary. */
async function lineAlignedRanges(path: string, size: number, parts: number): Promise<Array<[number, number]>> {
  const starts = [0]
  for (let part = 1; part < parts; part++) {
    const start = await nextLineStart(path, Math.floor((size * part) / parts), size)
    if (start > (starts.at(-1) ?? 0) && start < size) starts.push(start)
  }
  return starts.map((start, index) => [start, starts[index + 1] ?? size])
}

function validateRangeInWorker(job: RangeJob, signal: AbortSignal | undefined): Promise<LinesVerdict> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('validate-worker.js', import.meta.url), {workerData: job})
    const stop = (): void => {
      void worker.terminate()
      reject(new Error('aborted'))
    }
    signal?.addEventListener('abort', stop, {once: true})
    worker.once('message', (verdict: LinesVerdict) => resolve(verdict))
    worker.once('error', reject)
    worker.once('exit', () => signal?.removeEventListener('abort', stop))
  })
}

/** Combine verdicts of consecutive ranges: line numbers become absolute. */
function combine(verdicts: LinesVerdict[]): LinesVerdict {
  let offset = 0
  let invalid = 0
  let first: LinesVerdict['first']
  for (const verdict of verdicts) {
    if (first === undefined && verdict.first !== undefined) first = {line: offset + verdict.first.line, problem: verdict.first.problem}
    invalid += verdict.invalid
    offset += verdict.lines
  }
  return {lines: offset, invalid, first}
}

/**
 * Check every line of an NDJSON input before anything is published. Large files are checked
 * in parallel worker threads, one line-aligned byte range each.
 */
export async function validateInput(
  source: InputSource,
  size: number | undefined,
  shape: MessageShape,
  options: {skipLines: number; signal?: AbortSignal | undefined},
): Promise<LinesVerdict> {
  const workers = Math.min(availableParallelism(), MAX_VALIDATION_WORKERS)
  const parallel = source.kind === 'file' && size !== undefined && size >= PARALLEL_VALIDATION_MIN_BYTES && workers > 1 && options.skipLines === 0
  if (!parallel) return validateLines(await openSource(source, options.signal), shape, {skipLines: options.skipLines})

  const ranges = await lineAlignedRanges(source.path, size, workers)
  const verdicts = await Promise.all(
    ranges.map(async ([start, end]) => validateRangeInWorker({path: source.path, start, end, shape, bomAllowed: start === 0}, options.signal)),
  )
  return combine(verdicts)
}
