import {QctlError} from '../errors.js'
import {classifyRedisError, type RedisErrorContext} from '../redis/redis-errors.js'
import type {PublishProgress} from './batch-publisher.js'
import type {Prepared} from './prepare.js'

/** How far a run got, for error messages: what is stored is exact, so a rerun can resume. */
function progressText(progress: PublishProgress, beforeIt: boolean): string {
  if (progress.published === 0) return 'nothing was published'
  const count = `${progress.published} message${progress.published === 1 ? '' : 's'}`
  return `published ${count}${beforeIt ? ' before it' : ''} (through input line ${progress.lastAckedLine})`
}

const progressDetails = (progress: PublishProgress): Record<string, unknown> => ({
  published: progress.published,
  firstId: progress.firstId ?? null,
  lastId: progress.lastId ?? null,
  lastLine: progress.lastAckedLine,
})

const resumeHint = (progress: PublishProgress, ndjson: boolean): string =>
  ndjson && progress.lastAckedLine > 0 ? `; rerun with --skip-lines ${progress.lastAckedLine} to continue` : ''

/** Bad input at `where` (`file:line[:column]`): exit 5, with what was published before it. */
export function dataError(where: string, problem: Extract<Prepared, {ok: false}>, progress: PublishProgress, extra = ''): QctlError {
  return new QctlError(problem.code, `${where}: ${problem.problem}; ${progressText(progress, true)}${extra}`, {details: progressDetails(progress)})
}

export interface RunContext {
  topic: string
  progress: PublishProgress
  redis: RedisErrorContext | undefined
  ndjson: boolean
  /** Messages sent after the acknowledged ones whose reply never came: they may or may not be stored. */
  inDoubt?: number
}

const messages = (count: number): string => `${count} message${count === 1 ? '' : 's'}`

/**
 * How far a run got when it failed. Messages sent without a reply (a timeout, a lost connection)
 * may or may not be stored: nobody can tell, so they are named as in doubt.
 */
function outcomeText(progress: PublishProgress, inDoubt: number, ndjson: boolean): string {
  if (inDoubt === 0) return progressText(progress, false)
  const them = inDoubt === 1 ? 'it' : 'they'
  if (progress.published > 0) return `${progressText(progress, false)}; ${inDoubt} more ${inDoubt === 1 ? 'was' : 'were'} sent without a reply: ${them} may or may not be stored`
  const what = ndjson ? `${messages(inDoubt)} ${inDoubt === 1 ? 'was' : 'were'}` : 'the message was'
  return `nothing was acknowledged; ${what} sent without a reply: ${them} may or may not be stored`
}

/** How to go on; at-least-once: what was in doubt is sent again, so it may be stored twice, never lost. */
function rerunHint(progress: PublishProgress, ndjson: boolean, inDoubt: number): string {
  if (inDoubt === 0) return resumeHint(progress, ndjson)
  const twice = `${inDoubt === 1 ? 'it' : 'they'} may then be stored twice, never lost`
  if (ndjson && progress.lastAckedLine > 0) return `; rerun with --skip-lines ${progress.lastAckedLine} to continue (the ${messages(inDoubt)} in doubt go again: ${twice})`
  return `; rerun the same command to publish ${inDoubt === 1 ? 'it' : 'them'} again (${twice})`
}

const isWrongType = (error: unknown): boolean => error instanceof Error && error.message.startsWith('WRONGTYPE')

/** A Redis failure mid-run, with how far the run got and how to resume it. */
export function failureDuring(error: unknown, {topic, progress, redis, ndjson, inDoubt = 0}: RunContext): unknown {
  if (isWrongType(error)) {
    return new QctlError('USAGE', `topic "${topic}" exists but is not a stream; ${progressText(progress, false)}`, {
      cause: error,
      details: progressDetails(progress),
    })
  }
  const classified = redis === undefined ? undefined : classifyRedisError(error, redis)
  if (classified === undefined) return error
  // Mid-run, "cannot connect" would mislead: the connection was there and went away.
  const message = classified.message.replace(/^cannot connect to /, 'lost connection to ')
  return new QctlError(classified.code, `${message}; ${outcomeText(progress, inDoubt, ndjson)}${rerunHint(progress, ndjson, inDoubt)}`, {
    cause: error,
    details: {...progressDetails(progress), inDoubt},
  })
}

/** Stopped by a signal: exit 130, with how far the run got. */
export function interrupted(progress: PublishProgress, ndjson: boolean): QctlError {
  return new QctlError('INTERRUPTED', `interrupted: ${progressText(progress, false)}${resumeHint(progress, ndjson)}`, {
    details: progressDetails(progress),
  })
}
