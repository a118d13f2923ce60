/**
 * What a Redis error reply (or an ioredis failure) means, by kind: the one classification every
 * command and the worker use (src/core/redis/redis-errors.ts turns a kind into a typed QctlError).
 * Pure predicates on the error object, no I/O.
 */

interface ErrorLike {
  name?: unknown
  message?: unknown
  code?: unknown
  command?: {name?: unknown; args?: unknown}
}

export const asErrorLike = (error: unknown): ErrorLike => (typeof error === 'object' && error !== null ? error : {})

/** The first line of an error's message ('' when it has none). */
export function firstLineOf(error: unknown): string {
  const message = asErrorLike(error).message
  return typeof message === 'string' ? (message.split('\n', 1)[0] ?? '') : ''
}

/**
 * - `unavailable`: Redis cannot be reached or refuses the command for now (out of memory, a
 *   read-only replica, too few replicas, loading, busy, cluster down, persistence failing), or
 *   the connection failed or was lost. Exit 3.
 * - `timeout`: no reply within the client's command timeout (ioredis "Command timed out"). Exit 3.
 * - `denied`: the ACL user may not run this (NOPERM, a refusal inside a script), or
 *   authentication failed (WRONGPASS, NOAUTH). Exit 4.
 * - `wrong-type`: a key holds another type than the command needs (WRONGTYPE). Exit 2.
 * - `no-group`: the stream or its consumer group does not exist (NOGROUP). Exit 6.
 * - `not-found`: the key does not exist ("ERR no such key", XGROUP on a missing stream). Exit 6.
 * - `stream-exhausted`: the stream's last ID is the largest possible one, so nothing can be added
 *   to it. Exit 5.
 */
export type ReplyKind = 'unavailable' | 'timeout' | 'denied' | 'wrong-type' | 'no-group' | 'not-found' | 'stream-exhausted'

/** Conditions in which Redis refuses a command for now, by the first word of its reply. */
export type RefusalCondition = 'OOM' | 'READONLY' | 'NOREPLICAS' | 'MASTERDOWN' | 'LOADING' | 'BUSY' | 'CLUSTERDOWN' | 'TRYAGAIN' | 'MISCONF'

const REFUSALS: ReadonlySet<string> = new Set<RefusalCondition>(['OOM', 'READONLY', 'NOREPLICAS', 'MASTERDOWN', 'LOADING', 'BUSY', 'CLUSTERDOWN', 'TRYAGAIN', 'MISCONF'])

/** The refusal a reply names (`OOM command not allowed …` is OOM), if it is one. */
export function refusalOf(error: unknown): RefusalCondition | undefined {
  const word = /^[A-Z]+/.exec(firstLineOf(error))?.[0]
  return word !== undefined && REFUSALS.has(word) ? (word as RefusalCondition) : undefined
}

/**
 * A command refused inside a Lua script. Redis does not say NOPERM there: 7.0 replies "ERR The
 * user executing the script can't run this command or subcommand" (or "can't access at least
 * one of the keys"), 7.2 and Valkey "ERR ACL failure in script: this user has no permissions
 * to run the 'x' command".
 */
export const SCRIPT_DENIED = /^ERR (The user executing the script can't|ACL failure in script)/

/** Whether a Redis reply error means the ACL user may not do this (NOPERM, or a refusal inside a script). */
export function isPermissionDenied(error: unknown): boolean {
  const message = asErrorLike(error).message
  return typeof message === 'string' && (message.startsWith('NOPERM') || SCRIPT_DENIED.test(message))
}

/**
 * Redis answered (an error reply): the command was refused or failed there, so its outcome is
 * known. Anything else (a timeout, a lost connection) may have run or not: nobody can tell.
 */
export const isErrorReply = (error: unknown): boolean => asErrorLike(error).name === 'ReplyError'

/**
 * A blocking read that Redis Cluster ended because the stream's slot moved to another node
 * (`UNBLOCKED the stream key no longer exists`, 7.0: the key left with the migration) or its node
 * turned replica (`UNBLOCKED force unblock from blocking operation, instance state changed`, a
 * failover). Both are transient: read again from the new owner (Redis 7.2+ answers MOVED instead,
 * which ioredis follows by itself). On one server the first also means the stream was deleted: the
 * next read then says NOGROUP.
 */
export const isUnblockedByCluster = (error: unknown): boolean => /^UNBLOCKED (the stream key no longer exists|force unblock from blocking operation)/.test(firstLineOf(error))

/** WRONGPASS or NOAUTH: the credentials, not the command. */
export const isAuthFailure = (error: unknown): boolean => /^(WRONGPASS|NOAUTH)/.test(firstLineOf(error))

/** ioredis rejects a command with this when `commandTimeout` passes without a reply. */
export const COMMAND_TIMED_OUT = 'Command timed out'

/** ioredis gave up waiting for a reply (`commandTimeout`). */
export const isCommandTimeout = (error: unknown): boolean => firstLineOf(error) === COMMAND_TIMED_OUT

export const isWrongType = (error: unknown): boolean => firstLineOf(error).startsWith('WRONGTYPE')

export const isNoGroup = (error: unknown): boolean => firstLineOf(error).startsWith('NOGROUP')

/** "ERR no such key" (XINFO, XSETID on a missing stream), or XGROUP on a stream that does not exist. */
export const isNoSuchKey = (error: unknown): boolean => /^ERR (no such key|The XGROUP subcommand requires the key to exist)/i.test(firstLineOf(error))

/**
 * The stream's last ID is 18446744073709551615-18446744073709551615: `XADD *` cannot make a larger
 * one. Redis 7 says "exhausted"; older servers said "equal or smaller than the target stream top
 * item" (qctl never gives XADD an explicit ID, so for qctl that reply means the same).
 */
export const isStreamExhausted = (error: unknown): boolean =>
  /^ERR The (stream has exhausted the last possible ID|ID specified in XADD is equal or smaller than the target stream top item)/.test(firstLineOf(error))

/** Socket error codes, with what they mean for people. */
export const NETWORK_CAUSES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host not found (DNS lookup failed)',
  EAI_AGAIN: 'host not found (DNS lookup failed temporarily)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed by the server',
}

export const TLS_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
])

/** A TLS handshake or certificate failure. */
export function isTlsFailure(error: unknown): boolean {
  const code = asErrorLike(error).code
  const text = typeof code === 'string' ? code : ''
  if (TLS_CODES.has(text) || text.startsWith('ERR_SSL_') || text.startsWith('ERR_TLS_')) return true
  // By its message only when it is not a reply from Redis (a reply may quote a key named "tls-…").
  return asErrorLike(error).name !== 'ReplyError' && /certificate|ssl|tls/i.test(firstLineOf(error))
}

/** The connection could not be made or was lost (socket errors, a closed connection, ioredis giving up on it). */
export function isConnectionFailure(error: unknown): boolean {
  const like = asErrorLike(error)
  if (typeof like.code === 'string' && NETWORK_CAUSES[like.code] !== undefined) return true
  const message = firstLineOf(error)
  return message === 'Connection is closed.' || message.startsWith("Stream isn't writeable") || like.name === 'MaxRetriesPerRequestError'
}

/** The kind of a Redis error reply or client failure; undefined for anything else (a bug, a handler's error). */
export function replyKind(error: unknown): ReplyKind | undefined {
  if (isPermissionDenied(error) || isAuthFailure(error)) return 'denied'
  if (isWrongType(error)) return 'wrong-type'
  if (isNoGroup(error)) return 'no-group'
  if (isNoSuchKey(error)) return 'not-found'
  if (isStreamExhausted(error)) return 'stream-exhausted'
  if (isCommandTimeout(error)) return 'timeout'
  if (refusalOf(error) !== undefined || isConnectionFailure(error) || isTlsFailure(error)) return 'unavailable'
  return undefined
}

/** The Redis command a reply error belongs to, upper-case, by name only: arguments may hold secrets. */
export function commandNameOf(error: unknown): string | undefined {
  const name = asErrorLike(error).command?.name
  return typeof name === 'string' ? name.toUpperCase() : undefined
}

/**
 * The key a failed command was about, for commands whose key is known to be one argument and
 * never a secret: stream, hash and sorted-set commands. Undefined for anything else: never AUTH
 * or HELLO arguments, and not a script's keys (which of them was wrong, the reply does not say).
 */
export function commandKeyOf(error: unknown): string | undefined {
  const name = commandNameOf(error)
  const args = asErrorLike(error).command?.args
  if (name === undefined || !Array.isArray(args)) return undefined
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : undefined)
  if (name === 'XINFO' || name === 'XGROUP') return text(args[1])
  if (name === 'XREAD' || name === 'XREADGROUP') return undefined
  if (/^(X|Z|H(?!ELLO))/.test(name) || name === 'TYPE' || name === 'EXISTS') return text(args[0])
  return undefined
}

/** The kind of value a command needs, when its name says so (XADD needs a stream). */
export function expectedTypeOf(command: string | undefined): string | undefined {
  if (command === undefined) return undefined
  if (command.startsWith('X')) return 'stream'
  if (command.startsWith('H') && command !== 'HELLO') return 'hash'
  if (command.startsWith('Z')) return 'sorted set'
  return undefined
}
