import {open, stat} from 'node:fs/promises'
import {addAbortSignal, Readable} from 'node:stream'

import {inputError, notFoundError, QctlError} from '../errors.js'

/** Where publish input comes from. */
export type InputSource =
  | {kind: 'file'; path: string}
  | {kind: 'stdin'; stream: Readable}
  | {kind: 'inline'; text: string}

/** The name used in `name:line:column` messages. */
export const sourceName = (source: InputSource): string =>
  source.kind === 'file' ? source.path : source.kind === 'stdin' ? '<stdin>' : '--data'

const READ_CHUNK_BYTES = 256 * 1024

function fileError(error: unknown, path: string): QctlError {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return notFoundError(`file not found: ${path}`)
  if (code === 'EISDIR') return inputError(`cannot read ${path}: it is a directory`)
  if (code === 'EACCES' || code === 'EPERM') return inputError(`cannot read ${path}: permission denied`)
  return inputError(`cannot read ${path}: ${code ?? (error as Error).message}`)
}

/**
 * Open the input as a byte stream. File errors (missing, directory, unreadable) surface here,
 * before anything is sent. An abort (Ctrl-C) ends a read that is waiting for data, e.g. on stdin.
 */
export async function openSource(source: InputSource, signal?: AbortSignal): Promise<Readable> {
  const stream = await openStream(source)
  return signal === undefined ? stream : addAbortSignal(signal, stream)
}

async function openStream(source: InputSource): Promise<Readable> {
  if (source.kind === 'stdin') return source.stream
  if (source.kind === 'inline') return Readable.from([Buffer.from(source.text)])
  try {
    const info = await stat(source.path)
    if (info.isDirectory()) throw Object.assign(new Error('EISDIR'), {code: 'EISDIR'})
    const handle = await open(source.path, 'r')
    const stream = handle.createReadStream({highWaterMark: READ_CHUNK_BYTES})
    return stream
  } catch (error) {
    throw fileError(error, source.path)
  }
}

/** What identifies a file's content cheaply: if size or mtime changed, a validation pass is stale. */
export async function fileVersion(source: InputSource): Promise<string | undefined> {
  if (source.kind !== 'file') return undefined
  try {
    const info = await stat(source.path)
    return `${info.size}:${info.mtimeMs}:${info.ino}`
  } catch (error) {
    throw fileError(error, source.path)
  }
}

/** Size in bytes when it is known before reading (regular files). */
export async function knownSize(source: InputSource): Promise<number | undefined> {
  if (source.kind === 'inline') return Buffer.byteLength(source.text)
  if (source.kind === 'stdin') return undefined
  try {
    return (await stat(source.path)).size
  } catch (error) {
    throw fileError(error, source.path)
  }
}

/**
 * Read the whole input, but never more than `capBytes`: returns `undefined` as soon as the input
 * is larger, so an oversize document is rejected with flat memory.
 */
export async function readCapped(source: InputSource, capBytes: number, signal?: AbortSignal): Promise<Buffer | undefined> {
  const stream = await openSource(source, signal)
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      total += buffer.length
      if (total > capBytes) return undefined
      chunks.push(buffer)
    }
  } catch (error) {
    if (signal?.aborted === true) throw error
    throw source.kind === 'file' ? fileError(error, source.path) : inputError(`cannot read ${sourceName(source)}: ${(error as Error).message}`)
  } finally {
    if (source.kind === 'file') stream.destroy()
  }
  return Buffer.concat(chunks, total)
}
