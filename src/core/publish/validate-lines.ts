import type {Readable} from 'node:stream'

import {readLines} from '../input/line-reader.js'
import {prepareMessage, tooLarge, type MessageShape, type Prepared} from './prepare.js'

export type Invalid = Extract<Prepared, {ok: false}>

/** The outcome of checking a run of lines; plain data, so it can cross a worker boundary. */
export interface LinesVerdict {
  /** Lines read, blank ones included (line numbers are relative to the start of the run). */
  lines: number
  invalid: number
  first: {line: number; problem: Invalid} | undefined
}

export interface ValidateLinesOptions {
  /** Lines up to this number are not checked (they were published by an earlier run). */
  skipLines?: number
  bomAllowed?: boolean
}

/** Check every line of `input` as `publish` would, without sending anything. */
export async function validateLines(input: Readable, shape: MessageShape, options: ValidateLinesOptions = {}): Promise<LinesVerdict> {
  const skipLines = options.skipLines ?? 0
  const counter = {lines: 0}
  let first: LinesVerdict['first']
  let invalid = 0
  for await (const lines of readLines(input, shape.maxPayloadBytes, {bomAllowed: options.bomAllowed ?? true, counter})) {
    for (const line of lines) {
      if (line.number <= skipLines) continue
      const prepared = line.tooLongBytes === undefined ? prepareMessage(line.bytes, shape) : tooLarge(line.tooLongBytes, shape.maxPayloadBytes)
      if (prepared.ok) continue
      invalid++
      first ??= {line: line.number, problem: prepared}
    }
  }
  return {lines: counter.lines, invalid, first}
}
