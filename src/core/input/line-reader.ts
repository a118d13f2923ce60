import type {Readable} from 'node:stream'

/** One line of an NDJSON input, without its line ending. */
export interface Line {
  /** 1-based line number in the input. */
  number: number
  /** The line's bytes (a view into the read chunk: copy before keeping it long). */
  bytes: Buffer
  /** Set when the line is longer than `maxLineBytes`: `bytes` is then empty and only its length is known. */
  tooLongBytes?: number
}

const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])
const FRAMING_SLACK = UTF8_BOM.length + 1

const isBlank = (bytes: Buffer): boolean => {
  for (const byte of bytes) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== CARRIAGE_RETURN) return false
  }
  return true
}

export interface LineReaderOptions {
  /** Strip a UTF-8 BOM from line 1 (off when reading a range that starts mid-file). */
  bomAllowed?: boolean
  /** Updated as lines are read: the number of lines seen, blank ones included. */
  counter?: {lines: number}
}

/**
 * Split a byte stream into lines, streaming: memory stays bounded by the chunk size plus
 * `maxLineBytes`, however large the input. Accepts LF and CRLF endings and a UTF-8 BOM on the
 * first line; skips blank lines. Lines come in arrays (one per chunk) to keep per-line overhead low.
 */
export async function* readLines(input: Readable, maxLineBytes: number, options: LineReaderOptions = {}): AsyncGenerator<Line[]> {
  const bomAllowed = options.bomAllowed ?? true
  const counter = options.counter ?? {lines: 0}
  let lineNumber = 0
  // Bytes of a line that started in an earlier chunk.
  let carry: Buffer[] = []
  let carryBytes = 0
  let carryTooLong = false

  // A line may carry a BOM (line 1) and a CR beyond its payload: accumulate that much more.
  const carryLimit = maxLineBytes + FRAMING_SLACK

  const finish = (tail: Buffer, out: Line[]): void => {
    lineNumber++
    counter.lines = lineNumber
    const length = carryBytes + tail.length
    const hopeless = carryTooLong || length > carryLimit
    let bytes = hopeless ? Buffer.alloc(0) : carry.length === 0 ? tail : Buffer.concat([...carry, tail], length)
    carry = []
    carryBytes = 0
    carryTooLong = false
    if (hopeless) {
      out.push({number: lineNumber, bytes, tooLongBytes: length})
      return
    }

    if (lineNumber === 1 && bomAllowed && bytes.subarray(0, 3).equals(UTF8_BOM)) bytes = bytes.subarray(3)
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1)
    if (bytes.length > maxLineBytes) {
      out.push({number: lineNumber, bytes: Buffer.alloc(0), tooLongBytes: bytes.length})
    } else if (!isBlank(bytes)) {
      out.push({number: lineNumber, bytes})
    }
  }

  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    const out: Line[] = []
    let start = 0
    let newline = buffer.indexOf(NEWLINE, start)
    while (newline !== -1) {
      finish(buffer.subarray(start, newline), out)
      start = newline + 1
      newline = buffer.indexOf(NEWLINE, start)
    }
    if (start < buffer.length) {
      const rest = buffer.subarray(start)
      carryBytes += rest.length
      if (carryTooLong || carryBytes > carryLimit) {
        // Stop accumulating: an oversize line must not grow memory.
        carryTooLong = true
        carry = []
      } else {
        carry.push(rest)
      }
    }
    if (out.length > 0) yield out
  }

  if (carryBytes > 0 || carryTooLong) {
    const out: Line[] = []
    finish(Buffer.alloc(0), out)
    if (out.length > 0) yield out
  }
}
