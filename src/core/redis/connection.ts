import {readFile} from 'node:fs/promises'
import type {ConnectionOptions as TlsOptions} from 'node:tls'

import {Redis} from './ioredis.js'

import type {RedisClient} from './client.js'
import {openCluster} from './cluster-connection.js'
import {isQctlError, notFoundError, QctlError, usageError} from '../errors.js'
import {parseNatMap, type NatMapping} from './cluster-nat.js'
import {answersPlainText} from './plain-text-probe.js'
import {reconnectDelayMs} from './reconnect-delay.js'
import {classifyRedisError, isPermissionDenied, type RedisErrorContext} from './redis-errors.js'
import {formatAddress, parseRedisUrls, type RedisTarget} from './redis-url.js'

/**
 * Whether the Redis named is one server or a Redis Cluster: said by the user (`--cluster`,
 * `QCTL_REDIS_CLUSTER`), or `detect`ed by the first connection (HELLO's `mode`, which any user
 * may ask), and from then on settled for every connection the command opens.
 */
export type Topology = 'standalone' | 'cluster' | 'detect'

/** Connection settings as the user gave them (flags, environment), before files are read. */
export interface ConnectionInput {
  /** One URL, or a cluster's seed URLs (several, or one comma-separated list). */
  url: string | readonly string[]
  /** true: a cluster; false: one server (no detection); undefined: detect. */
  cluster?: boolean | undefined
  /** `--cluster-nat FROM=TO`: addresses the cluster announces, rewritten to ones this host can reach. */
  clusterNat?: readonly string[] | undefined
  /** From QCTL_REDIS_PASSWORD; overrides the URL's password. */
  password?: string | undefined
  /** A file holding the password; overrides both the URL and the environment. */
  passwordFile?: string | undefined
  tlsCaFile?: string | undefined
  tlsCertFile?: string | undefined
  tlsKeyFile?: string | undefined
  /** Skip certificate verification (warned about by the CLI). */
  tlsInsecure?: boolean | undefined
  connectTimeoutMs: number
  /** How long a one-shot connection waits for any reply (default `DEFAULT_COMMAND_TIMEOUT_MS`). */
  commandTimeoutMs?: number | undefined
}

/**
 * How long a one-shot command waits for Redis to answer a command before it gives up (exit 3).
 * A peer that went silent (a paused process, a dropped NAT or load-balancer entry) never closes
 * the connection: without a bound, a command would wait for the kernel's TCP timeout (~15 min).
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000

/** Everything needed to open connections; files are read once. */
export interface ResolvedConnection {
  /** The first (or only) seed: credentials, TLS and database come from it. */
  target: RedisTarget
  /** Every seed address given (one for a single server). */
  seeds: RedisTarget[]
  /** Settled (`detect` replaced) by the first connection opened. */
  topology: Topology
  natMap: NatMapping | undefined
  tls: TlsOptions | undefined
  connectTimeoutMs: number
  /** Applied to every connection opened without `reconnect` (see `OpenOptions.commandTimeoutMs`). */
  commandTimeoutMs: number
  errorContext: RedisErrorContext
}

export interface OpenOptions {
  /** CLIENT SETNAME value, so operators can tell qctl's connections apart. */
  name: string
  /**
   * Reconnect (capped backoff) after the first successful connection. Off for one-shot commands,
   * which must fail with a clear error rather than replay commands on a new connection.
   */
  reconnect?: boolean
  /**
   * After a reconnect, send again the commands whose replies the dropped connection lost. Without
   * it, those commands fail with "the connection to Redis was lost before the reply" as the
   * connection drops (ioredis alone would leave their promises unsettled). Only for idempotent
   * work (acks, claims, scripts that check state first); never for blocking reads.
   */
  resendOnReconnect?: boolean
  /**
   * Fail a command that has no reply after this long, counted from when it is sent (including
   * time spent waiting for a reconnect). Defaults to the connection's `commandTimeoutMs` for
   * one-shot connections (no `reconnect`), so none of them can wait forever on a silent peer;
   * connections that reconnect manage their own (none by default: a blocking read may wait long).
   * Only applies once the connection is established: connecting is bounded by the connect timeout.
   */
  commandTimeoutMs?: number
  /**
   * On a Redis Cluster: send again, once the slot map names a new owner, a command whose node
   * connection was lost (a primary failing over). True by default: reads, acknowledgements and
   * qctl's scripts are safe to repeat. `publish` turns it off: a batch the lost node may have stored
   * is reported in doubt (exit 3 with the line to resume from), never stored twice by a resend.
   */
  followFailover?: boolean
}

async function readConfigFile(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw notFoundError(`${flag} file not found: ${path}`)
    throw new QctlError('INVALID_INPUT', `cannot read ${flag} file ${path}: ${code ?? 'unknown error'}`)
  }
}

export async function resolveConnection(input: ConnectionInput): Promise<ResolvedConnection> {
  const seeds = parseRedisUrls(input.url)
  const target = seeds[0] as RedisTarget
  if (seeds.length > 1 && input.cluster === false) {
    throw usageError(`${seeds.length} Redis URLs were given, but QCTL_REDIS_CLUSTER (or the profile) says this is not a cluster: give one URL, or the seeds of a cluster with --cluster`)
  }
  const natMap = input.clusterNat === undefined || input.clusterNat.length === 0 ? undefined : parseNatMap(input.clusterNat)
  if (natMap !== undefined && input.cluster === false) throw usageError('--cluster-nat is for a Redis Cluster, but QCTL_REDIS_CLUSTER (or the profile) says this is not one')
  if (input.password !== undefined && input.password !== '') target.password = input.password
  const commandTimeoutMs = input.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
  if (!(commandTimeoutMs > 0)) throw usageError(`the command timeout must be more than 0 (got ${commandTimeoutMs}ms)`)
  if (input.passwordFile !== undefined) {
    const text = (await readConfigFile(input.passwordFile, '--password-file')).toString('utf8')
    target.password = text.replace(/\r?\n$/, '')
  }

  const usesTlsFiles = input.tlsCaFile ?? input.tlsCertFile ?? input.tlsKeyFile
  if (!target.tls && (usesTlsFiles !== undefined || input.tlsInsecure === true)) {
    throw usageError('TLS flags need a rediss:// URL (the URL given uses redis://, which is plain text)')
  }
  if ((input.tlsCertFile === undefined) !== (input.tlsKeyFile === undefined)) {
    throw usageError('--tls-cert and --tls-key go together (client certificate and its private key)')
  }

  let tls: TlsOptions | undefined
  if (target.tls) {
    tls = {servername: target.host, rejectUnauthorized: input.tlsInsecure !== true}
    if (input.tlsCaFile !== undefined) tls.ca = await readConfigFile(input.tlsCaFile, '--tls-ca')
    if (input.tlsCertFile !== undefined) tls.cert = await readConfigFile(input.tlsCertFile, '--tls-cert')
    if (input.tlsKeyFile !== undefined) tls.key = await readConfigFile(input.tlsKeyFile, '--tls-key')
    // An IP address is not a valid SNI name; verification still checks it against the certificate.
    if (/^[\d.]+$|:/.test(target.host)) delete tls.servername
  }

  return {
    target,
    seeds,
    topology: input.cluster === undefined ? 'detect' : input.cluster ? 'cluster' : 'standalone',
    natMap,
    tls,
    connectTimeoutMs: input.connectTimeoutMs,
    commandTimeoutMs,
    errorContext: {address: formatAddress(target), username: target.username ?? 'default', commandTimeoutMs},
  }
}

/** Map any error from Redis to a typed qctl error when it is about reaching or being allowed in. */
export function redisError(error: unknown, connection: ResolvedConnection): unknown {
  return classifyRedisError(error, connection.errorContext) ?? error
}

/**
 * Open a connection and prove it works (AUTH, SELECT and a PING answered) within the connect
 * timeout. Never retries before the first success: an unreachable Redis fails fast with exit 3.
 * No INFO ready check, so least-privilege ACL users without INFO can connect. Once connected,
 * every command is bounded by the command timeout (see `OpenOptions.commandTimeoutMs`).
 * Always one server: `openClient` is what opens a cluster where one is named or found.
 */
export async function openRedis(connection: ResolvedConnection, options: OpenOptions): Promise<Redis> {
  return (await connectStandalone(connection, options, false)).client
}

/**
 * Open a connection as the user named it: one server, or a Redis Cluster (`--cluster`, or found
 * by the first connection: HELLO's `mode` is `cluster`), settled in `connection.topology` for the
 * connections opened after it. In cluster mode a `/db` in the URL is refused (exit 2): a cluster
 * has database 0 only.
 */
export async function openClient(connection: ResolvedConnection, options: OpenOptions): Promise<RedisClient> {
  // Several seeds name a cluster (one server has one address): no question to the first, which may be the one that is down.
  if (connection.topology === 'detect' && connection.seeds.length > 1) connection.topology = 'cluster'
  if (connection.topology === 'cluster') return openCluster(connection, options)
  const probe = connection.topology === 'detect'
  const {client, mode} = await connectStandalone(connection, options, probe)
  if (mode === 'cluster') {
    client.disconnect()
    connection.topology = 'cluster'
    return openCluster(connection, options)
  }
  if (probe) {
    connection.topology = 'standalone'
    if (connection.natMap !== undefined) {
      client.disconnect()
      throw usageError(`--cluster-nat was given, but ${connection.errorContext.address} is a single Redis server, not a cluster node (HELLO says mode "${mode ?? 'standalone'}")`)
    }
  }
  return client
}

/** What HELLO says the server is (`standalone`, `cluster`, `sentinel`); undefined when it cannot tell (a proxy without HELLO). */
async function helloMode(client: Redis): Promise<string | undefined> {
  try {
    // HELLO 2 keeps the protocol ioredis speaks; no credentials, so nothing secret is sent again.
    const reply = (await client.call('HELLO', '2')) as unknown[]
    const at = reply.indexOf('mode')
    return at === -1 ? undefined : String(reply[at + 1])
  } catch (error) {
    if (/^ERR unknown command/i.test(error instanceof Error ? error.message : '')) {
      await client.ping()
      return undefined
    }
    throw error
  }
}

async function connectStandalone(connection: ResolvedConnection, options: OpenOptions, probe: boolean): Promise<{client: Redis; mode: string | undefined}> {
  const {target} = connection
  let established = false
  let lastError: unknown
  const client = new Redis({
    host: target.host,
    port: target.port,
    db: target.db,
    username: target.username,
    password: target.password,
    tls: connection.tls,
    connectionName: options.name,
    connectTimeout: connection.connectTimeoutMs,
    lazyConnect: true,
    enableReadyCheck: false,
    disableClientInfo: true,
    enableOfflineQueue: options.reconnect === true,
    autoResendUnfulfilledCommands: options.resendOnReconnect === true,
    maxRetriesPerRequest: options.reconnect === true ? null : 0,
    retryStrategy: (attempt) => (established && options.reconnect === true ? reconnectDelayMs(attempt) : null),
  })
  // Without a listener ioredis prints "Unhandled error event" with a stack; we report errors ourselves.
  client.on('error', (error: unknown) => {
    lastError = error
  })
  if (options.reconnect === true && options.resendOnReconnect !== true) failUnansweredOnReconnect(client)

  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const seconds = connection.connectTimeoutMs / 1000
      reject(new QctlError('REDIS_UNAVAILABLE', `cannot connect to ${connection.errorContext.address}: timed out after ${seconds}s`))
    }, connection.connectTimeoutMs)
  })

  try {
    const mode = await Promise.race([
      (async () => {
        await client.connect()
        // HELLO answers in place of PING, and says whether this is a cluster node (before SELECT, which a cluster refuses).
        const found = probe ? await helloMode(client) : undefined
        if (found === 'cluster') return found
        if (target.db !== 0) await selectDatabase(client, connection)
        if (!probe) await client.ping()
        return found
      })(),
      deadline,
    ])
    established = true
    // Read by ioredis as each command is sent: from now on no reply is awaited for longer.
    client.options.commandTimeout = options.commandTimeoutMs ?? (options.reconnect === true ? undefined : connection.commandTimeoutMs)
    return {client, mode}
  } catch (error) {
    client.disconnect()
    if (isQctlError(error) && error.code === 'REDIS_UNAVAILABLE' && connection.tls !== undefined && lastError === undefined) {
      // No TLS handshake reply at all: a plain-text Redis on that port keeps quiet (README, "TLS").
      if (await answersPlainText(target.host, target.port)) throw plainTextServerError(connection)
    }
    if (isQctlError(error)) throw error
    // The command promise only says "Connection is closed." or "Stream isn't writeable";
    // the error event carries the real cause (WRONGPASS, ECONNREFUSED, a TLS failure).
    const fromEvent = lastError === undefined ? undefined : classifyRedisError(lastError, connection.errorContext)
    throw fromEvent ?? redisError(error, connection)
  } finally {
    clearTimeout(timer)
  }
}

/** The part of ioredis's internals that holds the commands a dropped connection sent and never got replies to. */
interface UnansweredQueue {
  prevCommandQueue?: {shift(): {command: {reject(error: Error): void}} | undefined} | null
}

/**
 * Without resend, ioredis forgets the commands a dropped connection had sent and got no reply to
 * (`prevCommandQueue`): their promises never settle, so a worker's blocking read would wait for its
 * watchdog (seconds) after every cut connection. Fail them as the connection goes to reconnect
 * (ioredis has just set the queue aside), so the caller knows at once and reads again. Tested in
 * test/e2e/connection-lost-reply.test.ts, which hangs if an ioredis upgrade moves this queue.
 */
function failUnansweredOnReconnect(client: Redis): void {
  client.on('reconnecting', () => {
    const internals = client as unknown as UnansweredQueue
    const queue = internals.prevCommandQueue
    if (queue === undefined || queue === null) return
    internals.prevCommandQueue = null
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      item.command.reject(new Error('the connection to Redis was lost before the reply'))
    }
  })
}

const plainTextServerError = (connection: ResolvedConnection): QctlError =>
  new QctlError(
    'REDIS_UNAVAILABLE',
    `cannot connect to ${connection.errorContext.address}: no TLS handshake within ${connection.connectTimeoutMs / 1000}s, and it answers plain-text Redis commands: it looks like a plain-text server`,
    {suggestion: 'use redis:// (not rediss://) for a server without TLS, or check the port'},
  )

/**
 * SELECT the URL's database, or fail before anything is read or written. ioredis selects it on
 * connect too (and again after a reconnect), but a refused SELECT there is only an error event:
 * the commands then go to database 0 (a publish to `/16` used to land in db 0 and exit 0).
 */
async function selectDatabase(client: Redis, connection: ResolvedConnection): Promise<void> {
  const {target, errorContext} = connection
  try {
    await client.select(target.db)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    if (/DB index is out of range|invalid DB index/i.test(message)) {
      throw usageError(`database ${target.db} does not exist on ${errorContext.address} (the URL's /${target.db}; the server's \`databases\` setting bounds the index)`)
    }
    if (isPermissionDenied(error)) {
      throw new QctlError('NO_PERMISSION', `user "${errorContext.username}" may not select database ${target.db} on ${errorContext.address} (its ACL lacks SELECT): grant +select, or use database 0`)
    }
    throw error
  }
}

/** Close politely (QUIT waits for replies already sent), but never wait on a dead server for long. */
export async function closeRedis(client: RedisClient, timeoutMs = 1000): Promise<void> {
  if (client.status === 'end') return
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs)
  })
  await Promise.race([client.quit().then(() => undefined, () => undefined), timeout])
  clearTimeout(timer)
  client.disconnect()
}
