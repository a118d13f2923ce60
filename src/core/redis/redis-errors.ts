import {internalError, isQctlError, QctlError} from '../errors.js'
import {notAStreamText, typeNoun} from './key-type.js'
import {
  asErrorLike,
  commandKeyOf,
  commandNameOf,
  expectedTypeOf,
  firstLineOf,
  isCommandTimeout,
  isNoGroup,
  isNoSuchKey,
  isPermissionDenied,
  isStreamExhausted,
  isTlsFailure,
  isWrongType,
  NETWORK_CAUSES,
  refusalOf,
  SCRIPT_DENIED,
  type RefusalCondition,
} from './reply-errors.js'

export * from './reply-errors.js'

/** What a Redis error message needs to name the failure without leaking a secret. */
export interface RedisErrorContext {
  /** `host:port` */
  address: string
  /** ACL user the client authenticates as. */
  username: string
  /** The command timeout of one-shot connections, to say how long Redis was silent. */
  commandTimeoutMs?: number | undefined
}

/** What the caller knows about the failed command, to name it better than the reply does. */
export interface ReplyFacts {
  /** The key the command was about (else taken from the command when that is safe). */
  key?: string | undefined
  /** What the key holds (TYPE), for WRONGTYPE. */
  keyType?: string | undefined
}

/**
 * The command that was refused: the one named in the reply when Redis names it (qctl's scripts
 * check their writes first and name the one refused), else the command that was sent.
 */
function deniedCommand(error: unknown, message: string): string | undefined {
  const named = /run the '([a-z|]+)' command/i.exec(message)?.[1]
  if (named !== undefined) return named.toUpperCase()
  const sent = commandNameOf(error)
  return sent !== undefined && SCRIPT_DENIED.test(message) ? `a command in a script (${sent})` : sent
}

/** Each refusal: what Redis is in, and what to do about it. */
const REFUSAL_TEXT: Readonly<Record<RefusalCondition, {state: string; todo: string}>> = {
  OOM: {state: 'is out of memory (maxmemory reached, and its maxmemory-policy evicts nothing more, e.g. noeviction)', todo: 'free memory or raise maxmemory'},
  READONLY: {state: 'is a read-only replica', todo: 'send writes to its primary'},
  NOREPLICAS: {state: 'refuses writes: fewer replicas are connected than min-replicas-to-write asks for', todo: 'bring the replicas back or lower min-replicas-to-write'},
  MASTERDOWN: {state: 'is a replica that lost its primary (replica-serve-stale-data no)', todo: 'restore the link to the primary, or connect to the primary'},
  LOADING: {state: 'is loading its dataset into memory', todo: 'retry when it has finished'},
  BUSY: {state: 'is busy running a script or function (past busy-reply-threshold)', todo: 'wait for it, or stop it with SCRIPT KILL or FUNCTION KILL'},
  CLUSTERDOWN: {state: 'belongs to a Redis Cluster that is down (not every hash slot is served)', todo: 'repair the cluster, then retry'},
  TRYAGAIN: {state: 'is moving the keys involved to another node (resharding)', todo: 'retry in a moment'},
  MISCONF: {state: 'refuses writes because it cannot persist to disk (its last RDB snapshot failed)', todo: 'fix the disk or the persistence settings (see the server log), then retry'},
}

/** The one-line message of a refusal: `Redis on HOST:PORT is out of memory (OOM; …): free memory or raise maxmemory`. */
export function refusalMessage(condition: RefusalCondition, address: string): string {
  const {state, todo} = REFUSAL_TEXT[condition]
  const open = state.indexOf(' (')
  // The reply's own code goes first inside the parentheses, so people can search for it.
  const described = open === -1 ? `${state} (${condition})` : `${state.slice(0, open)} (${condition}; ${state.slice(open + 2)}`
  return `Redis on ${address} ${described}: ${todo}`
}

/** WRONGTYPE as one line naming the key, what it holds and what the command needed. */
function wrongTypeMessage(error: unknown, facts: ReplyFacts): string {
  const command = commandNameOf(error)
  const key = facts.key ?? commandKeyOf(error)
  const by = `(WRONGTYPE from ${command ?? 'Redis'})`
  if (key === undefined) return `a key holds the wrong type of value for ${command ?? 'this command'} ${by}`
  // A key the caller names is one qctl reads as a stream, unless the command says otherwise (HSET).
  const expected = expectedTypeOf(command) ?? (facts.key === undefined ? undefined : 'stream')
  if (expected === 'stream') return `key ${notAStreamText(key, facts.keyType)} ${by}`
  const holds = facts.keyType === undefined || facts.keyType === 'none' ? 'holds another type of value' : `is ${typeNoun(facts.keyType)}`
  return `key "${key}" ${holds}, not ${expected === undefined ? `what ${command ?? 'the command'} needs` : `a ${expected}`} ${by}`
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
 * Turn an ioredis/socket/TLS error or a Redis error reply into a typed qctl error with a
 * one-line message (see ReplyKind for the exit codes). Returns `undefined` for anything else.
 */
export function classifyRedisError(error: unknown, context: RedisErrorContext, facts: ReplyFacts = {}): QctlError | undefined {
  const like = asErrorLike(error)
  const message = firstLineOf(error)
  const code = typeof like.code === 'string' ? like.code : ''
  const unavailable = (cause: string, suggestion?: string): QctlError =>
    new QctlError('REDIS_UNAVAILABLE', `cannot connect to ${context.address}: ${cause}`, {cause: error, suggestion})

  if (message.startsWith('WRONGPASS')) {
    return new QctlError(
      'AUTH_FAILED',
      `authentication failed for user '${context.username}' on ${context.address}: wrong password, unknown user or user disabled`,
      {cause: error, suggestion: 'check the password in the URL, QCTL_REDIS_PASSWORD, --password-file or the profile (qctl profile show)'},
    )
  }

  if (message.startsWith('NOAUTH')) {
    return new QctlError('AUTH_FAILED', `authentication required by ${context.address} for user '${context.username}': no password given`, {
      cause: error,
      suggestion: 'give a password in the URL, QCTL_REDIS_PASSWORD, --password-file or a profile (qctl profile create --password-file)',
    })
  }

  if (isPermissionDenied(error)) {
    const command = deniedCommand(error, message)
    // The script's SHA and line add nothing a user can act on.
    const detail = message.replace(/^(NOPERM|ERR)\s*/, '').replace(/\s*script: [0-9a-f]{40}, on @user_script:\d+\.?$/, '')
    const what = command === undefined ? '' : ` for ${command}`
    return new QctlError('NO_PERMISSION', `permission denied${what} to user '${context.username}' on ${context.address}: ${detail}`, {
      cause: error,
      details: {command, user: context.username},
    })
  }

  if (isWrongType(error)) {
    const key = facts.key ?? commandKeyOf(error)
    return new QctlError('USAGE', wrongTypeMessage(error, facts), {cause: error, details: {key: key ?? null, type: facts.keyType ?? null}})
  }

  if (isNoGroup(error)) {
    // "NOGROUP No such key 't' or consumer group 'g' in XREADGROUP with GROUP option"
    const detail = message.replace(/^NOGROUP\s*/, '').replace(/^No such/, 'no such')
    return new QctlError('NOT_FOUND', `the stream or its consumer group does not exist: ${detail}`, {cause: error})
  }

  if (isNoSuchKey(error)) {
    const key = facts.key ?? commandKeyOf(error)
    const command = commandNameOf(error)
    const what = key === undefined ? 'the stream does not exist' : `stream "${key}" does not exist`
    return new QctlError('NOT_FOUND', command === undefined ? what : `${what} (${command})`, {cause: error})
  }

  if (isStreamExhausted(error)) {
    const key = facts.key ?? commandKeyOf(error)
    return new QctlError(
      'STREAM_EXHAUSTED',
      `${key === undefined ? 'the stream' : `stream "${key}"`} has used up its entry IDs (its last ID is the largest possible, 18446744073709551615-18446744073709551615): Redis cannot add to it`,
      {
        cause: error,
        suggestion: 'publish to another topic, or delete the stream; an entry ID far in the future (written by another producer) used them up',
        details: key === undefined ? undefined : {key},
      },
    )
  }

  // ioredis gave up following a cluster's redirections and retries (cluster-connection.ts, CLUSTER_RETRY).
  const redirections = /^Too many Cluster redirections\. Last error: (.*)$/s.exec(message)
  if (redirections !== null) {
    const last = (redirections[1] ?? '').replace(/^\w*Error: /, '')
    return new QctlError('REDIS_UNAVAILABLE', `the Redis Cluster at ${context.address} did not serve the command within its retries (a failover or migration that did not finish, or a node down): ${last}`, {
      cause: error,
      details: {condition: 'CLUSTER_RETRIES'},
    })
  }

  // ioredis's Cluster with no node to send to (every seed and node down, or a slot map naming none).
  if (/^(None of startup nodes is available|Failed to refresh slots cache|Cluster is (disconnected|disconnecting|ended))/.test(message)) {
    return new QctlError('REDIS_UNAVAILABLE', `cannot reach any node of the Redis Cluster at ${context.address} (${message.replace(/\.$/, '')})`, {cause: error})
  }

  // A cluster node reached as if it were a single server (QCTL_REDIS_CLUSTER=0): the key lives on another node.
  if (/^(MOVED|ASK) \d+ /.test(message)) {
    return new QctlError('USAGE', `${context.address} is a Redis Cluster node and the key lives on another node (${message}): let qctl use cluster mode (--cluster, or leave QCTL_REDIS_CLUSTER unset)`, {cause: error})
  }

  const refusal = refusalOf(error)
  if (refusal !== undefined) {
    return new QctlError('REDIS_UNAVAILABLE', refusalMessage(refusal, context.address), {cause: error, details: {condition: refusal}})
  }

  // ioredis's commandTimeout: the connection is open but Redis (or the path to it) went silent.
  if (isCommandTimeout(error)) {
    const within = context.commandTimeoutMs === undefined ? 'in time' : `within ${context.commandTimeoutMs / 1000}s`
    return new QctlError('REDIS_UNAVAILABLE', `Redis at ${context.address} did not answer ${within} (--command-timeout)`, {
      cause: error,
      details: {condition: 'TIMEOUT'},
    })
  }

  if (isTlsFailure(error)) {
    const reason = opensslReason(message) || code
    return unavailable(`TLS handshake failed: ${reason}`, tlsSuggestion(reason, code))
  }

  const networkCause = NETWORK_CAUSES[code]
  if (networkCause !== undefined) return unavailable(networkCause)

  if (message === 'Connection is closed.' || message.startsWith("Stream isn't writeable") || like.name === 'MaxRetriesPerRequestError') {
    return unavailable('connection closed by the server')
  }

  return undefined
}

/**
 * Any error as a typed qctl error: qctl's own as they are, Redis errors classified, anything else
 * an internal error (exit 1: a bug in qctl). For the base command and the worker alike.
 */
export function toQctlError(error: unknown, context: RedisErrorContext | undefined, facts: ReplyFacts = {}): QctlError {
  if (isQctlError(error)) return error
  return (context === undefined ? undefined : classifyRedisError(error, context, facts)) ?? internalError(error)
}
