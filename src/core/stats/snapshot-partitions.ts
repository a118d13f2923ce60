import {QctlError} from '../errors.js'
import {deadLetterKey, topicMetadataKey, topicsOfDeadLetterKey} from '../keys.js'
import {mayBePartitioned, parseMetadata, type TopicLayout} from '../partitions/metadata.js'
import {topicOfMetadataKey, type MetadataReply} from './snapshot-metadata.js'

/**
 * Every this many refreshes, `top` reads again the metadata of every partitioned topic it knows (and
 * of every TOPIC named on the command line), in that refresh's one pipeline: a `topic alter` (more
 * partitions) or `topic delete` shows within 10 refreshes (10 s at the default --interval), at the
 * cost of one HGETALL per partitioned topic every 10 refreshes.
 */
export const METADATA_REREAD_EVERY = 10

/**
 * A stream named like a partition (`{<topic>:p<i>:<salt>}`, keys.ts partitionStreamKey). The name is
 * only a hint of which topic's metadata to read; the metadata alone says what a partition is.
 */
const PARTITION_LIKE = /^\{([^{}]+):p\d+:[0-9a-z]+\}$/

const byTopic = (a: TopicLayout, b: TopicLayout): number => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0)

const sameStreams = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((stream, index) => stream === b[index])

/**
 * The partitioned topics `top` shows, kept up to date without a round trip of their own: what a
 * refresh should read of their metadata (toRead), and what its replies and its metadata SCAN step
 * found (absorb, absorbScan); the partitions' streams and everything derived from them are never
 * rows of their own (excludes).
 */
export class PartitionedTopics {
  private readonly layouts = new Map<string, TopicLayout>()
  /** The known topics' partition streams and their dead-letter streams (replay streams are never rows anyway). */
  private partitionKeys = new Set<string>()
  /** Topics whose metadata the next refresh reads (until a reply comes). */
  private readonly queued = new Set<string>()
  /** Streams named like a partition of no known topic, held back from the rows until their topic's metadata is read: stream -> topic. */
  private readonly unconfirmed = new Map<string, string>()
  /** Streams named like a partition that their topic's metadata does not list: plain streams after all. */
  private readonly lookalikes = new Set<string>()
  /** Topics whose metadata key is not a hash or not a record qctl wrote (warned): the SCAN does not queue them again, the periodic re-read does. */
  private readonly refused = new Set<string>()
  private refreshes = 0
  /** Goes up whenever the topics or the keys excluded from rows change: the source works its lists out again. */
  version = 0

  /** `named`: the TOPIC arguments (their metadata is re-read too: one may be created partitioned later), or undefined when discovering. */
  constructor(
    initial: readonly TopicLayout[],
    private readonly named?: readonly string[],
  ) {
    for (const layout of initial) if (layout.metadata !== undefined) this.layouts.set(layout.topic, layout)
    this.rebuildKeys()
  }

  has(topic: string): boolean {
    return this.layouts.has(topic)
  }

  get(topic: string): TopicLayout | undefined {
    return this.layouts.get(topic)
  }

  /** The known partitioned topics, by name. */
  list(): TopicLayout[] {
    return [...this.layouts.values()].sort(byTopic)
  }

  /** The topics whose metadata this refresh reads: those queued, and every METADATA_REREAD_EVERY refreshes every known (or named) one. Call once per refresh. */
  toRead(): string[] {
    this.refreshes++
    const topics = new Set(this.queued)
    if (this.refreshes % METADATA_REREAD_EVERY === 0) {
      for (const topic of this.layouts.keys()) topics.add(topic)
      for (const topic of this.refused) topics.add(topic)
      for (const topic of this.named ?? []) if (mayBePartitioned(topic)) topics.add(topic)
    }
    return [...topics]
  }

  /**
   * Whether a stream key found by SCAN must stay out of the rows: a partition's stream or dead-letter
   * stream; or one named like a partition whose topic's metadata is not read yet (it is queued for
   * the next refresh): a topic created after `top` started would otherwise flash its partitions as
   * rows of their own until its metadata key is found.
   */
  excludes(key: string): boolean {
    if (this.partitionKeys.has(key)) return true
    const stream = PARTITION_LIKE.test(key) ? key : topicsOfDeadLetterKey(key).find((topic) => PARTITION_LIKE.test(topic))
    if (stream === undefined || this.lookalikes.has(stream)) return false
    const topic = PARTITION_LIKE.exec(stream)?.[1] as string
    // Of a topic not known yet, or a partition its known metadata does not list yet (a `topic alter`).
    this.unconfirmed.set(stream, topic)
    this.queued.add(topic)
    return true
  }

  /** A metadata SCAN step's keys: topics not known yet are read in the next refresh. */
  absorbScan(keys: readonly string[]): void {
    for (const key of keys) {
      const topic = topicOfMetadataKey(key)
      if (topic !== undefined && !this.layouts.has(topic) && !this.refused.has(topic)) this.queued.add(topic)
    }
  }

  /** The metadata a refresh read; returns warnings (a metadata key that is not a hash, or not qctl's record: the topic stays as it was). */
  absorb(replies: ReadonlyMap<string, MetadataReply>): string[] {
    const warnings: string[] = []
    let changed = false
    for (const [topic, reply] of replies) {
      this.queued.delete(topic)
      if (reply.state === 'none') {
        // Deleted (topic delete), or a plain topic after all.
        this.refused.delete(topic)
        changed = this.layouts.delete(topic) || changed
        continue
      }
      if (reply.state === 'not-a-hash') {
        this.refused.add(topic)
        warnings.push(`the metadata key of topic "${topic}" (${topicMetadataKey(topic)}) is not a hash: not read as a partitioned topic`)
        continue
      }
      try {
        const metadata = parseMetadata(topic, reply.fields)
        this.refused.delete(topic)
        const known = this.layouts.get(topic)
        if (known === undefined || !sameStreams(known.streams, metadata.streams)) {
          this.layouts.set(topic, {topic, streams: metadata.streams, metadata})
          changed = true
        }
      } catch (error) {
        if (!(error instanceof QctlError)) throw error
        this.refused.add(topic)
        warnings.push(error.message)
      }
    }
    if (changed) this.rebuildKeys()
    for (const [stream, topic] of this.unconfirmed) {
      if (!replies.has(topic)) continue
      this.unconfirmed.delete(stream)
      if (!this.partitionKeys.has(stream)) this.lookalikes.add(stream)
      changed = true
    }
    if (changed) this.version++
    return warnings
  }

  private rebuildKeys(): void {
    const keys = new Set<string>()
    for (const layout of this.layouts.values()) {
      for (const stream of layout.streams) {
        keys.add(stream)
        keys.add(deadLetterKey(stream))
      }
    }
    this.partitionKeys = keys
  }
}
