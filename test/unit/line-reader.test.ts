import {Readable} from 'node:stream'
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'

import {afterEach, describe, expect, it, vi} from 'vitest'

import {type Line, readLines} from '../../src/core/input/line-reader.js'

interface Seen {
  number: number
  text: string
  tooLongBytes?: number
}

const seen = (line: Line): Seen =>
  line.tooLongBytes === undefined
    ? {number: line.number, text: line.bytes.toString('utf8')}
    : {number: line.number, text: line.bytes.toString('utf8'), tooLongBytes: line.tooLongBytes}

const chunks = (...parts: Array<string | Buffer>): Buffer[] => parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part))

async function batches(input: Readable, maxLineBytes = 1024): Promise<Line[][]> {
  const out: Line[][] = []
  for await (const batch of readLines(input, maxLineBytes)) out.push(batch)
  return out
}

async function lines(parts: Array<string | Buffer>, maxLineBytes = 1024): Promise<Seen[]> {
  return (await batches(Readable.from(chunks(...parts)), maxLineBytes)).flat().map(seen)
}

/** Every way of cutting `bytes` into two chunks. */
const allSplits = (bytes: Buffer): Buffer[][] => {
  const out: Buffer[][] = []
  for (let cut = 0; cut <= bytes.length; cut++) out.push([bytes.subarray(0, cut), bytes.subarray(cut)].filter((part) => part.length > 0))
  return out
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('readLines', () => {
  it('splits LF lines and numbers them from 1', async () => {
    expect(await lines(['{"a":1}\n{"b":2}\n{"c":3}\n'])).toEqual([
      {number: 1, text: '{"a":1}'},
      {number: 2, text: '{"b":2}'},
      {number: 3, text: '{"c":3}'},
    ])
  })

  it('strips CR of CRLF endings', async () => {
    expect(await lines(['a\r\nb\r\nc\r\n'])).toEqual([
      {number: 1, text: 'a'},
      {number: 2, text: 'b'},
      {number: 3, text: 'c'},
    ])
  })

  it('accepts mixed LF and CRLF endings', async () => {
    expect(await lines(['a\nb\r\nc\n'])).toEqual([
      {number: 1, text: 'a'},
      {number: 2, text: 'b'},
      {number: 3, text: 'c'},
    ])
  })

  it('only strips one trailing CR; a CR inside a line is kept', async () => {
    expect(await lines(['a\rb\n'])).toEqual([{number: 1, text: 'a\rb'}])
    expect((await lines(['x\r\r\n']))[0]?.text).toBe('x\r')
  })

  it('emits a last line that has no newline', async () => {
    expect(await lines(['a\nb'])).toEqual([
      {number: 1, text: 'a'},
      {number: 2, text: 'b'},
    ])
    expect(await lines(['only'])).toEqual([{number: 1, text: 'only'}])
    expect(await lines(['a\r\nb\r'])).toEqual([
      {number: 1, text: 'a'},
      {number: 2, text: 'b'},
    ])
  })

  it('yields nothing for empty or blank input', async () => {
    expect(await lines([])).toEqual([])
    expect(await lines([''])).toEqual([])
    expect(await lines(['\n\n\r\n  \t \n'])).toEqual([])
  })

  it('strips a UTF-8 BOM on the first line', async () => {
    expect(await lines(['\uFEFF{"a":1}\n{"b":2}\n'])).toEqual([
      {number: 1, text: '{"a":1}'},
      {number: 2, text: '{"b":2}'},
    ])
    const first = (await batches(Readable.from(chunks('\uFEFFx\n'))))[0]?.[0]
    expect(first?.bytes).toEqual(Buffer.from('x'))
  })

  it('keeps a BOM that is not at the start of the input', async () => {
    const result = await lines(['a\n\uFEFFb\n'])
    expect(result[1]).toEqual({number: 2, text: '\uFEFFb'})
    expect(Buffer.from(result[1]!.text).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]))
  })

  it('treats a first line holding only a BOM as blank, still counting it', async () => {
    expect(await lines(['\uFEFF\n{"a":1}\n'])).toEqual([{number: 2, text: '{"a":1}'}])
  })

  it('strips a BOM split across chunks', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf])
    expect(await lines([bom.subarray(0, 1), Buffer.concat([bom.subarray(1), Buffer.from('x\n')])])).toEqual([{number: 1, text: 'x'}])
  })

  it('skips blank and whitespace-only lines but keeps counting them', async () => {
    expect(await lines(['\n  \n\t\n \t \r\na\n\n\r\nb\n   \n'])).toEqual([
      {number: 5, text: 'a'},
      {number: 8, text: 'b'},
    ])
  })

  it('keeps lines with surrounding whitespace intact', async () => {
    expect(await lines(['  {"a":1}\t\n'])).toEqual([{number: 1, text: '  {"a":1}\t'}])
  })

  it('accepts string chunks as well as buffers', async () => {
    const result = (await batches(Readable.from(['a\nb', 'c\n'], {objectMode: true}))).flat().map(seen)
    expect(result).toEqual([
      {number: 1, text: 'a'},
      {number: 2, text: 'bc'},
    ])
  })

  it('joins a line split across many chunks', async () => {
    expect(await lines(['{"a"', ':', '12', '3}\n{"b":', '2}'])).toEqual([
      {number: 1, text: '{"a":123}'},
      {number: 2, text: '{"b":2}'},
    ])
  })

  it('handles one byte per chunk', async () => {
    const input = Buffer.from('ab\r\n\ncd\n€\n')
    const parts = [...input].map((byte) => Buffer.from([byte]))
    expect(await lines(parts)).toEqual([
      {number: 1, text: 'ab'},
      {number: 3, text: 'cd'},
      {number: 4, text: '€'},
    ])
  })

  it('gives the same lines wherever the input is cut (inside CRLF, inside a multibyte character)', async () => {
    const input = Buffer.from('{"k":"é"}\r\n\r\n{"k":"😀€"}\r\nlast€')
    const expected = [
      {number: 1, text: '{"k":"é"}'},
      {number: 3, text: '{"k":"😀€"}'},
      {number: 4, text: 'last€'},
    ]
    for (const split of allSplits(input)) expect(await lines(split)).toEqual(expected)
  })

  it('splits inside CRLF: the CR at the end of one chunk, the LF at the start of the next', async () => {
    expect(await lines(['ab\r', '\ncd\r', '\n'])).toEqual([
      {number: 1, text: 'ab'},
      {number: 2, text: 'cd'},
    ])
  })

  it('keeps a multibyte character split across chunks byte-identical', async () => {
    const smile = Buffer.from('😀')
    expect(smile.length).toBe(4)
    const result = await lines([Buffer.concat([Buffer.from('x'), smile.subarray(0, 1)]), smile.subarray(1, 3), Buffer.concat([smile.subarray(3), Buffer.from('y\n')])])
    expect(result).toEqual([{number: 1, text: 'x😀y'}])
  })

  it('passes invalid UTF-8 bytes through untouched', async () => {
    const bad = Buffer.from([0x61, 0xff, 0xfe, 0x62])
    const result = (await batches(Readable.from([Buffer.concat([bad, Buffer.from('\n')])]))).flat()
    expect(result).toHaveLength(1)
    expect(Buffer.compare(result[0]!.bytes, bad)).toBe(0)
  })

  it('yields lines in one array per chunk', async () => {
    const result = await batches(Readable.from(chunks('a\nb\n', 'c\nd\n', '\n\n', 'e')))
    expect(result.map((batch) => batch.map((line) => line.bytes.toString()))).toEqual([['a', 'b'], ['c', 'd'], ['e']])
  })

  describe('maxLineBytes', () => {
    it('accepts a line of exactly maxLineBytes and flags one byte more', async () => {
      expect(await lines(['abcde\nabcdef\nok\n'], 5)).toEqual([
        {number: 1, text: 'abcde'},
        {number: 2, text: '', tooLongBytes: 6},
        {number: 3, text: 'ok'},
      ])
    })

    it('reports a too-long line with empty bytes and its length, then reads on', async () => {
      const long = 'x'.repeat(100)
      const result = (await batches(Readable.from(chunks(`{"a":1}\n${long}\n{"b":2}\n`)), 10)).flat()
      expect(result.map(seen)).toEqual([
        {number: 1, text: '{"a":1}'},
        {number: 2, text: '', tooLongBytes: 100},
        {number: 3, text: '{"b":2}'},
      ])
      expect(result[1]!.bytes.length).toBe(0)
    })

    it('counts a too-long line split across chunks', async () => {
      expect(await lines(['ok\nxxxx', 'xxxx', 'xxxx', 'x\nafter\n'], 8)).toEqual([
        {number: 1, text: 'ok'},
        {number: 2, text: '', tooLongBytes: 13},
        {number: 3, text: 'after'},
      ])
    })

    it('reports a too-long last line without a newline', async () => {
      expect(await lines(['a\n', 'y'.repeat(20)], 8)).toEqual([
        {number: 1, text: 'a'},
        {number: 2, text: '', tooLongBytes: 20},
      ])
    })

    it('reports a too-long line even when it is only whitespace', async () => {
      expect(await lines([' '.repeat(20) + '\nz\n'], 8)).toEqual([
        {number: 1, text: '', tooLongBytes: 20},
        {number: 2, text: 'z'},
      ])
    })

    it('does not let a carry that was too long leak into the next line', async () => {
      expect(await lines(['y'.repeat(12), '\nshort', '\n'], 8)).toEqual([
        {number: 1, text: '', tooLongBytes: 12},
        {number: 2, text: 'short'},
      ])
    })

    it('handles consecutive too-long lines', async () => {
      expect(await lines(['aaaaaaaaaa\nbbbbbbbbbbbb\nc\n'], 4)).toEqual([
        {number: 1, text: '', tooLongBytes: 10},
        {number: 2, text: '', tooLongBytes: 12},
        {number: 3, text: 'c'},
      ])
    })

    // BUG: the line length is measured before the CR of a CRLF ending is removed, so a line of
    // exactly maxLineBytes with a CRLF ending is flagged (tooLongBytes 6) while the same line
    // with an LF ending is accepted. A Line is "without its line ending".
    it('measures a CRLF line without its CR', async () => {
      expect(await lines(['abcde\r\nabcdef\r\nok\r\n'], 5)).toEqual([
        {number: 1, text: 'abcde'},
        {number: 2, text: '', tooLongBytes: 6},
        {number: 3, text: 'ok'},
      ])
    })

    it('does not accumulate an oversize line of several MB: memory stays bounded', async () => {
      const maxLineBytes = 64 * 1024
      const chunk = Buffer.alloc(16 * 1024, 0x61)
      const chunkCount = 512 // 8 MiB in 16 KiB chunks
      async function* source(): AsyncGenerator<Buffer> {
        yield Buffer.from('{"first":1}\n')
        for (let index = 0; index < chunkCount; index++) yield chunk
        yield Buffer.from('\n{"after":2}\n')
      }

      const concat = vi.spyOn(Buffer, 'concat')
      const result = (await batches(Readable.from(source()), maxLineBytes)).flat()

      expect(result.map(seen)).toEqual([
        {number: 1, text: '{"first":1}'},
        {number: 2, text: '', tooLongBytes: chunk.length * chunkCount},
        {number: 3, text: '{"after":2}'},
      ])
      expect(result[1]!.tooLongBytes).toBe(8 * 1024 * 1024)
      // Nothing of the oversize line was ever joined into a big buffer.
      for (const call of concat.mock.calls) {
        const total = call[0].reduce((sum, part) => sum + part.length, 0)
        expect(total).toBeLessThanOrEqual(maxLineBytes)
      }
    })

    it('does not hold on to the chunks of an oversize line (heap check)', async () => {
      setFlagsFromString('--expose-gc')
      const gc = runInNewContext('gc') as () => void
      // ArrayBuffer memory is released by a background sweeper after gc(): let it settle, and take
      // the lowest of a few readings (a real leak stays high however long we wait).
      const external = async (): Promise<number> => {
        let lowest = Number.POSITIVE_INFINITY
        for (let attempt = 0; attempt < 10; attempt++) {
          gc()
          await new Promise((resolve) => setTimeout(resolve, 20))
          lowest = Math.min(lowest, process.memoryUsage().arrayBuffers)
        }
        return lowest
      }

      const chunkBytes = 64 * 1024
      const chunkCount = 512 // 32 MiB, each chunk freshly allocated
      let growth = Number.NaN
      const baseline = await external()
      async function* source(): AsyncGenerator<Buffer> {
        for (let index = 0; index < chunkCount; index++) yield Buffer.alloc(chunkBytes, 0x62)
        // Every chunk of the oversize line has been handed over: what is still alive is what is kept.
        growth = (await external()) - baseline
        yield Buffer.from('\nnext\n')
      }

      const result = (await batches(Readable.from(source()), 1024 * 1024)).flat().map(seen)
      expect(result).toEqual([
        {number: 1, text: '', tooLongBytes: chunkBytes * chunkCount},
        {number: 2, text: 'next'},
      ])
      // Bounded by maxLineBytes plus the stream's read-ahead, far below the 32 MiB of the line.
      expect(growth).toBeLessThan(8 * 1024 * 1024)
    })
  })
})
