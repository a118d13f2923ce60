import {isUtf8} from 'node:buffer'

import {findJsonProblem} from '../input/json-error.js'
import {encodeEnvelope, type FieldValue} from '../wire-format.js'

/** How each record becomes a message; fixed for a run. */
export interface MessageShape {
  raw: boolean
  /** A fixed key for every message. */
  key?: string | undefined
  /** Dotted path of the key inside each JSON record (`customer.id`). */
  keyField?: string | undefined
  headersJson?: string | undefined
  maxPayloadBytes: number
}

export type Prepared =
  | {ok: true; fields: FieldValue[]}
  | {ok: false; code: 'INVALID_INPUT' | 'PAYLOAD_TOO_LARGE'; column?: number; problem: string}

const formatBytes = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`

/** `atLeast`: reading stopped after `bytes` (stdin), so the payload's real size is unknown. */
export const tooLarge = (bytes: number, limit: number, atLeast = false): Prepared => ({
  ok: false,
  code: 'PAYLOAD_TOO_LARGE',
  problem: `payload of ${atLeast ? 'more than ' : ''}${formatBytes(bytes)} is over the --max-payload limit of ${formatBytes(limit)}`,
})

/** The value at a dotted path, following own properties only (never the prototype chain). */
function valueAtPath(document: unknown, path: string): unknown {
  let current = document
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) return undefined
    current = (current as Record<string, unknown>)[part]
  }
  return current
}

function keyFromRecord(document: unknown, path: string): string | Prepared {
  const value = valueAtPath(document, path)
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  const found = value === undefined ? 'is missing' : `is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object'}`
  return {ok: false, code: 'INVALID_INPUT', problem: `key field "${path}" ${found} (it must be a string, number or boolean)`}
}

/** Whether a record must be parsed to build its fields (for its key), beyond validation. */
export const needsParsing = (shape: MessageShape): boolean => !shape.raw && shape.keyField !== undefined

/**
 * Build the fields of a record that was already validated (a file's validation pass succeeded and
 * the file did not change since): parsing it again would double the cost of publishing.
 */
export function prepareValidated(bytes: Buffer, shape: MessageShape): Prepared {
  if (needsParsing(shape)) return prepareMessage(bytes, shape)
  if (bytes.length > shape.maxPayloadBytes) return tooLarge(bytes.length, shape.maxPayloadBytes)
  return {ok: true, fields: encodeEnvelope({payload: bytes, key: shape.key, headersJson: shape.headersJson, raw: shape.raw})}
}

/**
 * Validate one record and build its stream fields. The payload is sent as the original bytes,
 * so what consumers read is byte-identical to the input.
 */
export function prepareMessage(bytes: Buffer, shape: MessageShape): Prepared {
  if (bytes.length > shape.maxPayloadBytes) return tooLarge(bytes.length, shape.maxPayloadBytes)
  if (shape.raw) return {ok: true, fields: encodeEnvelope({payload: bytes, key: shape.key, headersJson: shape.headersJson, raw: true})}

  if (!isUtf8(bytes)) return {ok: false, code: 'INVALID_INPUT', problem: 'invalid UTF-8 (use --raw to publish bytes as they are)'}
  const text = bytes.toString('utf8')
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    const problem = findJsonProblem(text)
    return {ok: false, code: 'INVALID_INPUT', column: problem?.column, problem: `invalid JSON: ${problem?.reason ?? 'unparseable'}`}
  }

  let {key} = shape
  if (shape.keyField !== undefined) {
    const found = keyFromRecord(document, shape.keyField)
    if (typeof found !== 'string') return found
    key = found
  }
  return {ok: true, fields: encodeEnvelope({payload: bytes, key, headersJson: shape.headersJson})}
}
