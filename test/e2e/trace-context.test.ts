import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {SpanKind, SpanStatusCode} from '@opentelemetry/api'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {PublishResult} from '../../src/core/publish/publish.js'
import {jsonOf, PROJECT_ROOT, runCli, type CliResult} from '../helpers/cli.js'
import {ndjson} from '../helpers/streams.js'
import {startTestRedis, type AdminClient, type TestRedis} from '../helpers/test-redis.js'

/**
 * Trace context through the built CLI (README, "Traces"): `qctl publish` stores a W3C traceparent
 * (and tracestate) header from its flags or TRACEPARENT/TRACESTATE; `qctl work` gives handlers
 * `message.traceparent`, and when the handler's project has @opentelemetry/api, a "process" span per
 * handler call, linked to the producer. Handler projects live outside the repository, so nothing
 * resolves @opentelemetry/api through the repo's own node_modules unless a test puts it there.
 */

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`
const OTHER = `00-${'a1'.repeat(16)}-${'b2'.repeat(8)}-00`

let server: TestRedis
let redis: AdminClient
let root: string
let counter = 0

beforeAll(async () => {
  server = await startTestRedis()
  redis = await server.client()
  root = await mkdtemp(join(tmpdir(), 'qctl-trace-'))
})

afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
  await rm(root, {recursive: true, force: true})
})

const topicName = (): string => `trace.t-${++counter}`

/** The `headers` field of every entry of `stream`, parsed (null for an entry without one). */
async function headersOf(stream: string): Promise<Array<Record<string, string> | null>> {
  return (await redis.xrange(stream, '-', '+')).map(([, fields]) => {
    const at = fields.indexOf('headers')
    return at === -1 ? null : (JSON.parse(fields[at + 1] as string) as Record<string, string>)
  })
}

const publish = async (topic: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
  runCli(['publish', topic, ...args, '--json', '-u', server.url], {env})

describe('qctl publish', () => {
  it('stores --traceparent as the traceparent header', async () => {
    const topic = topicName()
    const result = await publish(topic, ['--data', '{"orderId":1}', '--traceparent', TRACEPARENT, '--header', 'source=checkout'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(await headersOf(topic)).toEqual([{source: 'checkout', traceparent: TRACEPARENT}])
  })

  it('takes TRACEPARENT and TRACESTATE for every message of an NDJSON input, the flag over the variable', async () => {
    const topic = topicName()
    const env = {TRACEPARENT, TRACESTATE: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'}
    const result = await runCli(['publish', topic, '--ndjson', '-u', server.url], {input: '{"a":1}\n{"a":2}\n{"a":3}\n', env})
    expect(result.code).toBe(0)
    expect(await headersOf(topic)).toEqual(Array.from({length: 3}, () => ({traceparent: TRACEPARENT, tracestate: env.TRACESTATE})))

    const second = topicName()
    expect((await publish(second, ['--data', '{}', '--traceparent', OTHER], env)).code).toBe(0)
    expect(await headersOf(second)).toEqual([{traceparent: OTHER, tracestate: env.TRACESTATE}])
  })

  it('adds no header without a traceparent (an empty TRACEPARENT is unset; TRACESTATE alone is left alone)', async () => {
    const topic = topicName()
    expect((await publish(topic, ['--data', '{}'], {TRACEPARENT: '', TRACESTATE: 'k=v'})).code).toBe(0)
    expect(await headersOf(topic)).toEqual([null])
  })

  it.each([
    ['an uppercase --traceparent', ['--traceparent', TRACEPARENT.toUpperCase()], {}, /^Error: invalid --traceparent "00-4BF92F.*": a W3C traceparent is 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>/],
    ['a --traceparent with a zero trace id', ['--traceparent', `00-${'0'.repeat(32)}-${PARENT_ID}-01`], {}, /^Error: invalid --traceparent/],
    ['a bad TRACEPARENT', [], {TRACEPARENT: 'not-a-traceparent'}, /^Error: invalid TRACEPARENT "not-a-traceparent"/],
    ['a bad --header traceparent', ['--header', 'traceparent=00-1-2-3'], {}, /^Error: invalid --header traceparent "00-1-2-3"/],
    ['a bad --tracestate', ['--traceparent', TRACEPARENT, '--tracestate', 'Bad=1'], {}, /^Error: invalid --tracestate "Bad=1": "Bad=1" is not a key=value member/],
    ['--tracestate without a traceparent', ['--tracestate', 'k=v'], {}, /^Error: --tracestate needs a traceparent/],
    ['both --traceparent and --header traceparent', ['--traceparent', TRACEPARENT, '--header', `traceparent=${TRACEPARENT}`], {}, /^Error: give either --traceparent or --header traceparent=…, not both/],
  ])('refuses %s with exit 2, one line, nothing stored', async (_name, args, env, message) => {
    const topic = topicName()
    const result = await runCli(['publish', topic, '--data', '{}', ...args, '-u', server.url], {env})
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(message)
    expect(await redis.exists(topic)).toBe(0)
  })

  it('keeps an envelope\'s own traceparent with --envelope, and adds none from TRACEPARENT', async () => {
    const topic = topicName()
    const envelopes = [
      {data: '{"a":1}', headers: {traceparent: OTHER}},
      {data: '{"a":2}', headers: {}},
    ].map((envelope) => JSON.stringify(envelope))
    const result = await runCli(['publish', topic, '--envelope', '-', '-u', server.url], {input: `${envelopes.join('\n')}\n`, env: {TRACEPARENT}})
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(await headersOf(topic)).toEqual([{traceparent: OTHER}, null])
  })

  it('refuses --traceparent with --envelope (exit 2)', async () => {
    const result = await runCli(['publish', topicName(), '--envelope', '-', '--traceparent', TRACEPARENT, '-u', server.url], {input: '{"data":"{}"}\n'})
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--traceparent')
  })
})

/** A fresh handler project outside the repository: these files, and @opentelemetry/api when asked. */
async function project(files: Record<string, string>, options: {otel?: 'real' | 'broken'} = {}): Promise<string> {
  const dir = join(root, `project-${++counter}`)
  await mkdir(dir)
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  if (options.otel !== undefined) await mkdir(join(dir, 'node_modules', '@opentelemetry'), {recursive: true})
  if (options.otel === 'real') await symlink(join(PROJECT_ROOT, 'node_modules', '@opentelemetry', 'api'), join(dir, 'node_modules', '@opentelemetry', 'api'))
  if (options.otel === 'broken') {
    const fake = join(dir, 'node_modules', '@opentelemetry', 'api')
    await mkdir(fake)
    await writeFile(join(fake, 'package.json'), JSON.stringify({name: '@opentelemetry/api', version: '1.0.0', main: 'index.js'}))
    await writeFile(join(fake, 'index.js'), 'module.exports = {}\n')
  }
  return dir
}

/**
 * What every handler below writes for each call: the message's traceparent, and whether any copy of
 * @opentelemetry/api was loaded into the process by then (in CommonJS's module cache, where qctl's
 * createRequire puts it), so "no OpenTelemetry" means qctl loaded none, not just made no span.
 */
const RECORDING = `import {appendFileSync} from 'node:fs'
import {createRequire} from 'node:module'

const cache = createRequire(import.meta.url).cache
const record = (message) => appendFileSync(process.env.RECORDS_FILE, JSON.stringify({
  id: message.id,
  traceparent: message.traceparent ?? null,
  otelLoaded: Object.keys(cache).some((path) => path.includes('@opentelemetry')),
}) + '\\n')
`

/**
 * A tracer provider in a dozen lines, registered at the handler module's top level as an application
 * registers its SDK: each ended span is written to SPANS_FILE as a JSON line; context follows async
 * calls through AsyncLocalStorage, so a span the handler starts is a child of the span active then.
 */
const TRACER = `import {AsyncLocalStorage} from 'node:async_hooks'
import {randomBytes} from 'node:crypto'
import {appendFileSync} from 'node:fs'
import * as api from '@opentelemetry/api'

const hex = (bytes) => randomBytes(bytes).toString('hex')
class RecordingSpan {
  constructor(name, options, parent) {
    this.record = {
      name, kind: options.kind ?? api.SpanKind.INTERNAL, traceId: parent?.traceId ?? hex(16), spanId: hex(8), parentSpanId: parent?.spanId ?? null,
      attributes: {...options.attributes},
      links: (options.links ?? []).map(({context}) => ({traceId: context.traceId, spanId: context.spanId, traceFlags: context.traceFlags, isRemote: context.isRemote ?? false, traceState: context.traceState?.serialize() ?? null})),
      events: [], status: {code: api.SpanStatusCode.UNSET},
    }
  }
  spanContext() { return {traceId: this.record.traceId, spanId: this.record.spanId, traceFlags: 1} }
  setAttribute(key, value) { this.record.attributes[key] = value; return this }
  setAttributes(attributes) { Object.assign(this.record.attributes, attributes); return this }
  addEvent(name, attributes) { this.record.events.push({name, attributes: attributes ?? {}}); return this }
  addLink() { return this }
  addLinks() { return this }
  setStatus(status) { this.record.status = status; return this }
  updateName(name) { this.record.name = name; return this }
  isRecording() { return true }
  recordException(error) { return this.addEvent('exception', {'exception.type': error.name ?? 'string', 'exception.message': error.message ?? String(error)}) }
  end() { appendFileSync(process.env.SPANS_FILE, JSON.stringify(this.record) + '\\n') }
}
const tracer = {
  startSpan(name, options = {}, context = api.context.active()) {
    return new RecordingSpan(name, options, options.root ? undefined : api.trace.getSpanContext(context))
  },
}
// forceFlush: an SDK provider's, which qctl calls before the worker exits (a batching exporter's spans).
api.trace.setGlobalTracerProvider({getTracer: () => tracer, forceFlush: async () => appendFileSync(process.env.SPANS_FILE, JSON.stringify({flushed: true}) + '\\n')})
const storage = new AsyncLocalStorage()
api.context.setGlobalContextManager({
  active: () => storage.getStore() ?? api.ROOT_CONTEXT,
  with: (context, fn, thisArg, ...args) => storage.run(context, () => fn.call(thisArg, ...args)),
  bind: (_context, target) => target,
  enable() { return this },
  disable() { return this },
})
export {api}
`

/** Records each call; a message with `fail` fails for good (dead-lettered at once); each call starts a child span first. */
const TRACED_HANDLER = `${RECORDING}
import {api} from './tracer.mjs'

export default async function handle(message) {
  api.trace.getTracer('orders').startSpan('charge card').end()
  record(message)
  if (message.data.fail) throw Object.assign(new Error('card declined'), {name: 'PermanentError'})
  if (message.data.hang) await new Promise(() => {})
}
`

const PLAIN_HANDLER = `${RECORDING}
export default async function handle(message) {
  record(message)
}
`

interface Span {
  name: string
  kind: number
  traceId: string
  spanId: string
  parentSpanId: string | null
  attributes: Record<string, unknown>
  links: Array<{traceId: string; spanId: string; traceFlags: number; isRemote: boolean; traceState: string | null}>
  events: Array<{name: string; attributes: Record<string, unknown>}>
  status: {code: number; message?: string}
}

interface Recorded {
  id: string
  traceparent: string | null
  otelLoaded: boolean
}

const readLines = async <T>(path: string): Promise<T[]> => ndjson<T>(await readFile(path, 'utf8').catch(() => ''))

/** Publish one message with these flags; returns its entry ID. */
async function publishOne(topic: string, data: object, args: string[] = []): Promise<string> {
  const result = await publish(topic, ['--data', JSON.stringify(data), ...args])
  expect(result.code).toBe(0)
  return jsonOf<PublishResult>(result).id as string
}

/** `qctl work HANDLER --until-empty` in `dir`, recording to files in it. */
async function work(dir: string, topic: string, extra: string[] = []): Promise<CliResult> {
  const env = {RECORDS_FILE: join(dir, 'records.ndjson'), SPANS_FILE: join(dir, 'spans.ndjson')}
  return runCli(['work', 'handler.mjs', '--topic', topic, '--group', 'billing', '--consumer', 'worker-1', '--until-empty', ...extra, '-u', server.url], {cwd: dir, env})
}

describe('qctl work', () => {
  it('gives the handler message.traceparent, and without @opentelemetry/api in its project loads none and makes no span', async () => {
    const dir = await project({'handler.mjs': PLAIN_HANDLER})
    const topic = topicName()
    const traced = await publishOne(topic, {n: 1}, ['--traceparent', TRACEPARENT])
    const plain = await publishOne(topic, {n: 2})
    await redis.xadd(topic, '*', 'data', '{}', 'headers', JSON.stringify({traceparent: 'garbage'}))
    const result = await work(dir, topic, ['--json'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(ndjson<{event: string}>(result.stdout).filter((event) => event.event === 'warning')).toEqual([])
    const records = await readLines<Recorded>(join(dir, 'records.ndjson'))
    expect(records.map(({id, traceparent}) => ({id, traceparent}))).toEqual([
      {id: traced, traceparent: TRACEPARENT},
      {id: plain, traceparent: null},
      {id: expect.any(String), traceparent: null},
    ])
    expect(records.map((record) => record.otelLoaded)).toEqual([false, false, false])
  })

  it('with @opentelemetry/api in the handler\'s project: a CONSUMER span "process <topic>" per call, linked to the producer, the handler\'s spans its children', async () => {
    const dir = await project({'handler.mjs': TRACED_HANDLER, 'tracer.mjs': TRACER}, {otel: 'real'})
    const topic = topicName()
    const traced = await publishOne(topic, {n: 1}, ['--traceparent', TRACEPARENT, '--tracestate', 'congo=t61rcWkgMzE', '--key', 'customer-7'])
    const plain = await publishOne(topic, {n: 2})
    const result = await work(dir, topic)
    expect(result.stderr).not.toContain('warning')
    expect(result.code).toBe(0)

    const records = await readLines<Recorded>(join(dir, 'records.ndjson'))
    expect(records.map((record) => record.otelLoaded)).toEqual([true, true])
    const lines = await readLines<Span | {flushed: true}>(join(dir, 'spans.ndjson'))
    // The provider was flushed once, after the last span ended.
    expect(lines.map((line) => 'flushed' in line)).toEqual([...Array.from({length: lines.length - 1}, () => false), true])
    const spans = lines.filter((line): line is Span => !('flushed' in line))
    const processSpans = spans.filter((span) => span.name === `process ${topic}`)
    expect(processSpans).toHaveLength(2)
    const [first, second] = processSpans as [Span, Span]

    expect(first).toMatchObject({kind: SpanKind.CONSUMER, parentSpanId: null, status: {code: SpanStatusCode.UNSET}, events: []})
    expect(first.attributes).toEqual({
      'messaging.system': 'redis',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': topic,
      'messaging.consumer.group.name': 'billing',
      'messaging.client.id': 'worker-1',
      'messaging.message.id': traced,
      'messaging.redis.stream.key': topic,
      'messaging.redis.message.delivery_count': 1,
      'messaging.redis.message.key': 'customer-7',
    })
    // A new trace, linked to the producer's (the conventions' default), not a child of it.
    expect(first.links).toEqual([{traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 1, isRemote: true, traceState: 'congo=t61rcWkgMzE'}])
    expect(first.traceId).not.toBe(TRACE_ID)
    expect(second.attributes['messaging.message.id']).toBe(plain)
    expect(second.links).toEqual([])

    // The handler ran in its span's context: the span it started is the process span's child.
    const children = spans.filter((span) => span.name === 'charge card')
    expect(children.map((child) => [child.traceId, child.parentSpanId])).toEqual(processSpans.map((span) => [span.traceId, span.spanId]))
  })

  it('records a failure on the span: the exception, error.type and an error status', async () => {
    const dir = await project({'handler.mjs': TRACED_HANDLER, 'tracer.mjs': TRACER}, {otel: 'real'})
    const topic = topicName()
    const id = await publishOne(topic, {fail: true}, ['--traceparent', TRACEPARENT])
    const result = await work(dir, topic, ['--json'])
    expect(result.code).toBe(0)
    expect(ndjson<{event: string}>(result.stdout).find((event) => event.event === 'summary')).toMatchObject({deadLettered: 1})
    const [span] = (await readLines<Span>(join(dir, 'spans.ndjson'))).filter((each) => each.name === `process ${topic}`)
    expect(span?.attributes).toMatchObject({'messaging.message.id': id, 'error.type': 'PermanentError'})
    expect(span?.status).toEqual({code: SpanStatusCode.ERROR, message: 'card declined'})
    expect(span?.events).toEqual([{name: 'exception', attributes: {'exception.type': 'PermanentError', 'exception.message': 'card declined'}}])
    expect(span?.links.map((link) => link.traceId)).toEqual([TRACE_ID])
  })

  it('records --handler-timeout as a HandlerTimeout failure', async () => {
    const dir = await project({'handler.mjs': TRACED_HANDLER, 'tracer.mjs': TRACER}, {otel: 'real'})
    const topic = topicName()
    const id = await publishOne(topic, {hang: true})
    const result = await work(dir, topic, ['--handler-timeout', '200ms', '--max-attempts', '1', '--json'])
    expect(result.code).toBe(0)
    expect(ndjson<{event: string}>(result.stdout).find((event) => event.event === 'summary')).toMatchObject({deadLettered: 1})
    const [span] = (await readLines<Span>(join(dir, 'spans.ndjson'))).filter((each) => each.name === `process ${topic}`)
    expect(span?.attributes).toMatchObject({'messaging.message.id': id, 'error.type': 'HandlerTimeout'})
    expect(span?.status).toEqual({code: SpanStatusCode.ERROR, message: 'handler timed out after 200ms'})
    expect(span?.links).toEqual([])
  })

  it('handles every message when the tracer throws, and says so once', async () => {
    const throwing = `import * as api from '@opentelemetry/api'
api.trace.setGlobalTracerProvider({getTracer: () => ({startSpan() { throw new Error('span limit reached') }})})
${PLAIN_HANDLER}`
    const dir = await project({'handler.mjs': throwing}, {otel: 'real'})
    const topic = topicName()
    for (const n of [1, 2, 3]) await publishOne(topic, {n}, ['--traceparent', TRACEPARENT])
    const result = await work(dir, topic, ['--json'])
    expect(result.code).toBe(0)
    const events = ndjson<{event: string; message?: string}>(result.stdout)
    expect(events.filter((event) => event.event === 'warning').map((event) => event.message)).toEqual([
      'tracing failed (span limit reached); messages are handled all the same, some without spans',
    ])
    expect(events.find((event) => event.event === 'summary')).toMatchObject({processed: 3, retried: 0, deadLettered: 0})
    expect(await readLines<Recorded>(join(dir, 'records.ndjson'))).toHaveLength(3)
  })

  it('warns, and handles messages without spans, when the @opentelemetry/api it finds cannot be used', async () => {
    const dir = await project({'handler.mjs': PLAIN_HANDLER}, {otel: 'broken'})
    const topic = topicName()
    await publishOne(topic, {n: 1}, ['--traceparent', TRACEPARENT])
    const result = await work(dir, topic)
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/warning: @opentelemetry\/api at .*index\.js cannot be used \(it lacks trace\.getTracer, trace\.setSpan, context\.with, ROOT_CONTEXT, SpanKind\.CONSUMER, SpanStatusCode\.ERROR \(qctl needs @opentelemetry\/api 1\.x\)\): handlers run without spans/)
    expect(await readLines<Recorded>(join(dir, 'records.ndjson'))).toEqual([{id: expect.any(String), traceparent: TRACEPARENT, otelLoaded: true}])
  })
})
