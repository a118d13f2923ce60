import {isUtf8} from 'node:buffer'

import type {ChalkInstance} from 'chalk'

import type {Envelope} from '../core/envelope/envelope.js'
import {formatDuration, plural} from './numbers.js'
import {truncate} from './table.js'
import {shown, textWidth} from './terminal-text.js'

/** Bytes of a binary value shown in hex before `…`. */
const HEX_PREVIEW_BYTES = 16

/** A value that is not valid UTF-8, for people: its size and first bytes in hex. */
function binary(base64: string): string {
  const bytes = Buffer.from(base64, 'base64')
  const more = bytes.length > HEX_PREVIEW_BYTES ? '…' : ''
  return `<${bytes.length} bytes: ${bytes.subarray(0, HEX_PREVIEW_BYTES).toString('hex')}${more}>`
}

/**
 * Text from Redis as shown, first cut to `limit` characters: a line is cut to the terminal's width
 * anyway, and escaping only lengthens text, so a megabyte payload costs no more than its first screen.
 */
const shownUpTo = (text: string, limit: number | undefined): string => shown(limit === undefined ? text : text.slice(0, limit))

function payloadText(envelope: Envelope, limit: number | undefined): string {
  if (envelope.dataBase64 !== undefined) return binary(envelope.dataBase64)
  if (envelope.data === null || envelope.data === undefined) return '<no data field>'
  return envelope.data === '' ? '<empty>' : shownUpTo(envelope.data, limit)
}

/** The parts after the payload: headers, `enc`, and another program's fields. */
function extras(envelope: Envelope, limit: number | undefined): string {
  const pairs = (list: ReadonlyArray<readonly [string, string]>, text: (value: string) => string): string =>
    (limit === undefined ? list : list.slice(0, limit)).map(([name, value]) => `${text(name)}=${text(value)}`).join(' ')
  const plain = (value: string): string => shownUpTo(value, limit)
  const parts: string[] = []
  const headers = Object.entries(envelope.headers)
  if (headers.length > 0) parts.push(`headers ${pairs(headers, plain)}`)
  if (envelope.enc !== undefined) parts.push(`enc=${envelope.enc}`)
  if (envelope.fields !== undefined) parts.push(`fields ${pairs(envelope.fields, plain)}`)
  if (envelope.fieldsBase64 !== undefined) {
    const decoded = (value: string): string => {
      const bytes = Buffer.from(value, 'base64')
      return isUtf8(bytes) ? shownUpTo(bytes.toString('utf8'), limit) : binary(value)
    }
    parts.push(`fields ${pairs(envelope.fieldsBase64, decoded)}`)
  }
  return parts.join('  ')
}

/**
 * One entry of `qctl tail` as a line for a person at a terminal: ID, partition (of a partitioned
 * topic), time, key (`-` without one), payload, then headers and any other fields. Text from Redis
 * goes through the sanitiser (one line, no escape sequence reaches the terminal); bytes that are not
 * UTF-8 show as their size and first bytes in hex. Cut to `columns` when given. Pure.
 */
export function formatTailLine(envelope: Envelope, style: ChalkInstance, columns?: number): string {
  const head = [envelope.id, ...(envelope.partition === null ? [] : [`p${envelope.partition}`]), envelope.publishedAt ?? '-']
  const key = envelope.key === null ? '-' : shown(envelope.key)
  const more = extras(envelope, columns)
  let rest = `${payloadText(envelope, columns)}${more === '' ? '' : `  ${more}`}`
  const used = textWidth(`${head.join(' ')} ${key} `)
  if (columns !== undefined) rest = truncate(rest, Math.max(1, columns - used))
  return `${style.dim(head.join(' '))} ${envelope.key === null ? style.dim(key) : style.cyan(key)} ${rest}`
}

/*
 * What `qctl tail --follow` says on stderr while it follows (stdout holds only entries, so a pipe of
 * envelopes stays clean). Names and Redis's words go through the sanitiser.
 */

/** The connection was lost: `reason` is the one-line error of the failure. */
export const formatConnectionLost = (reason: string): string =>
  shown(`${reason.replace(/^cannot connect to /, 'lost the connection to ')}; reconnecting until it works (Ctrl-C stops), to go on after the last entry printed`)

/** Redis answered again, `downMs` after the connection was lost. */
export const formatConnectionBack = (address: string, downMs: number, attempts: number): string =>
  shown(`reconnected to ${address} after ${formatDuration(downMs)} (${plural(attempts, 'attempt')}); going on after the last entry printed`)

/** `qctl topic alter` added partitions to the topic followed. */
export function formatTailPartitionsAdded(topic: string, from: number, to: number): string {
  const added = to - from === 1 ? `partition ${from}` : `partitions ${from}-${to - 1}`
  return `${shown(topic)} grew from ${from} to ${to} partitions: following ${added} too, from their start`
}

/** The topic followed was deleted and made again with other partition streams. */
export const formatTailTopicRecreated = (topic: string): string =>
  `${shown(topic)} was deleted and made again with other partition streams while tail ran: it goes on following the old ones; start it again to follow the new topic`
