import {randomBytes} from 'node:crypto'

import type {FieldValue} from '../wire-format.js'

/**
 * A scheduled message as a member of a stream's schedule (keys.ts scheduleKey): an id line, unique
 * to the message (two equal messages scheduled for the same time stay two), then its stream fields,
 * each as `<byte length>:<bytes>`. Binary-safe (lengths, not separators); src/lua/schedule-move-2.lua
 * reads it back when the message is due.
 */
export function scheduleMember(fields: readonly FieldValue[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`${uniqueId()}\n`)]
  for (const field of fields) {
    const bytes = typeof field === 'string' ? Buffer.from(field, 'utf8') : field
    parts.push(Buffer.from(`${bytes.length}:`), bytes)
  }
  return Buffer.concat(parts)
}

/** The stream fields of a member, or undefined for one qctl did not write (for reading a schedule). */
export function fieldsOfMember(member: Buffer): Buffer[] | undefined {
  const at = member.indexOf(0x0a)
  if (at === -1) return undefined
  const fields: Buffer[] = []
  let position = at + 1
  while (position < member.length) {
    const colon = member.indexOf(0x3a, position)
    const length = colon === -1 ? Number.NaN : Number(member.subarray(position, colon).toString('latin1'))
    if (!Number.isInteger(length) || length < 0 || colon + 1 + length > member.length) return undefined
    fields.push(member.subarray(colon + 1, colon + 1 + length))
    position = colon + 1 + length
  }
  return fields.length > 0 && fields.length % 2 === 0 ? fields : undefined
}

let sequence = 0

/** Unique across processes and hosts: time, a process-wide sequence, random bytes. */
const uniqueId = (): string => `${Date.now().toString(36)}.${(sequence++).toString(36)}.${randomBytes(6).toString('base64url')}`
