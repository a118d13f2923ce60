import type {ClusterOptions} from 'ioredis'

import {isQctlError, QctlError, usageError} from '../errors.js'
import type {OpenOptions, ResolvedConnection} from './connection.js'
import {Cluster} from './ioredis.js'
import {reconnectDelayMs} from './reconnect-delay.js'
import {classifyRedisError} from './redis-errors.js'
import {firstLineOf} from './reply-errors.js'

/**
 * How a cluster connection rides out a failover or a migration instead of failing the command.
 *
 * ioredis retries a command that met a lost node connection (a primary killed or failing over),
 * CLUSTERDOWN (slots not served while a replica is promoted) or TRYAGAIN (a multi-key step during a
 * migration), each time after a delay and a fresh slot map; it gives up after `maxRedirections`
 * tries ("Too many Cluster redirections"). Its defaults (100 ms x 16 = 1.6 s) give up long before a
 * replica can take over: that takes `cluster-node-timeout` (15 s by default) plus an election
 * (about a second). qctl waits 250 ms between tries and tries 120 times: 30 s, twice Redis's default
 * node timeout, before a command fails with exit 3. A MOVED is followed at once (a slot map refresh
 * is triggered by it), and counts as one try too.
 */
export const CLUSTER_RETRY = {
  retryDelayOnFailover: 250,
  retryDelayOnClusterDown: 250,
  retryDelayOnTryAgain: 250,
  maxRedirections: 120,
} as const satisfies ClusterOptions

/** How long the retries above last, for messages. */
export const CLUSTER_RETRY_MS = CLUSTER_RETRY.retryDelayOnFailover * CLUSTER_RETRY.maxRedirections

/** The seeds, as messages name the cluster: `127.0.0.1:7000` (first seed) or `127.0.0.1:7000 (+2 seeds)`. */
const clusterAddress = (connection: ResolvedConnection): string =>
  connection.seeds.length === 1 ? connection.errorContext.address : `${connection.errorContext.address} (+${connection.seeds.length - 1} seeds)`

/**
 * Open a Redis Cluster connection (ioredis's `Cluster`): the slot map is read from a seed (CLUSTER
 * SLOTS, which the ACL user must be allowed: README, "Redis Cluster"), and a connection to each node
 * is made when a command first needs it. Every connection flag applies to every node: the user and
 * password, TLS files (the certificate is checked against each node's own address), the connect and
 * command timeouts and the connection name. Never retries before the first success: no seed
 * reachable fails fast (exit 3), as for one server.
 */
export async function openCluster(connection: ResolvedConnection, options: OpenOptions): Promise<Cluster> {
  const {target} = connection
  let established = false
  let lastError: unknown
  const tls = connection.tls === undefined ? undefined : {...connection.tls}
  // The seed's name is not every node's: each node's certificate is checked against its own address.
  if (tls !== undefined) delete tls.servername
  const cluster = new Cluster(
    connection.seeds.map(({host, port}) => ({host, port})),
    {
      ...CLUSTER_RETRY,
      // 0 turns ioredis's resend after a lost node connection off: the command fails (exit 3, in doubt).
      retryDelayOnFailover: options.followFailover === false ? 0 : CLUSTER_RETRY.retryDelayOnFailover,
      lazyConnect: true,
      // Its ready check runs CLUSTER INFO: one more right for every ACL user. CLUSTER SLOTS proves enough.
      enableReadyCheck: false,
      enableOfflineQueue: true,
      scaleReads: 'master',
      slotsRefreshTimeout: Math.max(1000, connection.connectTimeoutMs),
      ...(connection.natMap === undefined ? {} : {natMap: connection.natMap}),
      clusterRetryStrategy: (attempt: number) => (established && options.reconnect === true ? reconnectDelayMs(attempt) : null),
      redisOptions: {
        username: target.username,
        password: target.password,
        tls,
        connectionName: options.name,
        db: target.db,
        connectTimeout: connection.connectTimeoutMs,
        enableReadyCheck: false,
        disableClientInfo: true,
        maxRetriesPerRequest: options.reconnect === true ? null : 0,
        commandTimeout: options.commandTimeoutMs ?? (options.reconnect === true ? undefined : connection.commandTimeoutMs),
      },
    },
  )
  // ClusterAllFailedError carries the last node's own error (WRONGPASS, NOPERM, ECONNREFUSED).
  cluster.on('error', (error: unknown) => {
    lastError = (error as {lastNodeError?: unknown}).lastNodeError ?? error
  })
  cluster.on('node error', (error: unknown) => {
    lastError = error
  })

  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new QctlError('REDIS_UNAVAILABLE', `cannot connect to the cluster at ${clusterAddress(connection)}: timed out after ${connection.connectTimeoutMs / 1000}s`))
    }, connection.connectTimeoutMs)
  })
  try {
    await Promise.race([cluster.connect(), deadline])
    if (cluster.nodes('master').length === 0) throw noAddressError(connection)
    if (target.db !== 0) await checkDatabase(cluster, connection)
    established = true
    return cluster
  } catch (error) {
    cluster.disconnect()
    if (isQctlError(error)) throw error
    throw clusterConnectError(lastError ?? error, connection)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The slot map named no node qctl can reach: CLUSTER SLOTS gave every slot an empty host. A cluster
 * node that never met another does not know its own address (a one-node cluster), and ioredis
 * skips such entries rather than use the address it asked (as the cluster spec says clients may).
 */
const noAddressError = (connection: ResolvedConnection): QctlError =>
  usageError(`the cluster at ${clusterAddress(connection)} names no address for the nodes serving its slots (CLUSTER SLOTS gives an empty host: a node that never met another does not know its own)`, {
    suggestion: 'set cluster-announce-ip (or cluster-announce-hostname) on each node, e.g. cluster-announce-ip 10.0.0.5 in its configuration, and restart it (Valkey 8 keeps answering its cached slot map after a CONFIG SET)',
  })

/** Why no seed gave a slot map, in qctl's words. */
function clusterConnectError(error: unknown, connection: ResolvedConnection): unknown {
  if (/cluster support disabled/i.test(firstLineOf(error))) {
    const why = connection.seeds.length > 1 ? `${connection.seeds.length} seed URLs name a cluster, but` : '--cluster, QCTL_REDIS_CLUSTER or the profile says it is a cluster, but'
    return usageError(`${why} ${connection.errorContext.address} is a single Redis server, not a cluster node (it says "cluster support disabled")`)
  }
  const classified = classifyRedisError(error, {...connection.errorContext, address: clusterAddress(connection)})
  if (classified !== undefined) return classified
  return new QctlError('REDIS_UNAVAILABLE', `cannot connect to the cluster at ${clusterAddress(connection)}: ${firstLineOf(error) || 'no seed answered'}`, {cause: error})
}

/**
 * A Redis Cluster serves database 0 only: a `/db` in the URL is refused, exit 2, when a node says
 * so to SELECT ("SELECT is not allowed in cluster mode"). A server that serves databases in cluster
 * mode (Valkey 9 can) accepts it, and every node connection selects it as it connects.
 */
async function checkDatabase(cluster: Cluster, connection: ResolvedConnection): Promise<void> {
  const db = connection.target.db
  const [node] = cluster.nodes('master')
  if (node === undefined) return
  try {
    await node.select(db)
  } catch (error) {
    if (/not allowed in cluster mode/i.test(firstLineOf(error))) {
      throw usageError(`database ${db} was named (the URL's /${db}), but this Redis Cluster serves database 0 only: drop /${db} from the URL for ${clusterAddress(connection)}`)
    }
    if (/DB index is out of range|invalid DB index/i.test(firstLineOf(error))) {
      throw usageError(`database ${db} does not exist on the cluster at ${clusterAddress(connection)} (the URL's /${db})`)
    }
    throw error
  }
}
