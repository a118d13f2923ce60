/** Stream entry IDs (`<ms>-<seq>`) as comparable values, and time bounds. Pure. */

/** The largest sequence number Redis allows: an end bound of a whole millisecond. */
export const MAX_SEQ = 18_446_744_073_709_551_615n

export interface StreamId {
  ms: number
  seq: bigint
}

const ID_PATTERN = /^(\d{1,16})-(\d{1,20})$/

/** `1700000000000-0` as a StreamId; undefined when the text is not a complete entry ID. */
export function parseStreamId(text: string): StreamId | undefined {
  const match = ID_PATTERN.exec(text.trim())
  if (match === null) return undefined
  const ms = Number(match[1])
  const seq = BigInt(match[2] ?? '0')
  if (!Number.isSafeInteger(ms) || seq > MAX_SEQ) return undefined
  return {ms, seq}
}

export const formatStreamId = (id: StreamId): string => `${id.ms}-${id.seq}`

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareStreamIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1
}

/** Compare two ID strings; an unparsable ID sorts first. */
export function compareIdText(a: string, b: string): number {
  const left = parseStreamId(a)
  const right = parseStreamId(b)
  if (left === undefined || right === undefined) return left === right ? 0 : left === undefined ? -1 : 1
  return compareStreamIds(left, right)
}

/** When an entry was added, from its ID (milliseconds since the epoch); NaN when it is not an ID. */
export function idTimeMs(id: string): number {
  // Called for every entry a scan reads: the milliseconds alone, without the BigInt sequence.
  const dash = id.indexOf('-')
  const ms = dash > 0 && dash <= 16 ? Number(id.slice(0, dash)) : Number.NaN
  return Number.isSafeInteger(ms) && /^\d+$/.test(id.slice(dash + 1)) ? ms : Number.NaN
}

/** The first possible ID of a millisecond. */
export const firstIdAt = (ms: number): StreamId => ({ms, seq: 0n})

/** The last possible ID of a millisecond. */
export const lastIdAt = (ms: number): StreamId => ({ms, seq: MAX_SEQ})

/** The ID just before `id` (the last of the previous millisecond for a sequence 0); 0-0 stays 0-0. */
export function idBefore(id: StreamId): StreamId {
  if (id.seq > 0n) return {ms: id.ms, seq: id.seq - 1n}
  return id.ms === 0 ? id : lastIdAt(id.ms - 1)
}

/** The ID just after `id` (the first of the next millisecond after the last sequence number); the largest ID stays itself. */
export function idAfter(id: StreamId): StreamId {
  if (id.seq < MAX_SEQ) return {ms: id.ms, seq: id.seq + 1n}
  return {ms: id.ms + 1, seq: 0n}
}

/** The smaller of two optional IDs (undefined means unbounded). */
export function minId(a: StreamId | undefined, b: StreamId | undefined): StreamId | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return compareStreamIds(a, b) <= 0 ? a : b
}
