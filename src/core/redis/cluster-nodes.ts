import type {Cluster, Redis} from 'ioredis'

import {sleep} from '../sleep.js'
import {CLUSTER_RETRY, CLUSTER_RETRY_MS} from './cluster-connection.js'
import {keySlot} from './key-slot.js'
import {firstLineOf, isConnectionFailure} from './reply-errors.js'

/**
 * Work spread over a Redis Cluster's primaries, for what reads across topics (`lag`, `top`,
 * `inspect`, `dlq list`): ioredis's Cluster has no cluster-wide SCAN, and refuses a pipeline (or
 * a script) whose keys live on several nodes, so such work is sent per primary, on ioredis's own
 * connection to that node, in parallel: one round trip per primary.
 */

/** A primary as the slot map names it (`host:port`, after --cluster-nat), and ioredis's connection to it. */
export interface ClusterNode {
  address: string
  redis: Redis
}

const addressOf = (redis: Redis): string => `${redis.options.host ?? ''}:${redis.options.port ?? ''}`

/** The primaries the current slot map knows, in address order. */
export function primaries(cluster: Cluster): ClusterNode[] {
  return cluster
    .nodes('master')
    .map((redis) => ({address: addressOf(redis), redis}))
    .sort((a, b) => a.address.localeCompare(b.address, 'en', {numeric: true}))
}

/** The address of the primary that owns `key`'s slot in the current slot map (undefined while no node serves it). */
export function ownerOf(cluster: Cluster, key: string): string | undefined {
  return cluster.slots[keySlot(key)]?.[0]
}

/** ioredis's connection to the primary that owns `key`'s slot, as the current slot map says. */
export function ownerNode(cluster: Cluster, key: string): Redis | undefined {
  const address = ownerOf(cluster, key)
  return address === undefined ? undefined : cluster.nodes('master').find((redis) => addressOf(redis) === address)
}

/** Ask a seed for the slot map again (CLUSTER SLOTS), resolving when it is in. */
export async function refreshSlots(cluster: Cluster): Promise<void> {
  await new Promise<void>((resolve) => {
    // A refresh that fails leaves the old map: the next try meets the same redirection and asks again.
    cluster.refreshSlotsCache(() => resolve())
  })
}

/**
 * A reply that says the work went to a node that no longer serves the slot, or that the cluster is
 * changing under it: MOVED, ASK (a slot being migrated), TRYAGAIN, CLUSTERDOWN, a connection to a
 * node that died. Sending again after a fresh slot map is right for all of them.
 */
export function isRedirection(error: unknown): boolean {
  return /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /.test(firstLineOf(error)) || isConnectionFailure(error)
}

/**
 * The retries of one piece of cluster work that meets redirections: the same bounds as ioredis's own
 * (CLUSTER_RETRY: every 250 ms for up to 30 s). `mayRetry(error)` says whether this error may be
 * tried again; `again()` waits and reads the slot map afresh before the next try.
 */
export function redirectionRetries(cluster: Cluster): {mayRetry: (error: unknown) => boolean; again: () => Promise<void>} {
  const deadline = Date.now() + CLUSTER_RETRY_MS
  return {
    mayRetry: (error) => isRedirection(error) && Date.now() < deadline,
    async again() {
      await sleep(CLUSTER_RETRY.retryDelayOnFailover)
      await refreshSlots(cluster)
    },
  }
}

/**
 * Run `work` once per primary with the items whose key it owns, in parallel, and give the results
 * back in the items' order. A part that meets a redirection (isRedirection: a slot migrated, a
 * failover) is sent again, regrouped by a fresh slot map, every 250 ms for up to 30 s (the same
 * bounds as ioredis's own retries, CLUSTER_RETRY); any other error fails the whole.
 */
export async function onEachOwner<T, R>(cluster: Cluster, items: readonly T[], keyOf: (item: T) => string, work: (node: ClusterNode, part: T[]) => Promise<R[]>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let waiting = items.map((item, index) => ({item, index}))
  const retries = redirectionRetries(cluster)
  for (let attempt = 0; waiting.length > 0; attempt++) {
    if (attempt > 0) await retries.again()
    const nodes = new Map(primaries(cluster).map((node) => [node.address, node]))
    const parts = new Map<ClusterNode, Array<{item: T; index: number}>>()
    for (const entry of waiting) {
      const node = nodes.get(ownerOf(cluster, keyOf(entry.item)) ?? '') ?? nodes.values().next().value
      if (node === undefined) throw new Error('CLUSTERDOWN the slot map names no primary')
      const part = parts.get(node) ?? []
      part.push(entry)
      parts.set(node, part)
    }
    const failed: Array<{item: T; index: number}> = []
    let lastError: unknown
    await Promise.all(
      [...parts].map(async ([node, part]) => {
        try {
          const replies = await work(node, part.map(({item}) => item))
          part.forEach(({index}, at) => {
            results[index] = replies[at] as R
          })
        } catch (error) {
          if (!retries.mayRetry(error)) throw error
          failed.push(...part)
        }
      }),
    )
    waiting = failed
  }
  return results
}

/**
 * The keys SCAN finds with these arguments (`MATCH … TYPE …`) on each primary (by address), one
 * cursor per primary, in parallel. A primary that fails over or loses slots meanwhile restarts the
 * scan over the new slot map (bounded as `onEachOwner`): no key is missed for a node that left.
 */
export async function scanEachPrimary(cluster: Cluster, scanArgs: ReadonlyArray<string | number>): Promise<Map<string, Set<string>>> {
  const retries = redirectionRetries(cluster)
  for (;;) {
    try {
      const perNode = await Promise.all(primaries(cluster).map(async ({address, redis}) => [address, new Set(await scanAll(redis, scanArgs))] as const))
      return new Map(perNode)
    } catch (error) {
      if (!retries.mayRetry(error)) throw error
      await retries.again()
    }
  }
}

async function scanAll(redis: Redis, scanArgs: ReadonlyArray<string | number>): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = (await redis.call('SCAN', cursor, ...scanArgs)) as [string, string[]]
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return keys
}
