/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as qctl carries it: a `traceparent`
 * header (and an optional `tracestate`) in a message's `headers` (README, "Traces"). Pure: no I/O.
 */

/** The header names, as W3C Trace Context spells them (lowercase, like HTTP/2 header names). */
export const TRACEPARENT_HEADER = 'traceparent'
export const TRACESTATE_HEADER = 'tracestate'

/** A parsed traceparent: what a span link or a remote parent needs. */
export interface TraceParent {
  traceId: string
  /** The producer's span (W3C calls it parent-id). */
  spanId: string
  /** The trace-flags byte (bit 0: sampled). */
  flags: number
}

// version - trace-id - parent-id - trace-flags, lowercase hex (W3C: uppercase is invalid).
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/
const ZERO_TRACE_ID = '0'.repeat(32)
const ZERO_SPAN_ID = '0'.repeat(16)
/** The length of a version 00 traceparent, and the least any version can have. */
const TRACEPARENT_LENGTH = 55

/**
 * The traceparent in `text`, or undefined when it is not one. Version 00 is exactly 55 characters;
 * version ff is invalid; a later version may be longer, with a `-` after the first 55 characters,
 * and is read by its version 00 fields, as W3C Trace Context asks of a parser (section 3.2.4).
 * All-zero trace and parent IDs are invalid.
 */
export function parseTraceparent(text: string): TraceParent | undefined {
  if (text.length < TRACEPARENT_LENGTH) return undefined
  const match = TRACEPARENT.exec(text)
  if (match === null) return undefined
  const [, version = '', traceId = '', spanId = '', flags = ''] = match
  if (version === 'ff') return undefined
  if (version === '00' ? text.length !== TRACEPARENT_LENGTH : text.length > TRACEPARENT_LENGTH && text[TRACEPARENT_LENGTH] !== '-') return undefined
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined
  return {traceId, spanId, flags: Number.parseInt(flags, 16)}
}

// W3C Trace Context 3.3.1: key = simple-key / multi-tenant-key; value = 0*255(chr) nblk-chr.
const KEY_CHAR = '[a-z0-9_\\-*/]'
const SIMPLE_KEY = `[a-z]${KEY_CHAR}{0,255}`
const MULTI_TENANT_KEY = `[a-z0-9]${KEY_CHAR}{0,240}@[a-z]${KEY_CHAR}{0,13}`
const VALUE = '[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,255}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]'
const MEMBER = new RegExp(`^(${SIMPLE_KEY}|${MULTI_TENANT_KEY})=(${VALUE})$`)
/** W3C Trace Context 3.3.1.1: at most 32 list-members. */
const MAX_MEMBERS = 32

/**
 * Why `text` is not a tracestate (`key=value` list-members separated by commas, at most 32, each key
 * once), or undefined when it is one. Empty members (`a=1,,b=2`) are allowed, as the spec allows them.
 */
export function tracestateProblem(text: string): string | undefined {
  const members = text.split(',').map((member) => member.replace(/^[ \t]+|[ \t]+$/g, '')).filter((member) => member !== '')
  if (members.length === 0) return 'it has no key=value member'
  if (members.length > MAX_MEMBERS) return `it has ${members.length} members; at most ${MAX_MEMBERS}`
  const keys = new Set<string>()
  for (const member of members) {
    const match = MEMBER.exec(member)
    if (match === null) return `"${clip(member)}" is not a key=value member (keys lowercase, values printable ASCII without , or =)`
    const key = match[1] as string
    if (keys.has(key)) return `the key "${clip(key)}" appears twice`
    keys.add(key)
  }
  return undefined
}

const clip = (text: string, length = 40): string => (text.length > length ? `${text.slice(0, length)}…` : text)

/** A value for an error message: quoted, cut to a readable length. */
export const quoteForError = (text: string): string => JSON.stringify(clip(text, 80))
