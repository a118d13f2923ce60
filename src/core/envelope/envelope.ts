import {isUtf8} from 'node:buffer'

import {decodeMessage, keyOfPairs} from '../worker/message.js'
import {RAW_ENCODING, WireField} from '../wire-format.js'
import {entryIdTime} from './entry-id.js'

/**
 * One stream entry as a line of `qctl tail --json` and as an input line of `qctl publish
 * --envelope` (README, "The envelope format"). Lossless: publishing an envelope stores the entry's
 * fields byte for byte as they were.
 *
 * An entry in qctl's wire format (wire-format.ts: `data`, then optionally `key`, `headers`, `enc`,
 * in that order, once each, with a `key` and `headers` that are valid UTF-8 and `headers` a non-empty
 * JSON object of strings written as JSON.stringify writes it) is carried by `key`, `headers`, `data`
 * (or `dataBase64` when the payload is not valid UTF-8) and `enc`. Any other entry (written by another
 * program: other field names, another order, duplicates) carries its exact field/value pairs in
 * `fields` (or `fieldsBase64`, when a name or value is not valid UTF-8); its `key`, `headers` and
 * `data` are then what a qctl handler would see, for reading only.
 */
export interface Envelope {
  /** The topic as given to `qctl tail` (a partitioned topic's name, not its partition's stream). */
  topic: string
  /** The partition of a partitioned topic; null for a plain stream. */
  partition: number | null
  /** The entry ID. */
  id: string
  key: string | null
  headers: Record<string, string>
  /** The payload as text; null for an entry without a `data` field. Absent when `dataBase64` is given. */
  data?: string | null
  /** The payload's bytes in base64 (RFC 4648, padded), when they are not valid UTF-8. */
  dataBase64?: string
  /** `raw` when the entry says its payload is not JSON (`qctl publish --raw`). */
  enc?: typeof RAW_ENCODING
  /** When the entry was added, from its ID (ISO 8601, UTC); null for an ID past what a date holds. */
  publishedAt: string | null
  /** Every field/value pair of an entry not in qctl's wire format, in order. */
  fields?: Array<[string, string]>
  /** The same, base64 each, when any name or value is not valid UTF-8. */
  fieldsBase64?: Array<[string, string]>
}

/** Every member an envelope may have, in the order `qctl tail` prints them. */
export const ENVELOPE_MEMBERS = ['topic', 'partition', 'id', 'key', 'headers', 'data', 'dataBase64', 'enc', 'publishedAt', 'fields', 'fieldsBase64'] as const

const WIRE_ORDER: readonly string[] = [WireField.data, WireField.key, WireField.headers, WireField.encoding]

const textOf = (bytes: Buffer): string | undefined => (isUtf8(bytes) ? bytes.toString('utf8') : undefined)

/**
 * Headers text that an envelope can carry as an object and publish gives back byte for byte: a
 * non-empty JSON object of strings that JSON.stringify writes as exactly this text (not `{}`, which
 * qctl never writes, nor spaces, duplicate names or numeric names out of order).
 */
export function headersObject(text: string): Record<string, string> | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
  const values = Object.values(parsed)
  if (values.length === 0 || !values.every((value) => typeof value === 'string')) return undefined
  return JSON.stringify(parsed) === text ? (parsed as Record<string, string>) : undefined
}

interface WireEntry {
  data: Buffer
  key?: string
  headers?: Record<string, string>
  raw: boolean
}

/** The entry's parts when its pairs are exactly what qctl's wire format writes; undefined otherwise. */
function wireEntry(pairs: readonly Buffer[]): WireEntry | undefined {
  if (pairs.length < 2 || pairs.length % 2 !== 0 || (pairs[0] as Buffer).toString('latin1') !== WireField.data) return undefined
  const entry: WireEntry = {data: pairs[1] as Buffer, raw: false}
  let next = 1
  for (let i = 2; i < pairs.length; i += 2) {
    // latin1 maps each byte to one character: equal only to the very bytes of the name.
    const name = (pairs[i] as Buffer).toString('latin1')
    const at = WIRE_ORDER.indexOf(name, next)
    if (at === -1) return undefined
    next = at + 1
    const value = pairs[i + 1] as Buffer
    if (name === WireField.key) {
      const key = textOf(value)
      if (key === undefined) return undefined
      entry.key = key
    } else if (name === WireField.headers) {
      const text = textOf(value)
      const headers = text === undefined ? undefined : headersObject(text)
      if (headers === undefined) return undefined
      entry.headers = headers
    } else {
      if (value.toString('latin1') !== RAW_ENCODING) return undefined
      entry.raw = true
    }
  }
  return entry
}

/** `data` or `dataBase64` for a payload. */
const payload = (bytes: Buffer | undefined): Pick<Envelope, 'data' | 'dataBase64'> => {
  if (bytes === undefined) return {data: null}
  const text = textOf(bytes)
  return text === undefined ? {dataBase64: bytes.toString('base64')} : {data: text}
}

/** A stream entry, read as bytes (XRANGE/XREAD with Buffer replies), as its envelope. */
export function toEnvelope(topic: string, partition: number | null, id: string, pairs: readonly Buffer[]): Envelope {
  const time = entryIdTime(id)
  const publishedAt = time === undefined ? null : new Date(time).toISOString()
  const wire = wireEntry(pairs)
  if (wire !== undefined) {
    return {
      topic,
      partition,
      id,
      key: wire.key ?? null,
      headers: wire.headers ?? {},
      ...payload(wire.data),
      ...(wire.raw ? {enc: RAW_ENCODING} : {}),
      publishedAt,
    }
  }
  const message = decodeMessage(topic, id, pairs, 0, partition ?? undefined)
  const texts = pairs.map(textOf)
  const exact: Pick<Envelope, 'fields' | 'fieldsBase64'> = texts.every((text) => text !== undefined)
    ? {fields: pairsOf(texts as string[])}
    : {fieldsBase64: pairsOf(pairs.map((value) => value.toString('base64')))}
  return {topic, partition, id, key: keyOfPairs(pairs) ?? null, headers: {...message.headers}, ...payload(message.bytes), publishedAt, ...exact}
}

function pairsOf(values: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (let i = 0; i + 1 < values.length; i += 2) pairs.push([values[i] as string, values[i + 1] as string])
  return pairs
}
