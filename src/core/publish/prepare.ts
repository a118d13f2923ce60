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
  /** One idempotency key for every message (`--idempotency-key`). */
  idempotencyKey?: string | undefined
  /** Dotted path of each message's idempotency key inside its JSON record (`--idempotency-key-field`). */
  idempotencyKeyField?: string | undefined
}

/** `idempotencyKey`: with `--idempotency-key(-field)`, the key the message is published once under. */
export type Prepared =
  | {ok: true; fields: FieldValue[]; idempotencyKey?: string | undefined}
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

/** `what`: the flag's words for the field ("key field", "idempotency key field"). */
function keyFromRecord(document: unknown, path: string, what = 'key field'): string | Prepared {
  const value = valueAtPath(document, path)
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  const found = value === undefined ? 'is missing' : `is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object'}`
  return {ok: false, code: 'INVALID_INPUT', problem: `${what} "${path}" ${found} (it must be a string, number or boolean)`}
}

/** Whether a record must be parsed to build its fields (for its key or idempotency key), beyond validation. */
export const needsParsing = (shape: MessageShape): boolean => !shape.raw && (shape.keyField !== undefined || shape.idempotencyKeyField !== undefined)

/**
 * Build the fields of a record that was already validated (a file's validation pass succeeded and
 * the file did not change since): parsing it again would double the cost of publishing.
 */
export function prepareValidated(bytes: Buffer, shape: MessageShape): Prepared {
  if (needsParsing(shape)) return prepareMessage(bytes, shape)
  if (bytes.length > shape.maxPayloadBytes) return tooLarge(bytes.length, shape.maxPayloadBytes)
  return {ok: true, fields: encodeEnvelope({payload: bytes, key: shape.key, headersJson: shape.headersJson, raw: shape.raw}), idempotencyKey: shape.idempotencyKey}
}

/**
 * Validate one record and build its stream fields. The payload is sent as the original bytes,
 * so what consumers read is byte-identical to the input.
 */
export function prepareMessage(bytes: Buffer, shape: MessageShape): Prepared {
  if (bytes.length > shape.maxPayloadBytes) return tooLarge(bytes.length, shape.maxPayloadBytes)
  if (shape.raw) return {ok: true, fields: encodeEnvelope({payload: bytes, key: shape.key, headersJson: shape.headersJson, raw: true}), idempotencyKey: shape.idempotencyKey}

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
  let {idempotencyKey} = shape
  if (shape.idempotencyKeyField !== undefined) {
    const found = keyFromRecord(document, shape.idempotencyKeyField, 'idempotency key field')
    if (typeof found !== 'string') return found
    idempotencyKey = found
  }
  return {ok: true, fields: encodeEnvelope({payload: bytes, key, headersJson: shape.headersJson}), idempotencyKey}
}
