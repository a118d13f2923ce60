/**
 * How a qctl message is laid out in a stream entry (documented in the README under "Wire format",
 * so producers and consumers in other languages can interoperate):
 *
 * - `data`    the payload, byte for byte as published (JSON text unless `enc` says otherwise)
 * - `key`     the message key, when one was given (ordering and partitioning belong to the key)
 * - `headers` a JSON object of string values, when headers were given
 * - `enc`     `raw` when the payload was published with `--raw` (not JSON); absent for JSON
 *
 * Only `data` is required. Entries written by other programs keep all their fields.
 */
export const WireField = {
  data: 'data',
  key: 'key',
  headers: 'headers',
  encoding: 'enc',
} as const

export const RAW_ENCODING = 'raw'

export type FieldValue = string | Buffer

export interface EnvelopeParts {
  payload: FieldValue
  key?: string | undefined
  /** Headers already serialised as a JSON object (computed once per run, not per message). */
  headersJson?: string | undefined
  raw?: boolean | undefined
}

/** Field/value pairs for XADD, in wire-format order. */
export function encodeEnvelope(parts: EnvelopeParts): FieldValue[] {
  const fields: FieldValue[] = [WireField.data, parts.payload]
  if (parts.key !== undefined) fields.push(WireField.key, parts.key)
  if (parts.headersJson !== undefined) fields.push(WireField.headers, parts.headersJson)
  if (parts.raw === true) fields.push(WireField.encoding, RAW_ENCODING)
  return fields
}

/** The key of an envelope built by encodeEnvelope (it follows the payload), or undefined. */
export const keyOfEnvelope = (fields: readonly FieldValue[]): string | undefined =>
  fields[2] === WireField.key ? String(fields[3]) : undefined

/** Serialise headers for the `headers` field; `undefined` when there are none. */
export function encodeHeaders(headers: Readonly<Record<string, string>>): string | undefined {
  return Object.keys(headers).length === 0 ? undefined : JSON.stringify(headers)
}
