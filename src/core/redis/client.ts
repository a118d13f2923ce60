import {Cluster, type Redis} from './ioredis.js'

/**
 * A connection to Redis as qctl's core uses it: one server (`Redis`), or a Redis Cluster
 * (`Cluster`, which routes each command to the node owning its key's slot and follows MOVED/ASK).
 * Code that touches one topic's keys (all in one slot, keys.ts) takes either; code that reads
 * across topics asks `isCluster` and works per primary (cluster-nodes.ts), since a cluster has no
 * keyspace-wide SCAN and refuses pipelines and scripts that span nodes or slots.
 */
export type RedisClient = Redis | Cluster

export const isCluster = (client: RedisClient): client is Cluster => client instanceof Cluster

/** The bound on each command's reply (ioredis `commandTimeout`), undefined when there is none. */
export function commandTimeoutOf(client: RedisClient): number | undefined {
  return isCluster(client) ? client.options.redisOptions?.commandTimeout : client.options.commandTimeout
}

/**
 * Change that bound: ioredis reads it as each command is sent. On a cluster, for the node
 * connections open now and those it opens later.
 */
export function setCommandTimeout(client: RedisClient, ms: number): void {
  if (!isCluster(client)) {
    client.options.commandTimeout = ms
    return
  }
  client.options.redisOptions = {...client.options.redisOptions, commandTimeout: ms}
  for (const node of client.nodes()) node.options.commandTimeout = ms
}
