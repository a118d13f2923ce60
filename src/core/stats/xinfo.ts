/** XINFO replies (flat field/value arrays) as objects, and the few fields qctl reads, typed. */

export type InfoObject = Record<string, unknown>

export function infoObject(reply: unknown): InfoObject {
  const object: InfoObject = {}
  if (!Array.isArray(reply)) return object
  for (let i = 0; i + 1 < reply.length; i += 2) object[String(reply[i])] = reply[i + 1]
  return object
}

export const numberOf = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))

export const stringOf = (value: unknown): string | null => (value === null || value === undefined ? null : String(value))

/** The ms timestamp of a stream ID (`<ms>-<seq>`); null for no ID. */
export function idMs(id: string | null): number | null {
  if (id === null) return null
  const dash = id.indexOf('-')
  const ms = Number(dash === -1 ? id : id.slice(0, dash))
  return Number.isFinite(ms) ? ms : null
}

/** The ID and fields of an entry as XINFO STREAM returns first-entry / last-entry. */
export function entryId(value: unknown): string | null {
  return Array.isArray(value) && value.length > 0 ? String(value[0]) : null
}
