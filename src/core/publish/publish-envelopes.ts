import {QctlError} from '../errors.js'
import {readEnvelope, type EnvelopeEntry, type InvalidEnvelope} from '../envelope/read-envelope.js'
import {readLines, type Line} from '../input/line-reader.js'
import {openSource, sourceName} from '../input/sources.js'
import {resolveTopic, type TopicLayout} from '../partitions/metadata.js'
import {routerFor} from '../partitions/router.js'
import type {RedisClient} from '../redis/client.js'
import type {FieldValue} from '../wire-format.js'
import {DEFAULT_PUBLISHER_LIMITS, type PublishProgress} from './batch-publisher.js'
import {EnvelopePublisher} from './envelope-publisher.js'
import {KeptIds} from './kept-ids.js'
import {dataError, interrupted} from './publish-errors.js'
import {failedRun, InvalidLines, linesPublished} from './run-end.js'
import type {ClientSource, PublishHooks, PublishRequest, PublishResult} from './publish.js'


/**
 * The longest envelope line read: a payload of --max-payload bytes written as JSON escapes (up to
 * six characters a byte, `\u0000`) and the rest of the envelope. A longer line is refused unread.
 */
export const envelopeLineLimit = (maxPayloadBytes: number): number => maxPayloadBytes * 6 + 1024 * 1024

const lineTooLong = (bytes: number, maxPayloadBytes: number): InvalidEnvelope => ({
  ok: false,
  code: 'PAYLOAD_TOO_LARGE',
  problem: `an envelope line of ${bytes} bytes is longer than one holding a payload within --max-payload (${maxPayloadBytes} bytes) can be; raise --max-payload`,
})

/** What one envelope line becomes: the XADD arguments `[id, ...fields]` and where they go. */
type Prepared = {ok: true; entry: EnvelopeEntry; args: FieldValue[]; partition: number | undefined} | InvalidEnvelope

/** Reads envelope lines into entries; with --keep-ids, places each (KeptIds keeps state: one per pass). */
function preparer(maxPayloadBytes: number, kept: KeptIds | undefined): (line: Line) => Prepared {
  return (line) => {
    if (line.tooLongBytes !== undefined) return lineTooLong(line.tooLongBytes, maxPayloadBytes)
    const read = readEnvelope(line.bytes, maxPayloadBytes)
    if (!read.ok) return read
    if (kept === undefined) return {ok: true, entry: read.entry, args: ['*', ...read.entry.fields], partition: undefined}
    const placed = kept.place(read.entry)
    if (!placed.ok) return placed
    return {ok: true, entry: read.entry, args: [placed.id, ...read.entry.fields], partition: placed.partition}
  }
}

/** Check every line of a file before publishing any, so a bad file publishes nothing (as publish does). */
async function validateFile(request: PublishRequest, kept: KeptIds | undefined, signal: AbortSignal | undefined): Promise<void> {
  const prepare = preparer(request.maxPayloadBytes, kept)
  const skipLines = request.skipLines ?? 0
  let first: {line: number; problem: InvalidEnvelope} | undefined
  let invalid = 0
  for await (const lines of readLines(await openSource(request.source, signal), envelopeLineLimit(request.maxPayloadBytes))) {
    for (const line of lines) {
      if (line.number <= skipLines) continue
      const prepared = prepare(line)
      if (prepared.ok) continue
      invalid++
      first ??= {line: line.number, problem: prepared}
    }
  }
  if (first === undefined) return
  const column = first.problem.column === undefined ? '' : `:${first.problem.column}`
  const more = invalid > 1 ? ` (${invalid} invalid lines in all; use --skip-invalid to publish the valid ones)` : ''
  throw dataError(`${sourceName(request.source)}:${first.line}${column}`, first.problem, {published: 0, firstId: undefined, lastId: undefined, lastAckedLine: 0}, more)
}

/** Redis refused an explicit ID: it is not above the stream's last one. */
const isIdTooSmall = (error: unknown): boolean => error instanceof Error && /ID specified in XADD is equal or smaller than the target stream top item/.test(error.message)

/**
 * `qctl publish --envelope`: one entry per envelope line (what `qctl tail --json` prints), its
 * fields stored byte for byte, routed by key on a partitioned topic (or kept in its partition, with
 * its ID, under --keep-ids). Files are validated completely first; stdin is published as it streams.
 * Progress, resume (--skip-lines) and failures are reported as for any NDJSON publish.
 */
export async function publishEnvelopes(clientSource: ClientSource, request: PublishRequest, hooks: PublishHooks, started: number): Promise<PublishResult> {
  const name = sourceName(request.source)
  const skipLines = request.skipLines ?? 0
  const keepIds = request.keepIds === true
  const connect = async (): Promise<{client: RedisClient; layout: TopicLayout}> => {
    const client = typeof clientSource === 'function' ? await clientSource() : clientSource
    return {client, layout: await resolveTopic(client, request.topic)}
  }
  // A bad file fails before any connection, unless checking it needs the topic's partitions (--keep-ids).
  const target = keepIds ? await connect() : undefined
  if (request.skipInvalid !== true && request.source.kind !== 'stdin') {
    try {
      await validateFile(request, target === undefined ? undefined : new KeptIds(target.layout), hooks.signal)
    } catch (error) {
      if (hooks.signal?.aborted === true) throw interrupted({published: 0, firstId: undefined, lastId: undefined, lastAckedLine: 0}, true)
      throw error
    }
  }
  const {client, layout} = target ?? (await connect())
  const router = routerFor(layout, request.partition)

  const prepare = preparer(request.maxPayloadBytes, keepIds ? new KeptIds(layout) : undefined)
  const publisher = new EnvelopePublisher(client, {streams: layout.streams, router}, request.limits ?? DEFAULT_PUBLISHER_LIMITS)
  publisher.progress.lastAckedLine = skipLines
  const stopReading = hooks.signal === undefined ? publisher.failedSignal : AbortSignal.any([hooks.signal, publisher.failedSignal])
  // With --keep-ids, each stream's first entry goes alone: if Redis refuses its ID, nothing after it was sent.
  const confirmed = new Set<number>()
  const invalid = new InvalidLines(name, request.skipInvalid === true, publisher)
  try {
    for await (const lines of readLines(await openSource(request.source, stopReading), envelopeLineLimit(request.maxPayloadBytes))) {
      for (const line of lines) {
        if (line.number <= skipLines) continue
        const prepared = prepare(line)
        if (prepared.ok) {
          const partition = prepared.partition
          const probe = partition !== undefined && !confirmed.has(partition)
          if (probe) await publisher.flush()
          publisher.push(line.number, prepared.args, {key: prepared.entry.key, partition})
          if (probe) {
            await publisher.flush()
            confirmed.add(partition)
          } else if (publisher.isFull) await publisher.waitForRoom()
          continue
        }
        await invalid.meet(line.number, prepared)
      }
      if (request.source.kind !== 'file') publisher.sendQueued()
      hooks.onProgress?.(publisher.progress)
      if (hooks.signal?.aborted === true) throw new Error('aborted')
    }
    await publisher.flush()
  } catch (error) {
    const explain = (cause: unknown, stream: string): QctlError | undefined =>
      isIdTooSmall(cause) ? idRefused(`${name}:${publisher.failedLine ?? '?'}`, stream, publisher.progress, cause) : undefined
    throw await failedRun(error, publisher, {client, topic: request.topic, signal: hooks.signal, errorContext: hooks.errorContext, explain})
  }

  hooks.onProgress?.(publisher.progress)
  return linesPublished(request.topic, layout, publisher, invalid, started)
}

/** `--keep-ids` and Redis refused the entry at `where`: its ID is not above what the stream holds (exit 5). */
function idRefused(where: string, stream: string, progress: PublishProgress, cause: unknown): QctlError {
  const problem = `--keep-ids: Redis refused the entry's ID: it is not above the last ID of the stream ${stream} (a stream's IDs increase; restore into a new or empty topic, or publish without --keep-ids to give the entries new IDs)`
  const error = dataError(where, {ok: false, code: 'INVALID_INPUT', problem}, progress)
  return new QctlError(error.code, error.message, {cause, details: {...error.details, stream}})
}
