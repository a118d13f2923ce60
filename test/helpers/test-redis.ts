import type {Cluster, Redis} from 'ioredis'
import {afterAll, beforeAll} from 'vitest'

import {RedisCluster} from './cluster-harness.js'
import {RedisServer} from './redis-server.js'

/**
 * What a command suite runs against: a private redis-server, or, in the `cluster` project of
 * vitest.config.ts (`QCTL_TEST_TARGET=cluster`), a local Redis Cluster of three primaries reached
 * through one seed. The same tests then prove each command on both: keys the tests touch together
 * share a slot (a topic and its `{topic}:…` keys), so an admin client works on either.
 */
export const TEST_TARGET: 'server' | 'cluster' = process.env.QCTL_TEST_TARGET === 'cluster' ? 'cluster' : 'server'

/** An admin connection for arranging and checking test state: one server's, or a cluster's. */
export type AdminClient = Redis | Cluster

export interface TestRedis {
  /** The URL qctl is given (a cluster's first primary: the seed). */
  url: string
  client(): Promise<AdminClient>
  /** A plain connection to the one server that holds `key` (a cluster: the primary owning its slot), e.g. for MONITOR. */
  nodeFor(key: string): Promise<Redis>
  stop(): Promise<void>
}

export async function startTestRedis(): Promise<TestRedis> {
  if (TEST_TARGET === 'server') {
    const server = await RedisServer.start()
    return {url: server.url, client: async () => server.client(), nodeFor: async () => server.client(), stop: async () => server.stop()}
  }
  const cluster = await RedisCluster.start({primaries: 3})
  return {url: cluster.seedUrl, client: async () => cluster.client(), nodeFor: async (key) => cluster.nodeClient(await cluster.ownerOf(key)), stop: async () => cluster.stop()}
}

/** The test target for the enclosing describe block (or file), and an admin connection to it. */
export function useTestRedis(): {server: TestRedis; redis: AdminClient} {
  const context = {} as {server: TestRedis; redis: AdminClient}
  beforeAll(async () => {
    context.server = await startTestRedis()
    context.redis = await context.server.client()
  })
  afterAll(async () => {
    context.redis?.disconnect()
    await context.server?.stop()
  })
  return context
}
