/**
 * Entry IDs over their whole range (`<ms>-<seq>`, each part up to 2^64 - 1): an ID another program
 * chose (`XADD s 18446744073709551615-0`) is past what a JavaScript number holds exactly. Pure.
 */

const MAX_PART = 18_446_744_073_709_551_615n
const CANONICAL_ID = /^(0|[1-9]\d{0,19})-(0|[1-9]\d{0,19})$/

export interface EntryId {
  ms: bigint
  seq: bigint
}

/** An entry ID as Redis writes it (no leading zeros, parts within 64 bits); undefined otherwise. */
export function parseEntryId(text: string): EntryId | undefined {
  const match = CANONICAL_ID.exec(text)
  if (match === null) return undefined
  const id = {ms: BigInt(match[1] as string), seq: BigInt(match[2] as string)}
  return id.ms > MAX_PART || id.seq > MAX_PART ? undefined : id
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export const compareEntryIds = (a: EntryId, b: EntryId): number => (a.ms === b.ms ? (a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1) : a.ms < b.ms ? -1 : 1)

/** The largest time a Date holds (ms since the epoch). */
const MAX_DATE_MS = 8.64e15

/** When an entry was added (ms since the epoch), from its ID; undefined past what a Date holds. */
export function entryIdTime(id: string): number | undefined {
  const dash = id.indexOf('-')
  const ms = Number(id.slice(0, dash))
  return dash > 0 && Number.isSafeInteger(ms) && ms <= MAX_DATE_MS ? ms : undefined
}
