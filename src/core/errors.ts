/**
 * Typed errors with stable exit codes. Core code throws these; the base command maps
 * them to one line on stderr (or a JSON error object) and the process exit code.
 * The table is the contract documented in the README: never renumber a code.
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  unavailable: 3,
  denied: 4,
  data: 5,
  notFound: 6,
  handlerLoad: 7,
  gateFailed: 8,
  conflict: 9,
  interrupted: 130,
} as const

export type ExitCodeName = keyof typeof ExitCode
export type ExitCodeValue = (typeof ExitCode)[ExitCodeName]

/** Machine-readable error codes that appear in `--json` error objects. */
export type ErrorCode =
  | 'INTERNAL'
  | 'USAGE'
  | 'REDIS_UNAVAILABLE'
  | 'AUTH_FAILED'
  | 'NO_PERMISSION'
  | 'INVALID_INPUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_FOUND'
  | 'STREAM_EXHAUSTED'
  | 'BAD_METADATA'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'HANDLER_LOAD_FAILED'
  | 'GATE_FAILED'
  | 'INTERRUPTED'

const exitCodeOf: Record<ErrorCode, ExitCodeValue> = {
  INTERNAL: ExitCode.internal,
  USAGE: ExitCode.usage,
  REDIS_UNAVAILABLE: ExitCode.unavailable,
  AUTH_FAILED: ExitCode.denied,
  NO_PERMISSION: ExitCode.denied,
  INVALID_INPUT: ExitCode.data,
  PAYLOAD_TOO_LARGE: ExitCode.data,
  NOT_FOUND: ExitCode.notFound,
  // The stream in Redis can take no more entries: a data problem, and retrying will not help.
  STREAM_EXHAUSTED: ExitCode.data,
  // A partitioned topic's metadata that qctl did not write (or a newer qctl did): the data in Redis, not the input.
  BAD_METADATA: ExitCode.data,
  // `topic create` of a topic that exists: a conflict scripts can tell from other failures.
  ALREADY_EXISTS: ExitCode.conflict,
  // A change refused because someone else changed the same thing first (`topic alter` racing another).
  CONFLICT: ExitCode.conflict,
  HANDLER_LOAD_FAILED: ExitCode.handlerLoad,
  GATE_FAILED: ExitCode.gateFailed,
  INTERRUPTED: ExitCode.interrupted,
}

export interface QctlErrorOptions {
  /** A hint printed under the message for people ("try --yes"). */
  suggestion?: string
  /** Extra structured facts for `--json` (counts, line numbers). Never secrets. */
  details?: Record<string, unknown>
  cause?: unknown
}

export class QctlError extends Error {
  readonly code: ErrorCode
  readonly exitCode: ExitCodeValue
  readonly suggestion: string | undefined
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, options: QctlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'QctlError'
    this.code = code
    this.exitCode = exitCodeOf[code]
    this.suggestion = options.suggestion
    this.details = options.details
  }
}

export const usageError = (message: string, options?: QctlErrorOptions): QctlError =>
  new QctlError('USAGE', message, options)

export const notFoundError = (message: string, options?: QctlErrorOptions): QctlError =>
  new QctlError('NOT_FOUND', message, options)

export const inputError = (message: string, options?: QctlErrorOptions): QctlError =>
  new QctlError('INVALID_INPUT', message, options)

export const isQctlError = (error: unknown): error is QctlError => error instanceof QctlError

/** The sentence every internal error ends with. */
export const REPORT_BUG = 'This is a bug in qctl: please report it (run with DEBUG=qctl for details).'

/**
 * An error qctl did not expect (exit 1): a bug. `progress` (e.g. how much was published) goes
 * before the request to report it.
 */
export function internalError(error: unknown, progress = ''): QctlError {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\.+$/, '')
  return new QctlError('INTERNAL', `internal error: ${message}${progress}. ${REPORT_BUG}`, {cause: error})
}

/** Named topics that do not exist (exit 6): one line naming them. */
export function missingTopicsError(topics: readonly string[]): QctlError {
  const names = topics.map((topic) => `"${topic}"`).join(', ')
  return new QctlError('NOT_FOUND', topics.length === 1 ? `topic ${names} does not exist (no stream at that key)` : `topics ${names} do not exist (no streams at those keys)`, {
    details: {missing: [...topics]},
  })
}
