import {QctlError} from '../errors.js'

/** What a Redis error message needs to name the failure without leaking a secret. */
export interface RedisErrorContext {
  /** `host:port` */
  address: string
  /** ACL user the client authenticates as. */
  username: string
  /** The command timeout of one-shot connections, to say how long Redis was silent. */
  commandTimeoutMs?: number | undefined
}

interface ErrorLike {
  message?: unknown
  code?: unknown
  command?: {name?: unknown}
}

const networkCauses: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host not found (DNS lookup failed)',
  EAI_AGAIN: 'host not found (DNS lookup failed temporarily)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed by the server',
}

const tlsCodes = new Set([
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

/** ioredis rejects a command with this when `commandTimeout` passes without a reply. */
export const COMMAND_TIMED_OUT = 'Command timed out'

const asErrorLike = (error: unknown): ErrorLike => (typeof error === 'object' && error !== null ? error : {})

const firstLine = (text: string): string => text.split('\n', 1)[0] ?? ''

/** The Redis command a reply error belongs to, by name only: arguments may hold secrets. */
const commandName = (error: ErrorLike): string | undefined =>
  typeof error.command?.name === 'string' ? error.command.name.toUpperCase() : undefined

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
 * The command that was refused: the one named in the reply when Redis names it (qctl's scripts
 * check their writes first and name the one refused), else the command that was sent.
 */
function deniedCommand(error: ErrorLike, message: string): string | undefined {
  const named = /run the '([a-z|]+)' command/i.exec(message)?.[1]
  if (named !== undefined) return named.toUpperCase()
  const sent = commandName(error)
  return sent !== undefined && SCRIPT_DENIED.test(message) ? `a command in a script (${sent})` : sent
}

/** OpenSSL's `<id>:error:<code>:<library>:<function>:<reason>:<source file>:<line>:` as its reason alone. */
const opensslReason = (message: string): string => /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(message)?.[1] ?? message

/** What to change, for the TLS failures people meet when setting up. */
function tlsSuggestion(reason: string, code: string): string | undefined {
  if (/certificate required/i.test(reason)) return 'the server requires a client certificate: give --tls-cert and --tls-key'
  if (/wrong version number|packet length too long|unknown protocol/i.test(reason)) {
    return 'the server does not speak TLS on this port: check the port, or use redis:// if it is a plain-text server'
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'connect with a host name the server certificate names'
  if (/self.signed|unable to (verify|get)|unknown ca/i.test(reason)) return "give the CA that signed the server's certificate with --tls-ca"
  return undefined
}

/**
 * Turn an ioredis/socket/TLS error into a typed qctl error with a one-line message.
 * Returns `undefined` for errors that are not about reaching or being allowed into Redis.
 */
export function classifyRedisError(error: unknown, context: RedisErrorContext): QctlError | undefined {
  const like = asErrorLike(error)
  const message = typeof like.message === 'string' ? firstLine(like.message) : ''
  const code = typeof like.code === 'string' ? like.code : ''
  const unavailable = (cause: string, suggestion?: string): QctlError =>
    new QctlError('REDIS_UNAVAILABLE', `cannot connect to ${context.address}: ${cause}`, {cause: error, suggestion})

  if (message.startsWith('WRONGPASS')) {
    return new QctlError(
      'AUTH_FAILED',
      `authentication failed for user '${context.username}' on ${context.address}: wrong password, unknown user or user disabled`,
      {cause: error, suggestion: 'check the password in the URL, QCTL_REDIS_PASSWORD or --password-file'},
    )
  }

  if (message.startsWith('NOAUTH')) {
    return new QctlError('AUTH_FAILED', `authentication required by ${context.address} for user '${context.username}': no password given`, {
      cause: error,
      suggestion: 'give a password in the URL, QCTL_REDIS_PASSWORD or --password-file',
    })
  }

  if (isPermissionDenied(error)) {
    const command = deniedCommand(like, message)
    // The script's SHA and line add nothing a user can act on.
    const detail = message.replace(/^(NOPERM|ERR)\s*/, '').replace(/\s*script: [0-9a-f]{40}, on @user_script:\d+\.?$/, '')
    const what = command === undefined ? '' : ` for ${command}`
    return new QctlError('NO_PERMISSION', `permission denied${what} to user '${context.username}' on ${context.address}: ${detail}`, {
      cause: error,
      details: {command, user: context.username},
    })
  }

  if (tlsCodes.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /certificate|ssl|tls/i.test(message)) {
    const reason = opensslReason(message) || code
    return unavailable(`TLS handshake failed: ${reason}`, tlsSuggestion(reason, code))
  }

  const networkCause = networkCauses[code]
  if (networkCause !== undefined) return unavailable(networkCause)

  if (message === 'Connection is closed.' || message.startsWith("Stream isn't writeable")) {
    return unavailable('connection closed by the server')
  }

  // ioredis's commandTimeout: the connection is open but Redis (or the path to it) went silent.
  if (message === COMMAND_TIMED_OUT) {
    const within = context.commandTimeoutMs === undefined ? 'in time' : `within ${context.commandTimeoutMs / 1000}s`
    return new QctlError('REDIS_UNAVAILABLE', `Redis at ${context.address} did not answer ${within} (--command-timeout)`, {cause: error})
  }

  if (message.startsWith('LOADING')) return unavailable('Redis is loading its dataset; retry shortly')

  return undefined
}
