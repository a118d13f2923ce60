import * as api from '@opentelemetry/api'
import {describe, expect, it} from 'vitest'

import {errorType, openTelemetryTracing} from '../../src/core/trace/opentelemetry.js'
import {parseTraceparent, tracestateProblem} from '../../src/core/trace/trace-context.js'
import {withTraceContext} from '../../src/cli/publish-input.js'
import {decodeMessage} from '../../src/core/worker/message.js'

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('parseTraceparent', () => {
  it('reads a version 00 traceparent', () => {
    expect(parseTraceparent(VALID)).toEqual({traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1})
  })

  it.each([
    ['uppercase hex', VALID.toUpperCase()],
    ['a zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['a zero parent id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-00`],
    ['version ff', `ff${VALID.slice(2)}`],
    ['version 00 with more after it', `${VALID}-extra`],
    ['too short', VALID.slice(0, 54)],
    ['a short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01x'],
    ['surrounding spaces', ` ${VALID}`],
    ['empty', ''],
  ])('refuses %s', (_name, text) => {
    expect(parseTraceparent(text)).toBeUndefined()
  })

  it('reads a later version by its version 00 fields (W3C 3.2.4), longer only after a dash', () => {
    expect(parseTraceparent(`01${VALID.slice(2)}`)?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(parseTraceparent(`01${VALID.slice(2)}-more`)?.spanId).toBe('00f067aa0ba902b7')
    expect(parseTraceparent(`01${VALID.slice(2)}more`)).toBeUndefined()
  })
})

describe('tracestateProblem', () => {
  it.each(['congo=t61rcWkgMzE', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE', 'a=1 , b=2', 'tenant@vendor=x', 'a=1,,b=2'])('accepts %s', (text) => {
    expect(tracestateProblem(text)).toBeUndefined()
  })

  it.each([
    ['', 'no key=value'],
    ['Rojo=1', 'not a key=value member'],
    ['rojo=', 'not a key=value member'],
    ['rojo=a,b', 'not a key=value member'],
    ['a=1,a=2', 'appears twice'],
    [Array.from({length: 33}, (_, i) => `k${i}=v`).join(','), '33 members'],
  ])('refuses %j', (text, problem) => {
    expect(tracestateProblem(text)).toContain(problem)
  })
})

describe('withTraceContext', () => {
  const none = {env: {}}

  it('adds nothing without a flag or variable, and ignores an empty TRACEPARENT', () => {
    expect(withTraceContext({a: '1'}, none)).toEqual({a: '1'})
    expect(withTraceContext({}, {env: {TRACEPARENT: ''}})).toEqual({})
  })

  it('takes --traceparent over TRACEPARENT, and TRACESTATE beside it', () => {
    const other = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-00`
    expect(withTraceContext({}, {traceparent: VALID, env: {TRACEPARENT: other}})).toEqual({traceparent: VALID})
    expect(withTraceContext({}, {env: {TRACEPARENT: other, TRACESTATE: 'k=v'}})).toEqual({traceparent: other, tracestate: 'k=v'})
  })

  it('leaves TRACESTATE alone without a traceparent, refuses --tracestate alone', () => {
    expect(withTraceContext({}, {env: {TRACESTATE: 'k=v'}})).toEqual({})
    expect(() => withTraceContext({}, {tracestate: 'k=v', env: {}})).toThrow('--tracestate needs a traceparent')
  })

  it('lets --header traceparent win over TRACEPARENT, and refuses it with --traceparent', () => {
    expect(withTraceContext({traceparent: VALID}, {env: {TRACEPARENT: 'junk'}})).toEqual({traceparent: VALID})
    expect(() => withTraceContext({traceparent: VALID}, {traceparent: VALID, env: {}})).toThrow('give either --traceparent or --header traceparent=…, not both')
  })

  it('names where a bad value came from', () => {
    expect(() => withTraceContext({}, {traceparent: 'nope', env: {}})).toThrow(/^invalid --traceparent "nope": a W3C traceparent is 00-/)
    expect(() => withTraceContext({}, {env: {TRACEPARENT: 'nope'}})).toThrow(/^invalid TRACEPARENT "nope"/)
    expect(() => withTraceContext({traceparent: 'nope'}, none)).toThrow(/^invalid --header traceparent "nope"/)
    expect(() => withTraceContext({}, {traceparent: VALID, tracestate: 'A=1', env: {}})).toThrow(/^invalid --tracestate "A=1": /)
  })
})

describe('message.traceparent', () => {
  const message = (headers: Record<string, string>) => decodeMessage('t', '1-0', ['data', '{}', 'headers', JSON.stringify(headers)], 1)

  it('is the header when it is a valid traceparent, undefined otherwise', () => {
    expect(message({traceparent: VALID}).traceparent).toBe(VALID)
    expect(message({traceparent: 'junk'}).traceparent).toBeUndefined()
    expect(message({}).traceparent).toBeUndefined()
    expect(decodeMessage('t', '1-0', ['data', '{}'], 1).traceparent).toBeUndefined()
  })
})

describe('errorType', () => {
  it('is the class of the error', () => {
    class BadInput extends Error {}
    expect(errorType(new BadInput('x'))).toBe('BadInput')
    expect(errorType(Object.assign(new Error('x'), {name: 'HandlerTimeout'}))).toBe('HandlerTimeout')
    expect(errorType(new TypeError('x'))).toBe('TypeError')
    expect(errorType(new Error('x'))).toBe('Error')
    expect(errorType('a string')).toBe('_OTHER')
  })
})

describe('openTelemetryTracing', () => {
  it('takes the @opentelemetry/api module itself (its types fit the parts qctl uses)', () => {
    const tracing = openTelemetryTracing(api, {version: '0.0.0'})
    // No provider registered: the API's no-op tracer; the call still runs, inside the span's context.
    const span = tracing.begin(decodeMessage('t', '1-0', ['data', '{}'], 1), {group: 'g', consumer: 'c', stream: 't'})
    expect(span.run(() => 42)).toBe(42)
    span.succeeded()
  })
})
