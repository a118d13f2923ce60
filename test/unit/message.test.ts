import {describe, expect, it} from 'vitest'

import {decodeMessage, idTime} from '../../src/core/worker/message.js'

describe('decodeMessage', () => {
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
      publishedAt: new Date(1_700_000_000_123),
    })
  })

  it.each([
    ['raw payloads stay strings', ['data', '{"a":1}', 'enc', 'raw'], '{"a":1}'],
    ['non-JSON data is the raw string', ['data', 'plain text'], 'plain text'],
    ['entries without a data field have undefined data', ['temperature', '21.5'], undefined],
  ])('%s', (_name, pairs, data) => {
    expect(decodeMessage('t', '1-0', pairs, 1).data).toEqual(data)
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
