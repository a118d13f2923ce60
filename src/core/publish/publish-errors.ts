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
}

const isWrongType = (error: unknown): boolean => error instanceof Error && error.message.startsWith('WRONGTYPE')

/** A Redis failure mid-run, with how far the run got and how to resume it. */
export function failureDuring(error: unknown, {topic, progress, redis, ndjson}: RunContext): unknown {
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
  return new QctlError(classified.code, `${message}; ${progressText(progress, false)}${resumeHint(progress, ndjson)}`, {
    cause: error,
    details: progressDetails(progress),
  })
}

/** Stopped by a signal: exit 130, with how far the run got. */
export function interrupted(progress: PublishProgress, ndjson: boolean): QctlError {
  return new QctlError('INTERRUPTED', `interrupted: ${progressText(progress, false)}${resumeHint(progress, ndjson)}`, {
    details: progressDetails(progress),
  })
}
