import {compareEntryIds, parseEntryId, type EntryId} from '../envelope/entry-id.js'
import type {EnvelopeEntry, InvalidEnvelope} from '../envelope/read-envelope.js'
import type {TopicLayout} from '../partitions/metadata.js'
import {partitionOfKey} from '../partitions/partition-hash.js'

export type Placement = {ok: true; partition: number; id: string} | InvalidEnvelope

const invalid = (problem: string): InvalidEnvelope => ({ok: false, code: 'INVALID_INPUT', problem: `--keep-ids: ${problem}`})

/**
 * Where `qctl publish --envelope --keep-ids` puts each entry, and whether its ID can be stored
 * there, checked from the input alone before anything is sent (README, "The envelope format"):
 *
 * - a plain target: every entry goes to its one stream;
 * - a partitioned target of N partitions: each entry to the partition its envelope names, which
 *   must exist, and which must be its key's (murmur2(key) mod N): the envelopes must come from a
 *   topic with the same partition count, so that an entry keeps both its ID and its key's partition;
 * - in each target stream the IDs must increase, as Redis stores them.
 *
 * Whether the first ID is above what the stream already holds only Redis can say (a publisher may
 * not read the stream): the publisher sends each stream's first entry alone, and stops there if
 * Redis refuses it.
 */
export class KeptIds {
  private readonly last = new Map<number, {id: EntryId; text: string}>()

  constructor(private readonly layout: TopicLayout) {}

  place(entry: EnvelopeEntry): Placement {
    if (entry.id === undefined) return invalid('the envelope has no "id"')
    const id = parseEntryId(entry.id)
    if (id === undefined) return invalid(`"id" ${JSON.stringify(entry.id)} is not an entry ID (<ms>-<seq>, as Redis writes it)`)
    if (id.ms === 0n && id.seq === 0n) return invalid('the ID 0-0 cannot be stored (Redis stores IDs above 0-0)')
    const partition = this.partitionOf(entry)
    if (typeof partition !== 'number') return partition
    const previous = this.last.get(partition)
    if (previous !== undefined && compareEntryIds(id, previous.id) <= 0) {
      const where = this.layout.metadata === undefined ? `"${this.layout.topic}"` : `partition ${partition} of "${this.layout.topic}"`
      return invalid(`ID ${entry.id} is not above ${previous.text}, the ID of an earlier line for ${where}: a stream's IDs increase (publish without --keep-ids to give the entries new IDs)`)
    }
    this.last.set(partition, {id, text: entry.id})
    return {ok: true, partition, id: entry.id}
  }

  private partitionOf(entry: EnvelopeEntry): number | InvalidEnvelope {
    const {topic, metadata} = this.layout
    if (metadata === undefined) return 0
    const count = metadata.partitions
    const partition = entry.partition
    if (partition === undefined || partition === null) {
      return invalid(`"${topic}" is partitioned and the envelope names no partition (it comes from a plain topic): an entry keeps its ID only in its own partition; publish without --keep-ids to route by key`)
    }
    if (partition >= count) return invalid(`partition ${partition} does not exist in "${topic}" (${count} partitions): the envelopes must come from a topic with as many partitions`)
    if (entry.key !== undefined) {
      const owner = partitionOfKey(entry.key, count)
      if (owner !== partition) {
        return invalid(`the key ${JSON.stringify(entry.key)} belongs to partition ${owner} of "${topic}" (${count} partitions), not to partition ${partition} the envelope comes from: the envelopes must come from a topic with as many partitions`)
      }
    }
    return partition
  }
}
