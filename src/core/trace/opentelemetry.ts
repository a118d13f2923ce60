import {createRequire} from 'node:module'

import type {Message} from '../worker/message.js'
import type {DeliveryFacts, HandlerSpan, HandlerTracing} from './handler-tracing.js'
import {parseTraceparent, TRACESTATE_HEADER, tracestateProblem} from './trace-context.js'

/**
 * OpenTelemetry "process" spans around handler calls (README, "Traces"), through the handler
 * project's own `@opentelemetry/api`: qctl does not depend on it (an optional peer), so the parts it
 * uses are typed here, and the module is found from the handler's file, where the application that
 * registers a tracer provider has it installed.
 */

/** An OpenTelemetry Context (qctl only passes it on). */
interface OtelContext {
  getValue(key: symbol): unknown
  setValue(key: symbol, value: unknown): OtelContext
  deleteValue(key: symbol): OtelContext
}

/** A W3C tracestate as the API holds it (createTraceState). */
interface OtelTraceState {
  set(key: string, value: string): OtelTraceState
  unset(key: string): OtelTraceState
  get(key: string): string | undefined
  serialize(): string
}

interface OtelSpanContext {
  traceId: string
  spanId: string
  traceFlags: number
  isRemote?: boolean
  traceState?: OtelTraceState
}

type AttributeValue = string | number | boolean

interface OtelSpan {
  setAttribute(key: string, value: AttributeValue): unknown
  setStatus(status: {code: number; message?: string}): unknown
  recordException(exception: Error | string): void
  end(): void
}

interface OtelTracer {
  startSpan(name: string, options: {kind: number; attributes: Record<string, AttributeValue>; links: Array<{context: OtelSpanContext}>}, context: OtelContext): OtelSpan
}

/** The parts of `@opentelemetry/api` 1.x that qctl uses. */
export interface OpenTelemetryApi {
  trace: {
    getTracer(name: string, version?: string): OtelTracer
    setSpan(context: OtelContext, span: OtelSpan): OtelContext
    getTracerProvider?: (() => unknown) | undefined
  }
  context: {with<T>(context: OtelContext, fn: () => T): T}
  ROOT_CONTEXT: OtelContext
  SpanKind: {CONSUMER: number}
  SpanStatusCode: {ERROR: number}
  createTraceState?: ((raw: string) => OtelTraceState) | undefined
}

/**
 * What `messaging.system` says. The conventions list no value for Redis Streams; a custom value
 * is allowed, and `redis` names the server as the database conventions do (`db.system.name`).
 */
export const MESSAGING_SYSTEM = 'redis'

/** The tracer's name: the instrumentation scope. */
export const TRACER_NAME = 'qctl'

/** `error.type` of a failure: the error's class (its name, else its constructor's), `_OTHER` for a thrown non-error. */
export function errorType(error: unknown): string {
  if (!(error instanceof Error)) return '_OTHER'
  if (error.name !== '' && error.name !== 'Error') return error.name
  const constructorName = (error.constructor as {name?: unknown} | undefined)?.name
  return typeof constructorName === 'string' && constructorName !== '' ? constructorName : 'Error'
}

/**
 * A HandlerTracing on `api`: for each handler call a span named `process <topic>`, kind CONSUMER,
 * a root linked to the message's traceparent (the default of the messaging conventions: see the
 * README), with the handler called in its context. A tracer that throws is the worker's to report
 * (once) while it handles the message all the same (see Dispatcher).
 */
export function openTelemetryTracing(api: OpenTelemetryApi, options: {version?: string | undefined} = {}): HandlerTracing {
  const tracer = api.trace.getTracer(TRACER_NAME, options.version)
  const {ROOT_CONTEXT, SpanKind, SpanStatusCode} = api

  const linkTo = (message: Message): Array<{context: OtelSpanContext}> => {
    const header = message.traceparent
    const parent = header === undefined ? undefined : parseTraceparent(header)
    if (parent === undefined) return []
    const context: OtelSpanContext = {traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.flags, isRemote: true}
    const state = message.headers[TRACESTATE_HEADER]
    if (state !== undefined && api.createTraceState !== undefined && tracestateProblem(state) === undefined) context.traceState = api.createTraceState(state)
    return [{context}]
  }

  const attributesOf = (message: Message, delivery: DeliveryFacts): Record<string, AttributeValue> => {
    const attributes: Record<string, AttributeValue> = {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': message.topic,
      'messaging.consumer.group.name': delivery.group,
      'messaging.client.id': delivery.consumer,
      'messaging.message.id': message.id,
      'messaging.redis.stream.key': delivery.stream,
      'messaging.redis.message.delivery_count': message.attempt,
    }
    if (message.partition !== undefined) attributes['messaging.destination.partition.id'] = String(message.partition)
    if (message.key !== undefined) attributes['messaging.redis.message.key'] = message.key
    if (message.originalId !== message.id) attributes['messaging.redis.message.original_id'] = message.originalId
    return attributes
  }

  return {
    /**
     * The registered provider's forceFlush, when it has one (the SDK's does; the API has none): a
     * batching span processor holds spans for seconds, and a worker that exits (--until-empty) would
     * lose the last of them. The API's provider is a proxy: the SDK's is its delegate.
     */
    async flush() {
      const provider = api.trace.getTracerProvider?.() as {getDelegate?: () => unknown} | undefined
      const registered = (typeof provider?.getDelegate === 'function' ? provider.getDelegate() : provider) as {forceFlush?: () => unknown} | undefined
      if (typeof registered?.forceFlush === 'function') await registered.forceFlush()
    },
    begin(message, delivery) {
      const span = tracer.startSpan(`process ${message.topic}`, {kind: SpanKind.CONSUMER, attributes: attributesOf(message, delivery), links: linkTo(message)}, ROOT_CONTEXT)
      const context = api.trace.setSpan(ROOT_CONTEXT, span)
      return {
        run: (call) => api.context.with(context, call),
        succeeded: () => span.end(),
        failed: (error) => {
          try {
            span.recordException(error instanceof Error ? error : String(error))
            span.setAttribute('error.type', errorType(error))
            span.setStatus({code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error)})
          } finally {
            span.end()
          }
        },
      }
    },
  }
}

/** `@opentelemetry/api` as found from a file: loaded, not installed there, or found but unusable (why). */
export type OpenTelemetryLoad = {kind: 'loaded'; api: OpenTelemetryApi; path: string} | {kind: 'absent'} | {kind: 'unusable'; path: string; problem: string}

const API_PACKAGE = '@opentelemetry/api'

/**
 * `@opentelemetry/api` resolved from `fromFile` (the handler module), as the handler's own
 * `require('@opentelemetry/api')` would find it: not from qctl's install, whose copy (if any) has
 * no tracer provider registered. CommonJS or ES module build alike: the API keeps its registered
 * provider and context manager in one global per major version, which both builds share.
 */
export function loadOpenTelemetry(fromFile: string): OpenTelemetryLoad {
  const require = createRequire(fromFile)
  let path: string
  try {
    path = require.resolve(API_PACKAGE)
  } catch {
    return {kind: 'absent'}
  }
  let loaded: unknown
  try {
    loaded = require(path)
  } catch (error) {
    return {kind: 'unusable', path, problem: error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error)}
  }
  const missing = missingParts(loaded)
  if (missing.length > 0) return {kind: 'unusable', path, problem: `it lacks ${missing.join(', ')} (qctl needs @opentelemetry/api 1.x)`}
  return {kind: 'loaded', api: loaded as OpenTelemetryApi, path}
}

/** The parts of the API qctl calls that `module` lacks. */
function missingParts(module: unknown): string[] {
  const api = (typeof module === 'object' && module !== null ? module : {}) as Record<string, Record<string, unknown> | undefined>
  const checks: Array<[string, unknown]> = [
    ['trace.getTracer', api['trace']?.['getTracer']],
    ['trace.setSpan', api['trace']?.['setSpan']],
    ['context.with', api['context']?.['with']],
  ]
  const missing = checks.filter(([, value]) => typeof value !== 'function').map(([name]) => name)
  if (typeof api['ROOT_CONTEXT'] !== 'object') missing.push('ROOT_CONTEXT')
  if (typeof api['SpanKind']?.['CONSUMER'] !== 'number') missing.push('SpanKind.CONSUMER')
  if (typeof api['SpanStatusCode']?.['ERROR'] !== 'number') missing.push('SpanStatusCode.ERROR')
  return missing
}
