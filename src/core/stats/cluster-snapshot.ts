import type {Cluster} from 'ioredis'

import {ownerOf, primaries, redirectionRetries, type ClusterNode} from '../redis/cluster-nodes.js'
import type {FocusDetail, TopicSnapshot} from './snapshot.js'
import {readSnapshot, type NotAStream, type SnapshotExtras} from './snapshot-source.js'

/** What a cluster reading asks beyond the topics: as `SnapshotExtras`, with a SCAN cursor per primary. */
export interface ClusterSnapshotExtras extends Omit<SnapshotExtras, 'scan'> {
  /** One SCAN step per primary (by address) from these cursors; a primary not listed starts at 0. */
  scan?: {cursors: ReadonlyMap<string, string>; match: string}
}

export interface ClusterReading {
  at: number
  /** Each row with the address of the primary it was read from. */
  topics: TopicSnapshot[]
  focus: FocusDetail | null
  notStreams: NotAStream[]
  /** Per primary read this time: its SCAN step's reply. */
  scanned: Map<string, {cursor: string; keys: string[]}>
  /** The primaries of the slot map the reading was made with. */
  nodes: string[]
}

interface NodePart {
  node: ClusterNode
  topics: string[]
  deadLetterStreams: string[]
  focus: boolean
}

/**
 * One reading of a Redis Cluster for `top`: per primary, in parallel, `readSnapshot` of the topics
 * and dead-letter streams it owns, with its own SCAN step and, on the owner of the focused topic,
 * the focus detail: one round trip per primary. A part that meets a redirection (the slot moved,
 * the node failed over) is read again, alone, from the owners a fresh slot map names (every 250 ms,
 * up to 30 s, as every cluster retry: cluster-connection.ts), so a refresh during a migration shows
 * every row once, from where it lives now, never a stale one or none.
 */
export async function readClusterSnapshot(cluster: Cluster, topics: readonly string[], extras: ClusterSnapshotExtras): Promise<ClusterReading> {
  const {scan: _scan, ...rest} = extras
  const result: ClusterReading = {at: 0, topics: [], focus: null, notStreams: [], scanned: new Map(), nodes: []}
  const order = new Map<string, number>()
  topics.forEach((topic, index) => order.set(topic, index))
  ;(extras.deadLetterStreams ?? []).forEach((stream, index) => order.set(`\u0000${stream}`, topics.length + index))
  let waiting = {topics: [...topics], deadLetterStreams: [...(extras.deadLetterStreams ?? [])], focus: extras.focus ?? null}
  const scanned = new Set<string>()
  const retries = redirectionRetries(cluster)
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) await retries.again()
    const nodes = primaries(cluster)
    result.nodes = nodes.map((node) => node.address)
    const parts = partition(cluster, nodes, waiting.topics, waiting.deadLetterStreams, waiting.focus?.topic)
    const failed: NodePart[] = []
    await Promise.all(
      parts.map(async (part) => {
        const address = part.node.address
        const scan = extras.scan !== undefined && !scanned.has(address) ? {cursor: extras.scan.cursors.get(address) ?? '0', match: extras.scan.match} : undefined
        try {
          const reading = await readSnapshot(
            part.node.redis,
            part.topics,
            {...rest, focus: part.focus ? waiting.focus : null, retryIds: part.focus ? (extras.retryIds ?? []) : [], deadLetterStreams: part.deadLetterStreams, ...(scan === undefined ? {} : {scan})},
            true,
          )
          result.at = Math.max(result.at, reading.snapshot.at)
          for (const row of reading.snapshot.topics) result.topics.push({...row, node: address})
          if (part.focus) result.focus = reading.snapshot.focus
          result.notStreams.push(...reading.notStreams)
          if (reading.scanned !== undefined) {
            result.scanned.set(address, reading.scanned)
            scanned.add(address)
          }
        } catch (error) {
          if (!retries.mayRetry(error)) throw error
          failed.push(part)
        }
      }),
    )
    if (failed.length === 0) break
    waiting = {
      topics: failed.flatMap((part) => part.topics),
      deadLetterStreams: failed.flatMap((part) => part.deadLetterStreams),
      focus: failed.some((part) => part.focus) ? waiting.focus : null,
    }
  }
  // Rows in the order asked (topics, then dead-letter streams), whichever primary answered first.
  const rank = (row: TopicSnapshot): number => order.get(row.kind === 'dead-letter-stream' ? `\u0000${row.topic}` : row.topic) ?? Number.MAX_SAFE_INTEGER
  result.topics.sort((a, b) => rank(a) - rank(b))
  return result
}

/** The topics, dead-letter streams and focus each primary owns; every primary gets a part (for its SCAN step). */
function partition(cluster: Cluster, nodes: readonly ClusterNode[], topics: readonly string[], deadLetterStreams: readonly string[], focusTopic: string | undefined): NodePart[] {
  const parts = new Map<string, NodePart>(nodes.map((node) => [node.address, {node, topics: [], deadLetterStreams: [], focus: false}]))
  const first = nodes[0]
  const partOf = (key: string): NodePart | undefined => parts.get(ownerOf(cluster, key) ?? '') ?? (first === undefined ? undefined : parts.get(first.address))
  for (const topic of topics) partOf(topic)?.topics.push(topic)
  for (const stream of deadLetterStreams) partOf(stream)?.deadLetterStreams.push(stream)
  if (focusTopic !== undefined) {
    const part = partOf(focusTopic)
    if (part !== undefined) part.focus = true
  }
  return [...parts.values()]
}
