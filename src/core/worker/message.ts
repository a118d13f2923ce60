import {RAW_ENCODING, WireField} from '../wire-format.js'

/** What a handler receives for one stream entry. */
export interface Message<Data = unknown> {
  /** Stream entry ID: a stable identity for idempotency (the same on every redelivery). */
  id: string
  topic: string
  /** The parsed JSON payload; the raw string for non-JSON entries; undefined without a `data` field. */
  data: Data
  key: string | undefined
  headers: Readonly<Record<string, string>>
  /** Every field of the entry as stored, so entries written by other programs are usable. */
  fields: Readonly<Record<string, string>>
  /** 1 on first delivery, from Redis's delivery counter. */
  attempt: number
  /** When the entry was added, from its ID. */
  publishedAt: Date
}

/** Field/value pairs as Redis returns them, as an object. Own properties only (`__proto__` stays data). */
export function fieldsToObject(pairs: readonly string[]): Record<string, string> {
  const object: Record<string, string> = {}
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const field = pairs[i] as string
    const value = pairs[i + 1] as string
    // An assignment to `__proto__` would set the prototype; define it as a plain own property.
    if (field === '__proto__') Object.defineProperty(object, field, {value, enumerable: true, writable: true, configurable: true})
    else object[field] = value
  }
  return object
}

/** Shared by every message without headers (most of them): read-only, so sharing is safe. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

function parseHeaders(text: string | undefined): Readonly<Record<string, string>> {
  if (text === undefined) return NO_HEADERS
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {}
    return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
  } catch {
    return {}
  }
}

function parseData(fields: Record<string, string>): unknown {
  const data = fields[WireField.data]
  if (data === undefined || fields[WireField.encoding] === RAW_ENCODING) return data
  try {
    return JSON.parse(data)
  } catch {
    return data
  }
}

/** The time encoded in a stream ID (`<ms>-<seq>`). */
export const idTime = (id: string): Date => new Date(Number(id.slice(0, id.indexOf('-'))))

export function decodeMessage(topic: string, id: string, pairs: readonly string[], attempt: number): Message {
  const fields = fieldsToObject(pairs)
  return {
    id,
    topic,
    data: parseData(fields),
    key: fields[WireField.key],
    headers: parseHeaders(fields[WireField.headers]),
    fields,
    attempt,
    publishedAt: idTime(id),
  }
}
