import {describe, expect, it} from 'vitest'

import {type MessageShape, type Prepared, prepareMessage, tooLarge} from '../../src/core/publish/prepare.js'

const shape = (overrides: Partial<MessageShape> = {}): MessageShape => ({raw: false, maxPayloadBytes: 1024 * 1024, ...overrides})

const fieldsOf = (prepared: Prepared) => {
  if (!prepared.ok) throw new Error(`expected ok, got ${prepared.code}: ${prepared.problem}`)
  return prepared.fields
}

const failureOf = (prepared: Prepared) => {
  if (prepared.ok) throw new Error(`expected a failure, got fields ${JSON.stringify(prepared.fields)}`)
  return prepared
}

describe('prepareMessage: JSON', () => {
  it.each([
    '{"a":1}',
    '  { "b" :  [1, 2.50, true, null] }  ',
    '{"z":1,"a":2}',
    '"\\u00e9 escaped"',
    '{"é":"😀"}',
    '1e3',
    '12345678901234567890',
    '[]',
    'null',
  ])('sends %j as the original bytes, not re-serialised', (text) => {
    const bytes = Buffer.from(text)
    const fields = fieldsOf(prepareMessage(bytes, shape()))
    expect(fields).toHaveLength(2)
    expect(fields[0]).toBe('data')
    expect(Buffer.isBuffer(fields[1])).toBe(true)
    expect(Buffer.compare(fields[1] as Buffer, bytes)).toBe(0)
    expect((fields[1] as Buffer).toString('utf8')).toBe(text)
  })

  it('adds a fixed key, then headers, in wire order', () => {
    const bytes = Buffer.from('{"a":1}')
    expect(prepareMessage(bytes, shape({key: 'k-1'}))).toEqual({ok: true, fields: ['data', bytes, 'key', 'k-1']})
    expect(prepareMessage(bytes, shape({headersJson: '{"h":"v"}'}))).toEqual({ok: true, fields: ['data', bytes, 'headers', '{"h":"v"}']})
    expect(prepareMessage(bytes, shape({key: 'k-1', headersJson: '{"h":"v"}'}))).toEqual({
      ok: true,
      fields: ['data', bytes, 'key', 'k-1', 'headers', '{"h":"v"}'],
    })
  })

  it('never marks JSON payloads with enc', () => {
    expect(fieldsOf(prepareMessage(Buffer.from('{}'), shape({key: 'k', headersJson: '{}'})))).not.toContain('enc')
  })

  it.each([
    [Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])], // {"a":"\xff"}
    [Buffer.from([0xc3])], // truncated 2-byte sequence
    [Buffer.from([0xed, 0xa0, 0x80])], // UTF-16 surrogate encoded in UTF-8
    [Buffer.from([0xc0, 0xaf])], // overlong encoding
  ])('rejects invalid UTF-8 %#', (bytes) => {
    expect(prepareMessage(bytes, shape())).toEqual({
      ok: false,
      code: 'INVALID_INPUT',
      problem: 'invalid UTF-8 (use --raw to publish bytes as they are)',
    })
  })

  it.each<[string, number, string]>([
    ['{"a":1,}', 8, 'invalid JSON: Expected double-quoted property name'],
    ['{"a" 1}', 6, "invalid JSON: Expected ':' after property name"],
    ['[1,,2]', 4, "invalid JSON: Unexpected token ','"],
    ['{"a":1} x', 9, 'invalid JSON: Unexpected non-whitespace character after JSON'],
    ['{"a":', 6, 'invalid JSON: Unexpected end of input'],
    ['', 1, 'invalid JSON: Unexpected end of input'],
    ['plain text', 1, "invalid JSON: Unexpected token 'p'"],
  ])('rejects invalid JSON %j at column %d', (text, column, problem) => {
    expect(prepareMessage(Buffer.from(text), shape())).toEqual({ok: false, code: 'INVALID_INPUT', column, problem})
  })

  it('reports a JSON column in UTF-16 code units for non-ASCII input', () => {
    // 'é' is 2 bytes but 1 column.
    expect(failureOf(prepareMessage(Buffer.from('{"é":1,}'), shape())).column).toBe(8)
  })
})

describe('prepareMessage: --raw', () => {
  it.each([
    ['invalid UTF-8', Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a])],
    ['non-JSON text', Buffer.from('hello, world')],
    ['invalid JSON', Buffer.from('{"a":1,}')],
    ['a BOM', Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])],
    ['JSON', Buffer.from('{"a":1}')],
  ])('accepts %s unchanged, marked enc=raw', (_, bytes) => {
    const copy = Buffer.from(bytes)
    const fields = fieldsOf(prepareMessage(bytes, shape({raw: true})))
    expect(fields).toEqual(['data', copy, 'enc', 'raw'])
    expect(Buffer.compare(fields[1] as Buffer, copy)).toBe(0)
  })

  it('adds key and headers before enc', () => {
    const bytes = Buffer.from([0xff])
    expect(prepareMessage(bytes, shape({raw: true, key: 'k', headersJson: '{"h":"v"}'}))).toEqual({
      ok: true,
      fields: ['data', bytes, 'key', 'k', 'headers', '{"h":"v"}', 'enc', 'raw'],
    })
  })

  it('still enforces maxPayloadBytes', () => {
    expect(failureOf(prepareMessage(Buffer.alloc(11), shape({raw: true, maxPayloadBytes: 10}))).code).toBe('PAYLOAD_TOO_LARGE')
  })
})

describe('prepareMessage: maxPayloadBytes', () => {
  it('accepts a payload of exactly the limit', () => {
    const bytes = Buffer.from('"12345678"') // 10 bytes
    expect(prepareMessage(bytes, shape({maxPayloadBytes: 10})).ok).toBe(true)
  })

  it.each<[number, number, string]>([
    [11, 10, 'payload of 11 B is over the --max-payload limit of 10 B'],
    [2048, 1024, 'payload of 2.0 KiB is over the --max-payload limit of 1.0 KiB'],
    [1536, 1023, 'payload of 1.5 KiB is over the --max-payload limit of 1023 B'],
    [3 * 1024 * 1024, 1024 * 1024, 'payload of 3.0 MiB is over the --max-payload limit of 1.0 MiB'],
  ])('rejects %d bytes over a limit of %d', (size, limit, problem) => {
    const expected = {ok: false, code: 'PAYLOAD_TOO_LARGE', problem}
    expect(prepareMessage(Buffer.alloc(size, 0x20), shape({maxPayloadBytes: limit}))).toEqual(expected)
    expect(tooLarge(size, limit)).toEqual(expected)
  })

  it('says "more than" when reading stopped early and the real size is unknown (stdin)', () => {
    expect(failureOf(tooLarge(1024 + 64, 1024, true)).problem).toBe('payload of more than 1.1 KiB is over the --max-payload limit of 1.0 KiB')
  })

  it('checks size before content (an oversize invalid payload is PAYLOAD_TOO_LARGE)', () => {
    expect(failureOf(prepareMessage(Buffer.from([0xff, 0xff, 0xff]), shape({maxPayloadBytes: 2}))).code).toBe('PAYLOAD_TOO_LARGE')
    expect(failureOf(prepareMessage(Buffer.from('{{{'), shape({maxPayloadBytes: 2}))).code).toBe('PAYLOAD_TOO_LARGE')
  })
})

describe('prepareMessage: keyField', () => {
  const keyOf = (json: string, keyField: string, extra: Partial<MessageShape> = {}): Prepared =>
    prepareMessage(Buffer.from(json), shape({keyField, ...extra}))

  it.each([
    ['{"id":"abc"}', 'id', 'abc'],
    ['{"id":""}', 'id', ''],
    ['{"id":42}', 'id', '42'],
    ['{"id":-1.5}', 'id', '-1.5'],
    ['{"id":0}', 'id', '0'],
    ['{"customer":{"id":"c-7"}}', 'customer.id', 'c-7'],
    ['{"a":{"b":{"c":99}}}', 'a.b.c', '99'],
    ['{"items":["x","y"]}', 'items.1', 'y'],
    ['{"a.b":"flat"}', 'a.b', undefined],
    ['{"é":"ü"}', 'é', 'ü'],
    ['{"__proto__":{"polluted":"own"}}', '__proto__.polluted', 'own'],
  ])('%s at %j gives key %j', (json, path, key) => {
    const prepared = keyOf(json, path)
    if (key === undefined) {
      expect(failureOf(prepared).code).toBe('INVALID_INPUT')
      return
    }
    expect(fieldsOf(prepared)).toEqual(['data', Buffer.from(json), 'key', key])
  })

  it('overrides a fixed key and keeps the wire order with headers', () => {
    const json = '{"id":"from-record"}'
    expect(keyOf(json, 'id', {key: 'fixed', headersJson: '{"h":"v"}'})).toEqual({
      ok: true,
      fields: ['data', Buffer.from(json), 'key', 'from-record', 'headers', '{"h":"v"}'],
    })
  })

  it.each([
    ['{"other":1}', 'id', 'key field "id" is missing (it must be a string, number or boolean)'],
    ['{"customer":{}}', 'customer.id', 'key field "customer.id" is missing (it must be a string, number or boolean)'],
    ['{"customer":"flat"}', 'customer.id', 'key field "customer.id" is missing (it must be a string, number or boolean)'],
    ['{"customer":null}', 'customer.id', 'key field "customer.id" is missing (it must be a string, number or boolean)'],
    ['[1,2]', 'id', 'key field "id" is missing (it must be a string, number or boolean)'],
    ['"text"', 'length', 'key field "length" is missing (it must be a string, number or boolean)'],
    ['{"id":null}', 'id', 'key field "id" is null (it must be a string, number or boolean)'],
    ['{"id":{"x":1}}', 'id', 'key field "id" is an object (it must be a string, number or boolean)'],
    ['{"id":[1]}', 'id', 'key field "id" is an array (it must be a string, number or boolean)'],
    ['{"id":[]}', 'id', 'key field "id" is an array (it must be a string, number or boolean)'],
  ])('rejects %s at %j', (json, path, problem) => {
    expect(keyOf(json, path)).toEqual({ok: false, code: 'INVALID_INPUT', problem})
  })

  it.each([
    ['{"a":1}', '__proto__.polluted'],
    ['{"a":1}', 'constructor.prototype'],
    ['{"a":1}', 'constructor'],
    ['{"a":1}', 'constructor.name'],
    ['{"a":1}', 'toString'],
    ['{"a":1}', 'hasOwnProperty'],
    ['{"a":1}', '__proto__'],
    ['{"a":{}}', 'a.constructor.name'],
    ['{"a":"s"}', 'a.length'],
    ['[]', 'constructor.name'],
  ])('does not read %s through the prototype chain at %j', (json, path) => {
    // Plant values on Object.prototype: a prototype lookup would find them.
    const proto = Object.prototype as Record<string, unknown>
    proto.polluted = 'from-prototype'
    try {
      const failure = failureOf(keyOf(json, path))
      expect(failure.code).toBe('INVALID_INPUT')
      expect(failure.problem).toBe(`key field "${path}" is missing (it must be a string, number or boolean)`)
    } finally {
      delete proto.polluted
    }
  })

  it('does not pollute Object.prototype when reading a "__proto__" record', () => {
    keyOf('{"__proto__":{"polluted":"yes"}}', '__proto__.polluted')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('validates JSON before looking for the key', () => {
    expect(keyOf('{"id":', 'id')).toMatchObject({ok: false, code: 'INVALID_INPUT', column: 7})
  })

  it('is ignored with --raw (no JSON to look in): only a fixed key is used', () => {
    const bytes = Buffer.from('{"id":"x"}')
    expect(prepareMessage(bytes, shape({raw: true, keyField: 'id'}))).toEqual({ok: true, fields: ['data', bytes, 'enc', 'raw']})
  })
})
