import {describe, expect, it} from 'vitest'

import {headersObject, toEnvelope, type Envelope} from '../../src/core/envelope/envelope.js'
import {compareEntryIds, entryIdTime, parseEntryId} from '../../src/core/envelope/entry-id.js'
import {readEnvelope} from '../../src/core/envelope/read-envelope.js'
import {wideFields} from '../helpers/wide-entries.js'

const MAX = 1024 * 1024
const bytes = (...values: Array<string | number[]>): Buffer[] => values.map((value) => Buffer.from(value as string))
const envelopeOf = (pairs: Buffer[], partition: number | null = null): Envelope => toEnvelope('orders', partition, '1700000000000-0', pairs)

/** An entry's envelope through JSON and back, as `qctl tail --json | qctl publish --envelope` takes it: its stored fields. */
function roundTrip(pairs: Buffer[]): Buffer[] {
  const line = Buffer.from(JSON.stringify(envelopeOf(pairs)))
  const read = readEnvelope(line, MAX)
  if (!read.ok) throw new Error(read.problem)
  return read.entry.fields.map((value) => (typeof value === 'string' ? Buffer.from(value) : value))
}

describe('toEnvelope', () => {
  it('an entry in qctl\'s wire format: key, headers, data as text, publishedAt from the ID', () => {
    expect(envelopeOf(bytes('data', '{"n":1}', 'key', 'k', 'headers', '{"a":"b"}'), 2)).toEqual({
      topic: 'orders',
      partition: 2,
      id: '1700000000000-0',
      key: 'k',
      headers: {a: 'b'},
      data: '{"n":1}',
      publishedAt: '2023-11-14T22:13:20.000Z',
    })
  })

  it('a payload that is not valid UTF-8 goes in dataBase64; enc raw is kept', () => {
    const envelope = envelopeOf(bytes('data', [0xff, 0x00, 0xc3, 0x28], 'enc', 'raw'))
    expect(envelope).toMatchObject({key: null, headers: {}, dataBase64: '/wDDKA==', enc: 'raw'})
    expect('data' in envelope).toBe(false)
  })

  it('empty data and an empty key are values, not absences', () => {
    expect(envelopeOf(bytes('data', '', 'key', ''))).toMatchObject({data: '', key: ''})
  })

  it.each([
    ['another field name', bytes('payload', 'x')],
    ['no data field first', bytes('key', 'k', 'data', 'x')],
    ['a field twice', bytes('data', '1', 'data', '2')],
    ['headers with spaces', bytes('data', 'x', 'headers', '{"a": "b"}')],
    ['empty headers', bytes('data', 'x', 'headers', '{}')],
    ['headers of numbers', bytes('data', 'x', 'headers', '{"a":1}')],
    ['headers JSON reorders', bytes('data', 'x', 'headers', '{"b":"1","1":"2"}')],
    ['headers that are not JSON', bytes('data', 'x', 'headers', 'nope')],
    ['an enc other than raw', bytes('data', 'x', 'enc', 'gzip')],
    ['a binary key', bytes('data', 'x', 'key', [0xff])],
    ['a field after enc', bytes('data', 'x', 'enc', 'raw', 'key', 'k')],
  ])('an entry in another layout (%s) keeps its exact pairs in fields', (_what, pairs) => {
    const envelope = envelopeOf(pairs)
    const exact = envelope.fields ?? envelope.fieldsBase64?.map(([name, value]) => [Buffer.from(name, 'base64').toString('latin1'), Buffer.from(value, 'base64').toString('latin1')])
    expect(exact?.flat()).toEqual(pairs.map((value) => value.toString(envelope.fields === undefined ? 'latin1' : 'utf8')))
  })

  it('fields in base64 as soon as one name or value is not valid UTF-8; key, headers and data as a handler sees them', () => {
    const envelope = envelopeOf(bytes([0xff], 'v', 'data', 'd', 'key', 'k', 'headers', '{"h":"v","n":1}'))
    expect(envelope.fields).toBeUndefined()
    expect(envelope.fieldsBase64?.[0]).toEqual(['/w==', 'dg=='])
    expect(envelope).toMatchObject({key: 'k', headers: {h: 'v'}, data: 'd'})
    expect(envelopeOf(bytes('payload', 'p')).data).toBeNull()
  })

  it('headers named __proto__ stay data', () => {
    const envelope = envelopeOf(bytes('data', 'x', 'headers', '{"__proto__":"p"}'))
    expect(Object.getPrototypeOf(envelope.headers)).toBe(Object.prototype)
    expect(Object.keys(envelope.headers)).toEqual(['__proto__'])
    expect(JSON.stringify(envelope.headers)).toBe('{"__proto__":"p"}')
  })

  it('an ID past what a date holds has publishedAt null', () => {
    expect(toEnvelope('t', null, '18446744073709551615-0', bytes('data', 'x')).publishedAt).toBeNull()
  })
})

describe('headersObject', () => {
  it.each([
    ['{"a":"b"}', {a: 'b'}],
    ['{"a":"b","c":"d"}', {a: 'b', c: 'd'}],
    ['{}', undefined],
    ['[]', undefined],
    ['"a"', undefined],
    ['{"a":"b" }', undefined],
    ['{"a":"\\u0062"}', undefined],
    ['{"a":null}', undefined],
  ])('%s', (text, expected) => {
    expect(headersObject(text)).toEqual(expected)
  })
})

describe('the round trip: toEnvelope, JSON, readEnvelope', () => {
  it.each([
    ['qctl JSON message', bytes('data', '{"n":1}', 'key', 'cl\u00e9-\ud83d\udd11', 'headers', JSON.stringify({'\u00e9': '\ud83d\ude80', __proto__x: 'y'}))],
    ['raw binary', bytes('data', Array.from({length: 256}, (_, i) => i), 'enc', 'raw')],
    ['empty payload', bytes('data', '')],
    ['control characters, CR LF, NUL, a BOM, U+FFFD, U+2028', bytes('data', '\ufeff\u0000\r\n\u001b[31m\u2028\ufffd')],
    ['another layout', bytes('payload', 'p', 'payload', 'q', 'data', 'x')],
    ['binary names and values', bytes([0xff, 0xfe], [0xc3, 0x28], 'key', [0x80])],
    ['headers qctl would not write', bytes('data', 'x', 'headers', '{ }')],
    ['thousands of fields', wideFields(6000)],
  ])('%s: the same bytes', (_what, pairs) => {
    expect(roundTrip(pairs)).toEqual(pairs)
  })
})

describe('readEnvelope', () => {
  const read = (line: string, max = MAX): ReturnType<typeof readEnvelope> => readEnvelope(Buffer.from(line), max)
  const problem = (line: string, max = MAX): string => {
    const result = read(line, max)
    if (result.ok) throw new Error(`${line} was accepted`)
    return result.column === undefined ? result.problem : `${result.column}: ${result.problem}`
  }

  it('takes what tail prints, ignoring topic and publishedAt', () => {
    const result = read('{"topic":"other","partition":1,"id":"1-1","key":"k","headers":{"h":"v"},"data":"x","publishedAt":"2020-01-01T00:00:00.000Z"}')
    expect(result).toEqual({ok: true, entry: {fields: ['data', Buffer.from('x'), 'key', 'k', 'headers', '{"h":"v"}'], key: 'k', id: '1-1', partition: 1}})
  })

  it('needs only a payload; null key and headers mean none', () => {
    expect(read('{"data":""}')).toEqual({ok: true, entry: {fields: ['data', Buffer.alloc(0)], key: undefined, id: undefined, partition: undefined}})
    expect(read('{"dataBase64":"/w==","key":null,"headers":null,"enc":"raw","partition":null}')).toEqual({
      ok: true,
      entry: {fields: ['data', Buffer.from([0xff]), 'enc', 'raw'], key: undefined, id: undefined, partition: null},
    })
  })

  it('fields: the key that routes it is its first key field', () => {
    const result = read('{"fields":[["key","a"],["key","b"],["data","x"]],"key":"ignored"}')
    expect(result.ok && result.entry.key).toBe('a')
    expect(result.ok && result.entry.fields).toEqual(['key', 'a', 'key', 'b', 'data', 'x'])
  })

  it.each([
    ['{"data":', '9: invalid JSON: Unexpected end of input'],
    ['[1]', 'envelope: a line must be a JSON object, as qctl tail --json prints, not an array'],
    ['"x"', 'envelope: a line must be a JSON object, as qctl tail --json prints, not a string'],
    ['{"data":"x","extra":1}', 'envelope: unknown member "extra" (an envelope has topic, partition, id, key, headers, data, dataBase64, enc, publishedAt, fields, fieldsBase64)'],
    ['{"data":"x","__proto__":{}}', 'envelope: unknown member "__proto__" (an envelope has topic, partition, id, key, headers, data, dataBase64, enc, publishedAt, fields, fieldsBase64)'],
    ['{"error":{"code":"NOT_FOUND","message":"topic \\"t\\" does not exist","exitCode":6}}', 'envelope: this line is a qctl error, not an entry (the command that wrote the input failed): topic "t" does not exist'],
    ['{"key":"k"}', 'envelope: has no payload: "data" (text) or "dataBase64" (bytes) is needed, or "fields" for an entry in another layout'],
    ['{"data":null}', 'envelope: has no payload: "data" (text) or "dataBase64" (bytes) is needed, or "fields" for an entry in another layout'],
    ['{"data":"x","dataBase64":"eA=="}', 'envelope: has both "data" and "dataBase64": give one'],
    ['{"data":1}', 'envelope: "data" must be a string, not a number'],
    ['{"data":"\\ud800"}', 'envelope: "data" holds a lone UTF-16 surrogate, which has no UTF-8 form: give the bytes in "dataBase64"'],
    ['{"dataBase64":"eA"}', 'envelope: "dataBase64" must be padded base64 (RFC 4648)'],
    ['{"dataBase64":"e-A="}', 'envelope: "dataBase64" must be padded base64 (RFC 4648)'],
    ['{"dataBase64":"eB=="}', 'envelope: "dataBase64" must be padded base64 (RFC 4648)'],
    ['{"data":"x","key":7}', 'envelope: "key" must be a string or null, not a number'],
    ['{"data":"x","headers":[]}', 'envelope: "headers" must be an object of strings, not an array'],
    ['{"data":"x","headers":{"n":1}}', 'envelope: "headers" must be an object of strings: "n" is a number'],
    ['{"data":"x","enc":"gzip"}', 'envelope: "enc" must be "raw" or absent'],
    ['{"data":"x","id":5}', 'envelope: "id" must be a string, not a number'],
    ['{"data":"x","partition":-1}', 'envelope: "partition" must be a partition number or null, not -1'],
    ['{"data":"x","partition":"0"}', 'envelope: "partition" must be a partition number or null, not "0"'],
    ['{"fields":[]}', 'envelope: "fields" must be a non-empty array of [name, value] pairs'],
    ['{"fields":[["a"]]}', 'envelope: "fields"[0] must be a [name, value] pair'],
    ['{"fields":[["a",1]]}', 'envelope: "fields"[0] must hold two strings (text; bytes go in "fieldsBase64")'],
    ['{"fieldsBase64":[["YQ==","!"]]}', 'envelope: "fieldsBase64"[0] must hold two base64 strings'],
    ['{"fields":[["a","b"]],"fieldsBase64":[["YQ==","Yg=="]]}', 'envelope: has both "fields" and "fieldsBase64": give one'],
  ])('%s: %s', (line, expected) => {
    expect(problem(line)).toBe(expected)
  })

  it('refuses invalid UTF-8, and payloads over the limit (data, or all fields)', () => {
    const binary = readEnvelope(Buffer.from([0x7b, 0xff, 0x7d]), MAX)
    expect(binary.ok === false && binary.problem).toBe('envelope: invalid UTF-8 (an envelope is a line of JSON text; bytes go in "dataBase64" or "fieldsBase64")')
    expect(problem('{"data":"12345"}', 4)).toBe('payload of 5 B is over the --max-payload limit of 4 B')
    expect(problem('{"fields":[["ab","cd"]]}', 3)).toBe('payload of 4 B is over the --max-payload limit of 3 B')
  })
})

describe('entry IDs over their whole range', () => {
  it.each(['0-0', '1-0', '1700000000000-5', '18446744073709551615-18446744073709551615'])('%s is an ID', (text) => {
    expect(parseEntryId(text)).toBeDefined()
  })

  it.each(['', '1', '01-0', '1-01', '-1-0', '18446744073709551616-0', '1-18446744073709551616', ' 1-0', '1-0 '])('%j is not', (text) => {
    expect(parseEntryId(text)).toBeUndefined()
  })

  it('compares past 2^53', () => {
    const id = (text: string) => parseEntryId(text) as NonNullable<ReturnType<typeof parseEntryId>>
    expect(compareEntryIds(id('9007199254740993-0'), id('9007199254740992-9'))).toBe(1)
    expect(compareEntryIds(id('5-2'), id('5-10'))).toBe(-1)
    expect(compareEntryIds(id('5-2'), id('5-2'))).toBe(0)
    expect(entryIdTime('1700000000000-0')).toBe(1_700_000_000_000)
    expect(entryIdTime('9000000000000000-0')).toBeUndefined()
  })
})
