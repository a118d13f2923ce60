import {isUtf8} from 'node:buffer'

import {findJsonProblem} from '../input/json-error.js'
import {tooLarge, type Prepared} from '../publish/prepare.js'
import {encodeEnvelope, encodeHeaders, RAW_ENCODING, type FieldValue} from '../wire-format.js'
import {keyOfPairs} from '../worker/message.js'
import {ENVELOPE_MEMBERS} from './envelope.js'

/** An envelope line that cannot be published: why, and where in the line when JSON says so. */
export type InvalidEnvelope = Extract<Prepared, {ok: false}>

/** What `qctl publish --envelope` stores for one envelope line. */
export interface EnvelopeEntry {
  /** The entry's field/value pairs, in XADD's order. */
  fields: FieldValue[]
  /** The message key (of a `fields` envelope, its first `key` field): it routes the entry on a partitioned topic. */
  key: string | undefined
  /** The envelope's `id`, used with `--keep-ids`. */
  id: string | undefined
  /** The envelope's `partition`: a number, null (a plain stream's), or undefined when absent. */
  partition: number | null | undefined
}

export type ReadEnvelope = {ok: true; entry: EnvelopeEntry} | InvalidEnvelope

const MEMBERS = new Set<string>(ENVELOPE_MEMBERS)

const invalid = (problem: string): InvalidEnvelope => ({ok: false, code: 'INVALID_INPUT', problem: `envelope: ${problem}`})

/** A lone UTF-16 surrogate (`"\ud800"` in JSON) has no UTF-8 form: stored, it would become other bytes. */
const LONE_SURROGATE = /\p{Cs}/u
const isText = (value: unknown): value is string => typeof value === 'string' && !LONE_SURROGATE.test(value)

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Bytes from canonical, padded base64 (as `qctl tail` writes it); undefined for anything else, so no byte is guessed. */
function fromBase64(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !BASE64.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64')
  return bytes.toString('base64') === text ? bytes : undefined
}

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`)

/** The message of a qctl error line (`{"error": {…}}`, what a failed `qctl tail --json` prints last), if the line is one. */
function qctlErrorOf(record: Record<string, unknown>): string | undefined {
  const error = record.error
  if (Object.keys(record).length !== 1 || typeof error !== 'object' || error === null) return undefined
  const message = (error as {message?: unknown}).message
  return typeof message === 'string' ? message : undefined
}

/** `fields` or `fieldsBase64`: the entry's exact pairs. */
function exactFields(record: Record<string, unknown>, maxPayloadBytes: number): ReadEnvelope {
  const base64 = record.fieldsBase64 !== undefined
  if (base64 && record.fields !== undefined) return invalid('has both "fields" and "fieldsBase64": give one')
  const name = base64 ? 'fieldsBase64' : 'fields'
  const pairs = record[name]
  if (!Array.isArray(pairs) || pairs.length === 0) return invalid(`"${name}" must be a non-empty array of [name, value] pairs`)
  const values: FieldValue[] = []
  let bytes = 0
  for (const [index, pair] of pairs.entries()) {
    if (!Array.isArray(pair) || pair.length !== 2) return invalid(`"${name}"[${index}] must be a [name, value] pair`)
    for (const part of pair as unknown[]) {
      const value = base64 ? fromBase64(part) : isText(part) ? part : undefined
      if (value === undefined) return invalid(`"${name}"[${index}] must hold two ${base64 ? 'base64 strings' : 'strings (text; bytes go in "fieldsBase64")'}`)
      bytes += typeof value === 'string' ? Buffer.byteLength(value) : value.length
      values.push(value)
    }
  }
  if (bytes > maxPayloadBytes) return tooLarge(bytes, maxPayloadBytes) as InvalidEnvelope
  return {ok: true, entry: {fields: values, key: keyOfPairs(values), id: undefined, partition: undefined}}
}

/** `data` or `dataBase64`, `key`, `headers` and `enc`: an entry in qctl's wire format. */
function wireFields(record: Record<string, unknown>, maxPayloadBytes: number): ReadEnvelope {
  const {data, dataBase64, key, headers, enc} = record
  if (dataBase64 !== undefined && data !== undefined) return invalid('has both "data" and "dataBase64": give one')
  let payload: Buffer | undefined
  if (dataBase64 !== undefined) {
    payload = fromBase64(dataBase64)
    if (payload === undefined) return invalid('"dataBase64" must be padded base64 (RFC 4648)')
  } else if (data === undefined || data === null) {
    return invalid('has no payload: "data" (text) or "dataBase64" (bytes) is needed, or "fields" for an entry in another layout')
  } else if (isText(data)) {
    payload = Buffer.from(data)
  } else {
    return invalid(typeof data === 'string' ? '"data" holds a lone UTF-16 surrogate, which has no UTF-8 form: give the bytes in "dataBase64"' : `"data" must be a string, not ${describe(data)}`)
  }
  if (payload.length > maxPayloadBytes) return tooLarge(payload.length, maxPayloadBytes) as InvalidEnvelope
  if (key !== undefined && key !== null && !isText(key)) return invalid(`"key" must be a string or null, not ${describe(key)}`)
  let headersJson: string | undefined
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object' || Array.isArray(headers)) return invalid(`"headers" must be an object of strings, not ${describe(headers)}`)
    const bad = Object.entries(headers).find(([name, value]) => !isText(name) || !isText(value))
    if (bad !== undefined) return invalid(`"headers" must be an object of strings: "${bad[0]}" is ${describe(bad[1])}`)
    headersJson = encodeHeaders(headers as Record<string, string>)
  }
  if (enc !== undefined && enc !== null && enc !== RAW_ENCODING) return invalid(`"enc" must be "${RAW_ENCODING}" or absent`)
  const textKey = typeof key === 'string' ? key : undefined
  const fields = encodeEnvelope({payload, key: textKey, headersJson, raw: enc === RAW_ENCODING})
  return {ok: true, entry: {fields, key: textKey, id: undefined, partition: undefined}}
}

/**
 * One line of `qctl publish --envelope` input (what `qctl tail --json` prints, README "The
 * envelope format") as the entry to store. Payloads are not checked as JSON: an envelope copies an
 * entry as it is.
 */
export function readEnvelope(line: Buffer, maxPayloadBytes: number): ReadEnvelope {
  if (!isUtf8(line)) return invalid('invalid UTF-8 (an envelope is a line of JSON text; bytes go in "dataBase64" or "fieldsBase64")')
  const text = line.toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    const problem = findJsonProblem(text)
    return {ok: false, code: 'INVALID_INPUT', column: problem?.column, problem: `invalid JSON: ${problem?.reason ?? 'unparseable'}`}
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid(`a line must be a JSON object, as qctl tail --json prints, not ${describe(value)}`)
  const record = value as Record<string, unknown>
  const error = qctlErrorOf(record)
  if (error !== undefined) return invalid(`this line is a qctl error, not an entry (the command that wrote the input failed): ${error}`)
  const unknown = Object.keys(record).find((name) => !MEMBERS.has(name))
  if (unknown !== undefined) return invalid(`unknown member "${unknown}" (an envelope has ${ENVELOPE_MEMBERS.join(', ')})`)
  const {id, partition} = record
  if (id !== undefined && typeof id !== 'string') return invalid(`"id" must be a string, not ${describe(id)}`)
  if (partition !== undefined && partition !== null && !(Number.isSafeInteger(partition) && (partition as number) >= 0)) {
    return invalid(`"partition" must be a partition number or null, not ${JSON.stringify(partition)}`)
  }
  const read = record.fields !== undefined || record.fieldsBase64 !== undefined ? exactFields(record, maxPayloadBytes) : wireFields(record, maxPayloadBytes)
  if (!read.ok) return read
  return {ok: true, entry: {...read.entry, id, partition: partition as number | null | undefined}}
}
