import {describe, expect, it} from 'vitest'

import {encodeEnvelope, encodeHeaders, RAW_ENCODING, WireField} from '../../src/core/wire-format.js'

describe('WireField', () => {
  it('names the documented stream fields', () => {
    expect(WireField).toEqual({data: 'data', key: 'key', headers: 'headers', encoding: 'enc'})
    expect(RAW_ENCODING).toBe('raw')
  })
})

describe('encodeEnvelope', () => {
  const payload = Buffer.from('{"a":1}')

  it('has only data when nothing else is given', () => {
    const fields = encodeEnvelope({payload})
    expect(fields).toEqual(['data', payload])
    expect(fields[1]).toBe(payload)
  })

  it('accepts a string payload', () => {
    expect(encodeEnvelope({payload: '{"a":1}'})).toEqual(['data', '{"a":1}'])
  })

  it.each([
    [{key: 'k1'}, ['data', payload, 'key', 'k1']],
    [{headersJson: '{"h":"v"}'}, ['data', payload, 'headers', '{"h":"v"}']],
    [{raw: true}, ['data', payload, 'enc', 'raw']],
    [{key: 'k1', headersJson: '{"h":"v"}'}, ['data', payload, 'key', 'k1', 'headers', '{"h":"v"}']],
    [{key: 'k1', raw: true}, ['data', payload, 'key', 'k1', 'enc', 'raw']],
    [{headersJson: '{"h":"v"}', raw: true}, ['data', payload, 'headers', '{"h":"v"}', 'enc', 'raw']],
    [{raw: true, headersJson: '{"h":"v"}', key: 'k1'}, ['data', payload, 'key', 'k1', 'headers', '{"h":"v"}', 'enc', 'raw']],
  ])('with %j is in wire order data, key, headers, enc', (parts, expected) => {
    expect(encodeEnvelope({payload, ...parts})).toEqual(expected)
  })

  it('omits fields that are explicitly undefined or false', () => {
    expect(encodeEnvelope({payload, key: undefined, headersJson: undefined, raw: false})).toEqual(['data', payload])
    expect(encodeEnvelope({payload, raw: undefined})).toEqual(['data', payload])
  })

  it('keeps an empty key (only undefined means "no key")', () => {
    expect(encodeEnvelope({payload, key: ''})).toEqual(['data', payload, 'key', ''])
  })

  it('always has an even number of entries: field/value pairs', () => {
    const fields = encodeEnvelope({payload, key: 'k', headersJson: '{}', raw: true})
    expect(fields).toHaveLength(8)
    expect(fields.filter((_, index) => index % 2 === 0)).toEqual(['data', 'key', 'headers', 'enc'])
  })
})

describe('encodeHeaders', () => {
  it('is undefined when there are no headers', () => {
    expect(encodeHeaders({})).toBeUndefined()
  })

  it.each<[Record<string, string>, string]>([
    [{source: 'billing'}, '{"source":"billing"}'],
    [{b: '2', a: '1'}, '{"b":"2","a":"1"}'],
    [{'content-type': 'application/json', trace: ''}, '{"content-type":"application/json","trace":""}'],
    [{q: 'say "hi"\n', u: 'é😀'}, '{"q":"say \\"hi\\"\\n","u":"é😀"}'],
  ])('serialises %j as a JSON object', (headers, expected) => {
    const json = encodeHeaders(headers)
    expect(json).toBe(expected)
    expect(JSON.parse(json!)).toEqual(headers)
  })
})
