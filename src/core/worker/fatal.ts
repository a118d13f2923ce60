import {QctlError} from '../errors.js'
import {isPermissionDenied} from '../redis/redis-errors.js'

/** Errors that retrying cannot fix: stop the worker. Anything else (a lost connection, a timeout) is retried. */
export const isFatal = (error: unknown): boolean =>
  error instanceof QctlError || isPermissionDenied(error) || (error instanceof Error && /^(NOGROUP|WRONGTYPE|NOSCRIPT)/.test(error.message))

/** The group or its stream no longer exists. */
export const isNoGroup = (error: unknown): boolean => error instanceof Error && /^NOGROUP|^ERR no such key/.test(error.message)
