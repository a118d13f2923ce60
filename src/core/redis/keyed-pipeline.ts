import type {ChainableCommander} from 'ioredis'

import {isCluster, type RedisClient} from './client.js'
import {isRedirection, onEachOwner} from './cluster-nodes.js'

/** One command's reply in a pipeline: its error, or its value. */
export type PipelineReply = [Error | null, unknown]

/**
 * One command per item, pipelined, each keyed on `keyOf(item)`; replies in the items' order, errors
 * as values. On one server: one pipeline. On a Redis Cluster, which refuses a pipeline over several
 * nodes: one per primary, in parallel (cluster-nodes.ts), a node's part sent again after a fresh slot
 * map when one of its replies is a redirection (MOVED, ASK, a failover).
 */
export async function pipelineByKey<T>(client: RedisClient, items: readonly T[], keyOf: (item: T) => string, add: (pipeline: ChainableCommander, item: T) => void): Promise<PipelineReply[]> {
  if (items.length === 0) return []
  const send = async (target: RedisClient, part: readonly T[]): Promise<PipelineReply[]> => {
    const pipeline = target.pipeline()
    for (const item of part) add(pipeline, item)
    const replies = ((await pipeline.exec()) ?? []) as PipelineReply[]
    return part.map((_item, index) => replies[index] ?? [new Error('missing reply'), null])
  }
  if (!isCluster(client)) return send(client, items)
  return onEachOwner(client, items, keyOf, async (node, part) => {
    const replies = await send(node.redis, part)
    const redirected = replies.find(([error]) => error !== null && isRedirection(error))
    if (redirected !== undefined) throw redirected[0]
    return replies
  })
}
