import {describe, expect, it} from 'vitest'

import {decodeMessage, idTime, mayBeBinary} from '../../src/core/worker/message.js'

describe('decodeMessage', () => {
  it('a replayed message keeps its original topic entry ID (qctl-original-id header): originalId, and publishedAt from it', () => {
    const message = decodeMessage('orders', '1800000000000-0', ['data', '1', 'headers', '{"qctl-replayed-from":"1750000000000-0","qctl-original-id":"1700000000123-4"}'], 1)
    expect(message).toMatchObject({id: '1800000000000-0', originalId: '1700000000123-4', topic: 'orders', publishedAt: new Date(1_700_000_000_123)})
    // Not a stream ID: ignored, the message's own ID stands.
    expect(decodeMessage('orders', '1-0', ['data', '1', 'headers', '{"qctl-original-id":"yesterday"}'], 1).originalId).toBe('1-0')
  })

  it('parses a qctl entry: JSON data, key, headers, every field, attempt and publish time', () => {
    const message = decodeMessage('orders', '1700000000123-4', ['data', '{"orderId":7}', 'key', 'c-9', 'headers', '{"source":"checkout","n":1}', 'extra', 'x'], 2)
    expect(message).toEqual({
      id: '1700000000123-4',
      topic: 'orders',
      data: {orderId: 7},
      key: 'c-9',
      headers: {source: 'checkout'},
      fields: {data: '{"orderId":7}', key: 'c-9', headers: '{"source":"checkout","n":1}', extra: 'x'},
      attempt: 2,
      originalId: '1700000000123-4',
      publishedAt: new Date(1_700_000_000_123),
    })
    // A getter (made on first use), so not among the own properties compared above.
    expect(message.bytes?.equals(Buffer.from('{"orderId":7}'))).toBe(true)
  })

  it.each([
    ['raw payloads stay strings', ['data', '{"a":1}', 'enc', 'raw'], '{"a":1}'],
    ['non-JSON data is the raw string', ['data', 'plain text'], 'plain text'],
    ['entries without a data field have undefined data', ['temperature', '21.5'], undefined],
  ])('%s', (_name, pairs, data) => {
    expect(decodeMessage('t', '1-0', pairs, 1).data).toEqual(data)
  })

  it('gives the payload as exact bytes when the entry was read as bytes (binary --raw payloads)', () => {
    const binary = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x00, 0xff, 0xfe, 0xc0, 0xaf])
    const message = decodeMessage('t', '1-0', [Buffer.from('data'), binary, Buffer.from('enc'), Buffer.from('raw')], 1)
    expect(message.bytes?.equals(binary)).toBe(true)
    // The text views are UTF-8 decoded: invalid bytes become U+FFFD there, never in `bytes`.
    expect(message.data).toBe(binary.toString())
    expect(message.fields).toEqual({data: binary.toString(), enc: 'raw'})
    expect(decodeMessage('t', '1-0', ['temperature', '21.5'], 1).bytes).toBeUndefined()
    // Read as text, the bytes are the text encoded: exact for any payload without U+FFFD.
    expect(decodeMessage('t', '1-0', ['data', '😀 é'], 1).bytes?.equals(Buffer.from('😀 é'))).toBe(true)
  })

  it.each([
    [['data', 'caf\uFFFD'], true],
    [['key', '\uFFFD', 'data', 'café 😀'], false],
    [['data', 'x', 'data', '\uFFFD'], true],
    [['temperature', '\uFFFD'], false],
  ])('mayBeBinary(%j) is %s: only a payload with U+FFFD is read again as bytes', (pairs, expected) => {
    expect(mayBeBinary(pairs)).toBe(expected)
  })

  it('keeps __proto__ and constructor keys as plain data (no prototype pollution)', () => {
    const message = decodeMessage('t', '1-0', ['data', '{"__proto__":{"polluted":1}}', '__proto__', 'x', 'headers', '{"__proto__":"y"}'], 1)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(message.fields)).toBe(Object.prototype)
    expect(Object.hasOwn(message.fields, '__proto__')).toBe(true)
    expect(Object.hasOwn(message.headers, '__proto__')).toBe(true)
  })

  it('ignores malformed headers rather than failing the message', () => {
    expect(decodeMessage('t', '1-0', ['data', '1', 'headers', 'not json'], 1).headers).toEqual({})
    expect(decodeMessage('t', '1-0', ['data', '1', 'headers', '[1,2]'], 1).headers).toEqual({})
  })

  it('reads the time from an entry ID', () => {
    expect(idTime('1795876228201-0').toISOString()).toBe(new Date(1_795_876_228_201).toISOString())
  })
})
