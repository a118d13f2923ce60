import type {Cluster} from 'ioredis'

import {topicMetadataKey} from '../keys.js'
import {ownerOf, primaries, redirectionRetries, type ClusterNode} from '../redis/cluster-nodes.js'
import type {FocusDetail, TopicSnapshot} from './snapshot.js'
import {mergeFocusParts, type FocusPart, type FocusStream} from './snapshot-focus.js'
import type {MetadataReply} from './snapshot-metadata.js'
import {readSnapshot, type NotAStream, type SnapshotExtras} from './snapshot-source.js'

type ScanStep = {cursor: string; keys: string[]}

/** What a cluster reading asks beyond the topics: as `SnapshotExtras`, with SCAN cursors per primary. */
export interface ClusterSnapshotExtras extends Omit<SnapshotExtras, 'scan' | 'metadataScan'> {
  /** One SCAN step per primary (by address) from these cursors; a primary not listed starts at 0. */
  scan?: {cursors: ReadonlyMap<string, string>; match: string}
  /** One metadata SCAN step per primary (partitioned topics' `qctl:topic:{<match>}` keys), likewise. */
  metadataScan?: {cursors: ReadonlyMap<string, string>; match: string}
}

export interface ClusterReading {
  at: number
  /** Each row with the address of the primary it was read from. */
  topics: TopicSnapshot[]
  focus: FocusDetail | null
  notStreams: NotAStream[]
  /** Per primary read this time: its SCAN step's reply. */
  scanned: Map<string, ScanStep>
  /** Per primary read this time: its metadata SCAN step's reply. */
  metadataScanned: Map<string, ScanStep>
  /** The metadata hashes asked for, by topic (each read from the primary that owns its key). */
  metadata: Map<string, MetadataReply>
  /** The primary each topic (or partition stream) asked for was read from, row or not. */
  nodeOf: Map<string, string>
  /** The primaries of the slot map the reading was made with. */
  nodes: string[]
}

interface NodePart {
  node: ClusterNode
  topics: string[]
  deadLetterStreams: string[]
  /** The focused group's streams this primary owns (a partitioned topic's partitions may be on several). */
  focusStreams: FocusStream[]
  metadataTopics: string[]
}

/** What is still to read: all of it at first, then the parts that met a redirection. */
interface Waiting {
  topics: string[]
  deadLetterStreams: string[]
  focusStreams: FocusStream[]
  metadataTopics: string[]
}

/**
 * One reading of a Redis Cluster for `top`: per primary, in parallel, `readSnapshot` of the topics
 * (and partition streams) and dead-letter streams it owns, with its own SCAN steps, the metadata
 * hashes whose keys it owns and, on the owners of the focused group's streams, their detail: one
 * round trip per primary. A part that meets a redirection (the slot moved, the node failed over) is
 * read again, alone, from the owners a fresh slot map names (every 250 ms, up to 30 s, as every
 * cluster retry: cluster-connection.ts), so a refresh during a migration shows every row once, from
 * where it lives now, never a stale one or none.
 */
export async function readClusterSnapshot(cluster: Cluster, topics: readonly string[], extras: ClusterSnapshotExtras): Promise<ClusterReading> {
  const {scan: _scan, metadataScan: _metadataScan, focus, ...rest} = extras
  const result: ClusterReading = {at: 0, topics: [], focus: null, notStreams: [], scanned: new Map(), metadataScanned: new Map(), metadata: new Map(), nodeOf: new Map(), nodes: []}
  const order = new Map<string, number>()
  topics.forEach((topic, index) => order.set(topic, index))
  ;(extras.deadLetterStreams ?? []).forEach((stream, index) => order.set(`\u0000${stream}`, topics.length + index))
  let waiting: Waiting = {topics: [...topics], deadLetterStreams: [...(extras.deadLetterStreams ?? [])], focusStreams: [...(focus?.streams ?? [])], metadataTopics: [...(extras.metadataTopics ?? [])]}
  const parts: FocusPart[] = []
  const scanned = new Set<string>()
  const retries = redirectionRetries(cluster)
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) await retries.again()
    const nodes = primaries(cluster)
    result.nodes = nodes.map((node) => node.address)
    const failed: NodePart[] = []
    await Promise.all(
      partsByOwner(cluster, nodes, waiting).map(async (part) => {
        const address = part.node.address
        const first = !scanned.has(address)
        const cursor = (scan: ClusterSnapshotExtras['scan']): {cursor: string; match: string} | undefined =>
          scan === undefined || !first ? undefined : {cursor: scan.cursors.get(address) ?? '0', match: scan.match}
        const scan = cursor(extras.scan)
        const metadataScan = cursor(extras.metadataScan)
        const partFocus = focus === undefined || focus === null || part.focusStreams.length === 0 ? null : {...focus, streams: part.focusStreams}
        try {
          const reading = await readSnapshot(
            part.node.redis,
            part.topics,
            {...rest, focus: partFocus, deadLetterStreams: part.deadLetterStreams, metadataTopics: part.metadataTopics, ...(scan === undefined ? {} : {scan}), ...(metadataScan === undefined ? {} : {metadataScan})},
            true,
          )
          result.at = Math.max(result.at, reading.snapshot.at)
          for (const row of reading.snapshot.topics) result.topics.push({...row, node: address})
          for (const topic of part.topics) result.nodeOf.set(topic, address)
          for (const focusPart of reading.focusParts) parts.push(focusPart)
          for (const [topic, reply] of reading.metadata) result.metadata.set(topic, reply)
          result.notStreams.push(...reading.notStreams)
          if (reading.scanned !== undefined) result.scanned.set(address, reading.scanned)
          if (reading.metadataScanned !== undefined) result.metadataScanned.set(address, reading.metadataScanned)
          if (scan !== undefined || metadataScan !== undefined) scanned.add(address)
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
      focusStreams: failed.flatMap((part) => part.focusStreams),
      metadataTopics: failed.flatMap((part) => part.metadataTopics),
    }
  }
  result.focus = focus === undefined || focus === null ? null : mergeFocusParts(focus, parts)
  // Rows in the order asked (topics, then dead-letter streams), whichever primary answered first.
  const rank = (row: TopicSnapshot): number => order.get(row.kind === 'dead-letter-stream' ? `\u0000${row.topic}` : row.topic) ?? Number.MAX_SAFE_INTEGER
  result.topics.sort((a, b) => rank(a) - rank(b))
  return result
}

/** What each primary owns of what is waiting; every primary gets a part (for its SCAN steps). */
function partsByOwner(cluster: Cluster, nodes: readonly ClusterNode[], waiting: Waiting): NodePart[] {
  const parts = new Map<string, NodePart>(nodes.map((node) => [node.address, {node, topics: [], deadLetterStreams: [], focusStreams: [], metadataTopics: []}]))
  const first = nodes[0]
  const partOf = (key: string): NodePart | undefined => parts.get(ownerOf(cluster, key) ?? '') ?? (first === undefined ? undefined : parts.get(first.address))
  for (const topic of waiting.topics) partOf(topic)?.topics.push(topic)
  for (const stream of waiting.deadLetterStreams) partOf(stream)?.deadLetterStreams.push(stream)
  for (const stream of waiting.focusStreams) partOf(stream.stream)?.focusStreams.push(stream)
  for (const topic of waiting.metadataTopics) partOf(topicMetadataKey(topic))?.metadataTopics.push(topic)
  return [...parts.values()]
}
