import {fieldsToObject} from '../worker/message.js'
import {RAW_ENCODING, WireField} from '../wire-format.js'
import {idTimeMs} from './stream-id.js'

/**
 * A dead-letter entry as qctl work writes it (README, "qctl work"): the original fields byte for
 * byte, then the metadata fields dlq.topic, dlq.id, dlq.group, dlq.consumer, dlq.attempts,
 * dlq.error-name, dlq.error-message, dlq.first-failure and dlq.last-failure. Entries written by
 * other programs may lack any of them: those values are null.
 *
 * `--json` shows it as DlqEntryJson (the payload also parsed).
 */
export interface DlqEntry {
  /** The dead-letter entry's own ID (unique within its dead-letter stream only: partitions may share IDs). */
  dlqId: string
  /** The partition whose dead-letter stream holds it; null for a plain topic (src/core/dlq/scope.ts). */
  partition: number | null
  /** When it was dead-lettered, from `dlqId` (ISO 8601). */
  deadLetteredAt: string
  originTopic: string | null
  /** The ID the message had on its topic. */
  originId: string | null
  group: string | null
  consumer: string | null
  attempts: number | null
  errorName: string | null
  errorMessage: string | null
  firstFailureAt: string | null
  lastFailureAt: string | null
  /** Every original field (the wire format's data, key, headers, enc, and any other). */
  fields: Record<string, string>
  /** The payload (the `data` field); null when the entry has none. */
  data: string | null
}

export const METADATA_PREFIX = 'dlq.'

/**
 * Where the metadata block starts in a field/value list (an index of a field name): at the last
 * `dlq.topic` field, which qctl work writes first; without one, at the trailing `dlq.*` fields.
 * src/lua/replay-2.lua applies the same rule.
 */
export function metadataStart(pairs: readonly string[]): number {
  let cut = -1
  for (let i = 0; i + 1 < pairs.length; i += 2) if (pairs[i] === 'dlq.topic') cut = i
  if (cut !== -1) return cut
  cut = pairs.length - (pairs.length % 2)
  while (cut >= 2 && (pairs[cut - 2] ?? '').startsWith(METADATA_PREFIX)) cut -= 2
  return cut
}

const text = (value: string | undefined): string | null => (value === undefined ? null : value)

function integer(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value)) return null
  return Number(value)
}

/** Decode one dead-letter entry from the field/value pairs Redis returned (read from `partition`'s dead-letter stream). */
export function decodeDlqEntry(dlqId: string, pairs: readonly string[], partition: number | null = null): DlqEntry {
  const cut = metadataStart(pairs)
  const fields = fieldsToObject(pairs.slice(0, cut))
  const meta = fieldsToObject(pairs.slice(cut))
  const ms = idTimeMs(dlqId)
  return {
    dlqId,
    partition,
    deadLetteredAt: Number.isFinite(ms) ? new Date(ms).toISOString() : '',
    originTopic: text(meta['dlq.topic']),
    originId: text(meta['dlq.id']),
    group: text(meta['dlq.group']),
    consumer: text(meta['dlq.consumer']),
    attempts: integer(meta['dlq.attempts']),
    errorName: text(meta['dlq.error-name']),
    errorMessage: text(meta['dlq.error-message']),
    firstFailureAt: text(meta['dlq.first-failure']),
    lastFailureAt: text(meta['dlq.last-failure']),
    fields,
    data: text(fields[WireField.data]),
  }
}

/**
 * The `--json` shape of an entry in `qctl dlq list` and `qctl dlq show`: `data` is the payload
 * parsed when it is JSON, so `jq '.entries[].data.orderId'` works; `dataText` keeps it exactly as
 * stored (a JSON parse loses digits of integers beyond 2^53 and the spelling of numbers like 1.50).
 */
export interface DlqEntryJson extends Omit<DlqEntry, 'data'> {
  /** The payload parsed when it is JSON, otherwise its text; null when the entry has none. */
  data: unknown
  /** The payload exactly as stored (the `data` field); null when the entry has none. */
  dataText: string | null
  /** Whether `data` is the parsed payload (false: it is the text, or null). */
  dataIsJson: boolean
}

/**
 * Payloads nested deeper stay text: JSON.parse takes them, but printing the parsed value again
 * (`--json`) recurses once per level and overflows the stack (a 100,000-deep array did).
 */
export const MAX_PARSED_DEPTH = 1000

/** Whether brackets outside strings nest deeper than `limit` (one linear scan, no parse). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (inString) {
      if (code === 0x5c) i++ // a backslash escapes the next character
      else if (code === 0x22) inString = false
    } else if (code === 0x22) {
      inString = true
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > limit) return true
    } else if (code === 0x5d || code === 0x7d) {
      depth--
    }
  }
  return false
}

/** The payload parsed, unless it was published as raw bytes (`enc` raw), is not JSON, or nests deeper than MAX_PARSED_DEPTH. */
function parsedPayload(entry: DlqEntry): {value: unknown; json: boolean} {
  if (entry.data === null || entry.fields[WireField.encoding] === RAW_ENCODING) return {value: entry.data, json: false}
  if (nestsDeeperThan(entry.data, MAX_PARSED_DEPTH)) return {value: entry.data, json: false}
  try {
    return {value: JSON.parse(entry.data) as unknown, json: true}
  } catch {
    return {value: entry.data, json: false}
  }
}

export function dlqEntryJson(entry: DlqEntry): DlqEntryJson {
  const {data, ...rest} = entry
  const payload = parsedPayload(entry)
  return {...rest, data: payload.value, dataText: data, dataIsJson: payload.json}
}
