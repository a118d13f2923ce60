import {parseTraceparent, TRACEPARENT_HEADER} from '../trace/trace-context.js'
import {RAW_ENCODING, WireField} from '../wire-format.js'

/** What a handler receives for one stream entry. */
export interface Message<Data = unknown> {
  /**
   * Stream entry ID, the same on every redelivery. A replayed message (`qctl dlq replay`) is a new
   * entry with a new ID: deduplicate on `originalId`.
   */
  id: string
  /**
   * The message's entry ID on its topic when it was first published: equal to `id` on a first
   * delivery from the topic, and kept across every replay (the `qctl-original-id` header).
   */
  originalId: string
  /** The topic, also for a message replayed to this group through its replay stream. */
  topic: string
  /** The partition of a partitioned topic the message was read from (`qctl topic create`); undefined for a plain stream. */
  partition: number | undefined
  /** The parsed JSON payload; the raw string for non-JSON entries; undefined without a `data` field. */
  data: Data
  /**
   * The payload (the `data` field) exactly as stored, as bytes; undefined without a `data` field.
   * `data` and `fields` are UTF-8 text, in which bytes that are not valid UTF-8 (a binary `--raw`
   * payload) become U+FFFD: read binary payloads from here.
   */
  bytes: Buffer | undefined
  key: string | undefined
  headers: Readonly<Record<string, string>>
  /**
   * The producer's W3C trace context: the `traceparent` header (`qctl publish --traceparent`, or
   * TRACEPARENT), when it is a valid traceparent; undefined otherwise (the header as stored stays in
   * `headers`). Kept by `qctl dlq replay`, so a replayed message links to the trace that produced it.
   * Optional in the type only, so that messages built by hand (a handler's own tests) need not set it.
   */
  readonly traceparent?: string | undefined
  /** Every field of the entry as stored, so entries written by other programs are usable. */
  fields: Readonly<Record<string, string>>
  /** 1 on first delivery, from Redis's delivery counter. */
  attempt: number
  /** When the entry was added, from its ID. */
  publishedAt: Date
}

/** A field name or value as Redis returned it: text, or bytes when read without decoding. */
export type RawValue = string | Buffer

const asText = (value: RawValue): string => (typeof value === 'string' ? value : value.toString())

/** Field/value pairs as Redis returns them, as an object. Own properties only (`__proto__` stays data). */
export function fieldsToObject(pairs: readonly RawValue[]): Record<string, string> {
  const object: Record<string, string> = {}
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const field = asText(pairs[i] as RawValue)
    const value = asText(pairs[i + 1] as RawValue)
    // An assignment to `__proto__` would set the prototype; define it as a plain own property.
    if (field === '__proto__') Object.defineProperty(object, field, {value, enumerable: true, writable: true, configurable: true})
    else object[field] = value
  }
  return object
}

/** The `key` field of an entry's pairs (the wire format's message key), or undefined. */
export function keyOfPairs(pairs: readonly RawValue[]): string | undefined {
  for (let i = 0; i + 1 < pairs.length; i += 2) if (asText(pairs[i] as RawValue) === WireField.key) return asText(pairs[i + 1] as RawValue)
  return undefined
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

const REPLACEMENT_CHARACTER = '\uFFFD'

/**
 * Whether an entry read as text may have lost bytes: its payload holds U+FFFD, which UTF-8
 * decoding puts in place of invalid bytes (or the payload really holds one). Such an entry is read
 * again as bytes, so `bytes` is exact; any other payload is valid UTF-8, and its text encodes back
 * to the very bytes stored.
 */
export function mayBeBinary(pairs: readonly string[]): boolean {
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    if (pairs[i] === WireField.data && (pairs[i + 1] as string).includes(REPLACEMENT_CHARACTER)) return true
  }
  return false
}

/** The header `qctl dlq replay` records a replayed message's original topic entry ID in (README, "Wire format"). */
export const ORIGINAL_ID_HEADER = 'qctl-original-id'

const STREAM_ID = /^\d{1,20}-\d{1,20}$/

/** A message's original topic entry ID: its replay record's, when a replay recorded one, else its own `id`. */
export function originalIdOf(id: string, headers: Readonly<Record<string, string>>): string {
  const recorded = headers[ORIGINAL_ID_HEADER]
  return recorded !== undefined && STREAM_ID.test(recorded) ? recorded : id
}

/** originalIdOf for an entry's raw pairs (its last `headers` field, as `fields` keeps). */
export function originalIdOfPairs(id: string, pairs: readonly RawValue[]): string {
  let headers: string | undefined
  for (let i = 0; i + 1 < pairs.length; i += 2) if (asText(pairs[i] as RawValue) === WireField.headers) headers = asText(pairs[i + 1] as RawValue)
  return headers === undefined ? id : originalIdOf(id, parseHeaders(headers))
}

/** The time encoded in a stream ID (`<ms>-<seq>`). */
export const idTime = (id: string): Date => new Date(Number(id.slice(0, id.indexOf('-'))))

/** The last `data` value of pairs read as bytes (a later duplicate wins, as in `fields`). */
function exactPayload(pairs: readonly RawValue[]): Buffer | undefined {
  let bytes: Buffer | undefined
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const value = pairs[i + 1]
    if (asText(pairs[i] as RawValue) === WireField.data && typeof value !== 'string') bytes = value
  }
  return bytes
}

/**
 * A message whose `bytes` are made on first use: most handlers never read them, and encoding
 * every payload again costs ~0.2 µs a message (a fifth of what decoding one costs).
 */
class DecodedMessage implements Message {
  readonly data: unknown
  readonly key: string | undefined
  readonly headers: Readonly<Record<string, string>>
  readonly publishedAt: Date
  readonly originalId: string
  #bytes: Buffer | undefined

  constructor(
    readonly topic: string,
    readonly id: string,
    readonly fields: Readonly<Record<string, string>>,
    readonly attempt: number,
    exact: Buffer | undefined,
    readonly partition: number | undefined,
  ) {
    this.data = parseData(fields)
    this.key = fields[WireField.key]
    this.headers = parseHeaders(fields[WireField.headers])
    this.originalId = this.headers === NO_HEADERS ? id : originalIdOf(id, this.headers)
    // When the message was first published: a replay's own entry ID only says when it was replayed.
    this.publishedAt = idTime(this.originalId)
    this.#bytes = exact
  }

  /** Read from the headers when asked: most handlers never ask. */
  get traceparent(): string | undefined {
    const header = this.headers[TRACEPARENT_HEADER]
    return header !== undefined && parseTraceparent(header) !== undefined ? header : undefined
  }

  get bytes(): Buffer | undefined {
    const text = this.fields[WireField.data]
    // Text without U+FFFD is valid UTF-8 as stored (see mayBeBinary): it encodes back to the same bytes.
    if (this.#bytes === undefined && text !== undefined) this.#bytes = Buffer.from(text)
    return this.#bytes
  }
}

/**
 * A stream entry as the handler's message, from its pairs as text or, for a payload that is not
 * valid UTF-8, as bytes (see `mayBeBinary`).
 */
export function decodeMessage(topic: string, id: string, pairs: readonly RawValue[], attempt: number, partition?: number): Message {
  const exact = pairs.length > 0 && typeof pairs[0] !== 'string' ? exactPayload(pairs) : undefined
  return new DecodedMessage(topic, id, fieldsToObject(pairs), attempt, exact, partition)
}
