import {internalError, QctlError} from '../errors.js'
import {topicNotAStream} from '../redis/key-type.js'
import {classifyRedisError, isCommandTimeout, isConnectionFailure, isWrongType, type RedisErrorContext} from '../redis/redis-errors.js'
import type {PublishProgress, StoredAfterFailure} from './batch-publisher.js'
import type {Prepared} from './prepare.js'

const messages = (count: number): string => `${count} message${count === 1 ? '' : 's'}`

/** How far a run got, for error messages: what is stored is exact, so a rerun can resume. */
function progressText(progress: PublishProgress, beforeIt: boolean): string {
  if (progress.published === 0) return 'nothing was published'
  return `published ${messages(progress.published)}${beforeIt ? ' before it' : ''} (through input line ${progress.lastAckedLine})`
}

/** The flag that continues an NDJSON run after what is stored; null when rerunning from the start is the way. */
const resumeFlag = (progress: PublishProgress, ndjson: boolean): string | null =>
  ndjson && progress.lastAckedLine > 0 ? `--skip-lines ${progress.lastAckedLine}` : null

const progressDetails = (progress: PublishProgress, ndjson: boolean): Record<string, unknown> => ({
  published: progress.published,
  firstId: progress.firstId ?? null,
  lastId: progress.lastId ?? null,
  lastLine: progress.lastAckedLine,
  resume: resumeFlag(progress, ndjson),
})

const resumeHint = (progress: PublishProgress, ndjson: boolean): string => {
  const flag = resumeFlag(progress, ndjson)
  return flag === null ? '' : `; rerun with ${flag} to continue`
}

/** Bad input at `where` (`file:line[:column]`): exit 5, with what was published before it. */
export function dataError(where: string, problem: Extract<Prepared, {ok: false}>, progress: PublishProgress, extra = '', suggestion?: string): QctlError {
  return new QctlError(problem.code, `${where}: ${problem.problem}; ${progressText(progress, true)}${extra}`, {details: progressDetails(progress, true), suggestion})
}

export interface RunContext {
  topic: string
  progress: PublishProgress
  redis: RedisErrorContext | undefined
  ndjson: boolean
  /** What the topic key holds, when Redis said WRONGTYPE (read with TYPE). */
  keyType?: string | undefined
  /** Entries stored by batches answered after the one that failed (see BatchPublisher). */
  storedAfterFailure?: StoredAfterFailure | undefined
  /**
   * Messages sent whose reply never came (a timeout, a lost connection): they may or may not be
   * stored, nobody can tell (see BatchPublisher.inDoubt). 0 when every message sent was answered.
   */
  inDoubt?: number | undefined
}

/**
 * What is stored: the exact count of acknowledged messages, then what nobody can know (messages
 * sent without a reply) or, when every reply came, that nothing more was written.
 */
function storedText(error: unknown, {progress, ndjson, inDoubt = 0}: RunContext): string {
  const them = inDoubt === 1 ? 'it' : 'they'
  const maybe = `sent without a reply: ${them} may or may not be stored`
  if (inDoubt > 0 && progress.published === 0) {
    return `nothing was acknowledged; ${ndjson ? `${messages(inDoubt)} ${inDoubt === 1 ? 'was' : 'were'}` : 'the message was'} ${maybe}`
  }
  const stored = progressText(progress, false)
  if (inDoubt > 0) return `${stored}; ${inDoubt} more ${inDoubt === 1 ? 'was' : 'were'} ${maybe}`
  // Redis answered the failed batch and every one sent: the count is exact and nothing past it
  // was written. A reply lost with the connection, or that never came, leaves that unknown.
  const answered = !isConnectionFailure(error) && !isCommandTimeout(error)
  return answered && progress.published > 0 ? `${stored}; nothing more was written` : stored
}

/** How to go on. At-least-once: what is in doubt goes again, so it may be stored twice, never lost. */
function rerunText({progress, ndjson, inDoubt = 0}: RunContext): string {
  if (inDoubt === 0) return resumeHint(progress, ndjson)
  const flag = resumeFlag(progress, ndjson)
  const twice = `${inDoubt === 1 ? 'it' : 'they'} may then be stored twice, never lost`
  if (flag !== null) return `; rerun with ${flag} to continue (the ${messages(inDoubt)} in doubt ${inDoubt === 1 ? 'goes' : 'go'} again: ${twice})`
  return `; rerun the same command to publish ${inDoubt === 1 ? 'it' : 'them'} again (${twice})`
}

/**
 * Any failure mid-run, whatever its cause (Redis refusing writes, no reply in time, the connection
 * lost, a stream at its last ID, a bug), in one line: the typed error of the one classification
 * (src/core/redis/redis-errors.ts), then exactly how much is stored, how much is in doubt, and how
 * to resume.
 */
export function failureDuring(error: unknown, context: RunContext): QctlError {
  const {topic, progress, redis, ndjson} = context
  let stored = storedText(error, context)
  const later = context.storedAfterFailure
  if (later !== undefined) {
    stored += `; besides, ${messages(later.count)} from input lines ${later.firstLine}-${later.lastLine} were stored after the failure (a rerun sends them again)`
  }
  const tail = `; ${stored}${rerunText(context)}`
  const details = {
    ...progressDetails(progress, ndjson),
    inDoubt: context.inDoubt ?? 0,
    ...(later === undefined ? {} : {storedAfterFailure: later}),
  }

  if (isWrongType(error)) {
    const typed = topicNotAStream(topic, context.keyType)
    return new QctlError('USAGE', `${typed.message}${tail}`, {cause: error, details: {...typed.details, ...details}})
  }
  const classified = redis === undefined ? undefined : classifyRedisError(error, redis, {key: topic})
  if (classified === undefined) {
    const internal = internalError(error, tail)
    return new QctlError(internal.code, internal.message, {cause: error, details})
  }
  // Mid-run, "cannot connect" would mislead: the connection was there and went away.
  const message = classified.message.replace(/^cannot connect to /, 'lost connection to ')
  return new QctlError(classified.code, `${message}${tail}`, {cause: error, suggestion: classified.suggestion, details: {...classified.details, ...details}})
}

/** Stopped by a signal: exit 130, with how far the run got. */
export function interrupted(progress: PublishProgress, ndjson: boolean): QctlError {
  return new QctlError('INTERRUPTED', `interrupted: ${progressText(progress, false)}${resumeHint(progress, ndjson)}`, {
    details: progressDetails(progress, ndjson),
  })
}
