import {findJsonProblem} from '../input/json-error.js'
import {readLines} from '../input/line-reader.js'
import {fileVersion, knownSize, openSource, readCapped, sourceName, type InputSource} from '../input/sources.js'
import type {RedisClient} from '../redis/client.js'
import {keyTypeOf} from '../redis/key-type.js'
import {isErrorReply, isWrongType, type RedisErrorContext} from '../redis/redis-errors.js'
import {encodeHeaders, keyOfEnvelope} from '../wire-format.js'
import {resolveTopic} from '../partitions/metadata.js'
import {routerFor} from '../partitions/router.js'
import {addOnce, scheduleOnce, scheduleOne, DEFAULT_PUBLISHER_LIMITS, BatchPublisher, type PartitionProgress, type PublisherLimits, type PublishProgress, type Schedule} from './batch-publisher.js'
import {prepareMessage, prepareValidated, tooLarge, type MessageShape, type Prepared} from './prepare.js'
import {publishEnvelopes} from './publish-envelopes.js'
import {dataError, failureDuring, interrupted} from './publish-errors.js'
import {failedRun, InvalidLines, linesPublished} from './run-end.js'
import {validateInput} from './validate-file.js'

export interface PublishRequest {
  topic: string
  source: InputSource
  /** One message per non-empty line. Defaults to true for `.ndjson`/`.jsonl` files. */
  ndjson?: boolean | undefined
  /** Publish bytes as they are, without JSON validation. */
  raw?: boolean | undefined
  key?: string | undefined
  keyField?: string | undefined
  headers?: Readonly<Record<string, string>> | undefined
  maxPayloadBytes: number
  /** Skip invalid lines (reported) instead of stopping. */
  skipInvalid?: boolean | undefined
  /** Skip the first N lines of an NDJSON input (to resume an interrupted run). */
  skipLines?: number | undefined
  /** Every message to this partition of a partitioned topic (`--partition`). */
  partition?: number | undefined
  /** Publish each message once: one key for all (`--idempotency-key`), or each record's (`--idempotency-key-field`). */
  idempotencyKey?: string | undefined
  idempotencyKeyField?: string | undefined
  /**
   * How long a published idempotency key keeps its message from being stored again (ms; with one of
   * the two above). With `schedule`, checked and counted from when the message is scheduled.
   */
  dedupeWindowMs?: number | undefined
  /** Hold the messages until due (`--delay`: ms from now by Redis's clock; `--at`: a Unix time in ms) instead of appending them now. */
  schedule?: Schedule | undefined
  /** Each line is an envelope (`qctl tail --json`), stored as the entry it describes (`--envelope`). */
  envelope?: boolean | undefined
  /** With `envelope`: store each entry under its own ID (`--keep-ids`). */
  keepIds?: boolean | undefined
  limits?: PublisherLimits | undefined
}

export interface PublishHooks {
  signal?: AbortSignal | undefined
  onProgress?: ((progress: PublishProgress) => void) | undefined
  /** Names the server in connection errors. */
  errorContext?: RedisErrorContext | undefined
}

/** How long a published idempotency key keeps its message from being stored again, by default (`--dedupe-window`). */
export const DEFAULT_DEDUPE_WINDOW_MS = 5 * 60_000

/** The result of `qctl publish` (its `--json` output). */
export interface PublishResult {
  topic: string
  published: number
  firstId: string | null
  lastId: string | null
  /** Invalid lines skipped with `--skip-invalid`. */
  skipped: number
  /** Messages not stored again: their idempotency key was published (or scheduled) to their stream within the dedupe window. */
  deduplicated: number
  /** With --delay / --at: messages held in their stream's schedule (not in `published`), and when the first are due (ISO; absent when none was scheduled). */
  scheduled?: number
  dueAt?: string
  /** The first few skipped line numbers. */
  skippedLines: number[]
  durationMs: number
  /** The entry ID, when exactly one message was published from a single document. */
  id?: string
  /** The partition of that entry, on a partitioned topic. */
  partition?: number
  /**
   * On a partitioned topic, what each partition received (only those that received something);
   * `firstId` and `lastId` above are then null: an ID belongs to its partition's stream.
   */
  partitions?: PartitionProgress[]
}

/** A connected client, or a function that connects on first use (so bad input fails before any connection). */
export type ClientSource = RedisClient | (() => Promise<RedisClient>)

const clientFrom = async (source: ClientSource): Promise<RedisClient> => (typeof source === 'function' ? source() : source)

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])

export const isNdjsonInput = (request: Pick<PublishRequest, 'ndjson' | 'source'>): boolean =>
  request.ndjson ?? (request.source.kind === 'file' && /\.(ndjson|jsonl)$/i.test(request.source.path))

const shapeOf = (request: PublishRequest): MessageShape => ({
  raw: request.raw === true,
  key: request.key,
  keyField: request.keyField,
  headersJson: encodeHeaders(request.headers ?? {}),
  maxPayloadBytes: request.maxPayloadBytes,
  idempotencyKey: request.idempotencyKey,
  idempotencyKeyField: request.idempotencyKeyField,
})

/** 1-based line and column of a 0-based offset in `text`. */
function lineColumn(text: string, offset: number): {line: number; column: number} {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return {line, column: offset - before.lastIndexOf('\n')}
}

const isJsonWhitespace = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09

/** A document without its BOM, and its body without surrounding whitespace. */
function trimDocument(bytes: Buffer): {text: Buffer; body: Buffer; lead: number} {
  const text = bytes.subarray(0, 3).equals(UTF8_BOM) ? bytes.subarray(3) : bytes
  let start = 0
  let end = text.length
  while (start < end && isJsonWhitespace(text[start])) start++
  while (end > start && isJsonWhitespace(text[end - 1])) end--
  // Leading whitespace is ASCII: its byte count is also its character count.
  return {text, body: text.subarray(start, end), lead: start}
}

/** Whether the first two non-empty lines are JSON documents each: a document that fails on line 2 was meant as NDJSON. */
function looksLikeNdjson(text: string): boolean {
  const lines = text.split('\n', 64).filter((line) => line.trim() !== '').slice(0, 2)
  return lines.length === 2 && lines.every((line) => findJsonProblem(line) === undefined)
}

/** One JSON (or raw) document as one message. */
async function publishDocument(clientSource: ClientSource, request: PublishRequest, hooks: PublishHooks, started: number): Promise<PublishResult> {
  const shape = shapeOf(request)
  const name = sourceName(request.source)
  const empty = {published: 0, firstId: undefined, lastId: undefined, lastAckedLine: 0}
  // Room for a BOM and surrounding whitespace; anything larger cannot fit the limit.
  const cap = request.maxPayloadBytes + 64 * 1024
  const size = await knownSize(request.source)
  let bytes: Buffer | undefined
  try {
    bytes = size !== undefined && size > cap ? undefined : await readCapped(request.source, cap, hooks.signal)
  } catch (error) {
    if (hooks.signal?.aborted === true) throw interrupted(empty, false)
    throw error
  }
  if (bytes === undefined) {
    // From stdin, reading stopped past the cap: "more than", not a size the input may not have.
    const problem = size === undefined ? tooLarge(cap, request.maxPayloadBytes, true) : tooLarge(size, request.maxPayloadBytes)
    throw dataError(name, problem as Extract<Prepared, {ok: false}>, empty)
  }

  const {text, body, lead} = shape.raw ? {text: bytes, body: bytes, lead: 0} : trimDocument(bytes)
  const base: PublishResult = {topic: request.topic, published: 0, firstId: null, lastId: null, skipped: 0, skippedLines: [], deduplicated: 0, durationMs: 0}
  if (body.length === 0) return {...base, durationMs: Date.now() - started}

  const prepared = prepareMessage(body, shape)
  if (!prepared.ok) {
    let where = name
    let suggestion: string | undefined
    if (prepared.column !== undefined) {
      const whole = text.toString('utf8')
      const position = lineColumn(whole, lead + prepared.column - 1)
      where = `${name}:${position.line}:${position.column}`
      if (position.line >= 2 && looksLikeNdjson(whole)) suggestion = 'it looks like NDJSON (one JSON document per line): add --ndjson'
    }
    throw dataError(where, prepared, empty, '', suggestion)
  }

  const client = await clientFrom(clientSource)
  const layout = await resolveTopic(client, request.topic)
  const router = routerFor(layout, request.partition)
  // Published once: a keyless message goes where its idempotency key hashes (a rerun finds it there).
  const key = keyOfEnvelope(prepared.fields) ?? (request.dedupeWindowMs === undefined ? undefined : prepared.idempotencyKey)
  const partition = key === undefined ? router.keylessForNextBatch() : router.ofKey(key)
  const stream = layout.streams[partition] as string
  let id: string | undefined
  try {
    if (request.schedule !== undefined) {
      const dueMs =
        request.dedupeWindowMs === undefined
          ? await scheduleOne(client, stream, prepared.fields, request.schedule)
          : await scheduleOnce(client, stream, prepared.fields, request.schedule, prepared.idempotencyKey as string, request.dedupeWindowMs)
      if (dueMs === undefined) return {...base, scheduled: 0, deduplicated: 1, durationMs: Date.now() - started}
      return {...base, scheduled: 1, dueAt: new Date(dueMs).toISOString(), ...(layout.metadata === undefined ? {} : {partition}), durationMs: Date.now() - started}
    }
    id =
      request.dedupeWindowMs === undefined
        ? ((await client.xadd(stream, '*', ...prepared.fields)) as string)
        : await addOnce(client, stream, prepared.fields, prepared.idempotencyKey as string, request.dedupeWindowMs)
  } catch (error) {
    const keyType = isWrongType(error) ? await keyTypeOf(client, stream) : undefined
    // An error reply (WRONGTYPE, NOPERM, OOM) says the entry was not added; without a reply nobody knows.
    const inDoubt = isErrorReply(error) ? 0 : 1
    throw failureDuring(error, {topic: stream, progress: empty, redis: hooks.errorContext, ndjson: false, keyType, inDoubt})
  }
  if (id === undefined) return {...base, deduplicated: 1, durationMs: Date.now() - started}
  if (layout.metadata === undefined) return {...base, published: 1, firstId: id, lastId: id, id, durationMs: Date.now() - started}
  return {...base, published: 1, id, partition, partitions: [{partition, stream, published: 1, firstId: id, lastId: id}], durationMs: Date.now() - started}
}

/** Check every line before publishing any, so a bad file publishes nothing. */
async function validateAll(request: PublishRequest, shape: MessageShape, signal: AbortSignal | undefined): Promise<void> {
  const verdict = await validateInput(request.source, await knownSize(request.source), shape, {skipLines: request.skipLines ?? 0, signal})
  if (verdict.first === undefined) return
  const {line, problem} = verdict.first
  const column = problem.column === undefined ? '' : `:${problem.column}`
  const more = verdict.invalid > 1 ? ` (${verdict.invalid} invalid lines in all; use --skip-invalid to publish the valid ones)` : ''
  throw dataError(`${sourceName(request.source)}:${line}${column}`, problem, {published: 0, firstId: undefined, lastId: undefined, lastAckedLine: 0}, more)
}

/** One message per line, streamed: flat memory whatever the input size. */
async function publishLines(clientSource: ClientSource, request: PublishRequest, hooks: PublishHooks, started: number): Promise<PublishResult> {
  const shape = shapeOf(request)
  const name = sourceName(request.source)
  const skipLines = request.skipLines ?? 0
  const noMessages: PublishProgress = {published: 0, firstId: undefined, lastId: undefined, lastAckedLine: 0}
  let prepare = prepareMessage
  if (request.skipInvalid !== true && request.source.kind !== 'stdin') {
    const validatedVersion = await fileVersion(request.source)
    try {
      await validateAll(request, shape, hooks.signal)
    } catch (error) {
      if (hooks.signal?.aborted === true) throw interrupted(noMessages, true)
      throw error
    }
    // The same bytes need no second JSON parse; a file that changed meanwhile is validated again line by line.
    if (validatedVersion === (await fileVersion(request.source))) prepare = prepareValidated
  }
  // Pipes deliver small chunks at their own pace: send each chunk's messages without waiting for a full batch.
  const streaming = request.source.kind !== 'file'

  const client = await clientFrom(clientSource)
  const layout = await resolveTopic(client, request.topic)
  const target = {streams: layout.streams, router: routerFor(layout, request.partition), dedupeWindowMs: request.dedupeWindowMs, schedule: request.schedule}
  const publisher = new BatchPublisher(client, target, request.limits ?? DEFAULT_PUBLISHER_LIMITS)
  // The lines a resumed run skips are done: a failure before anything new is stored resumes after them again.
  publisher.progress.lastAckedLine = skipLines
  // A failed batch ends a read that waits for input (stdin idle), not only the next send.
  const stopReading = hooks.signal === undefined ? publisher.failedSignal : AbortSignal.any([hooks.signal, publisher.failedSignal])
  const invalid = new InvalidLines(name, request.skipInvalid === true, publisher)
  try {
    for await (const lines of readLines(await openSource(request.source, stopReading), request.maxPayloadBytes)) {
      for (const line of lines) {
        if (line.number <= skipLines) continue
        const prepared = line.tooLongBytes === undefined ? prepare(line.bytes, shape) : tooLarge(line.tooLongBytes, shape.maxPayloadBytes)
        if (prepared.ok) {
          publisher.push(line.number, prepared.fields, {idempotencyKey: prepared.idempotencyKey})
          if (publisher.isFull) await publisher.waitForRoom()
          continue
        }
        await invalid.meet(line.number, prepared)
      }
      if (streaming) publisher.sendQueued()
      hooks.onProgress?.(publisher.progress)
      if (hooks.signal?.aborted === true) throw new Error('aborted')
    }
    await publisher.flush()
  } catch (error) {
    throw await failedRun(error, publisher, {client, topic: request.topic, signal: hooks.signal, errorContext: hooks.errorContext})
  }

  hooks.onProgress?.(publisher.progress)
  return linesPublished(request.topic, layout, publisher, invalid, started)
}

/**
 * Publish from a file, stdin or inline text. Validation happens before sending: a bad document or
 * (for files) any bad NDJSON line publishes nothing. Errors are typed (`QctlError`) and carry
 * how far the run got.
 */
export async function publish(client: ClientSource, request: PublishRequest, hooks: PublishHooks = {}): Promise<PublishResult> {
  const started = Date.now()
  if (request.envelope === true) return publishEnvelopes(client, request, hooks, started)
  return isNdjsonInput(request) ? publishLines(client, request, hooks, started) : publishDocument(client, request, hooks, started)
}
