import {notFoundError} from '../errors.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {decodeDlqEntry, type DlqEntry} from './entry.js'
import {findByOriginId, originMatch, parseShowId, showDlqEntry, type DlqShowResult} from './list.js'
import {dlqErrorIn} from './read.js'
import {refuseAmbiguous, type DlqPart, type DlqScope} from './scope.js'

/**
 * `qctl dlq show` over a scope. A plain topic (or one partition) is looked up as before. Over
 * several partitions: the ID as a dead-letter ID in every partition's dead-letter stream at once (one
 * round trip, one per primary on a cluster); else as an origin ID in each (each partition's stream
 * has its own IDs, so an origin ID is looked for among the entries of that partition's stream). An
 * ID that matches in several partitions is refused (exit 2) naming them: `--partition` says which.
 * A dead-letter ID match wins over an origin ID match, as on a plain topic.
 */
export async function showInScope(redis: RedisClient, scope: DlqScope, text: string): Promise<DlqShowResult> {
  const [only, ...others] = scope.parts
  if (only !== undefined && others.length === 0) {
    const result = await showDlqEntry(redis, {key: only.key, topic: only.stream, id: text, partitionOf: scope.partitioned ? scope.topic : undefined})
    return {...result, entry: {...result.entry, partition: only.partition}}
  }
  const {id, ms} = parseShowId(text)
  const byDlqId = await entryInEach(redis, scope.parts, id)
  const found = scope.parts.flatMap((part, index) => {
    const entry = byDlqId[index]
    return entry === undefined ? [] : [{part, entry}]
  })
  refuseAmbiguous(scope, id, 'dead-letter ID', found.map(({part}) => part.partition ?? 0))
  const [hit] = found
  if (hit !== undefined) return {entry: hit.entry, dlq: hit.part.key, matchedBy: 'dlqId', otherMatches: []}

  const byOrigin = await Promise.all(scope.parts.map(async (part) => findByOriginId(redis, part.key, part.stream, id, ms, part.partition, scope.partitioned ? scope.topic : undefined)))
  const matched = scope.parts.flatMap((part, index) => {
    const result = originMatch(byOrigin[index] ?? [], part.key)
    return result === undefined ? [] : [{part, result}]
  })
  refuseAmbiguous(scope, id, 'origin ID', matched.map(({part}) => part.partition ?? 0))
  const [origin] = matched
  if (origin !== undefined) return origin.result
  throw notFoundError(`no entry ${id} in the dead-letter streams of the ${scope.parts.length} partitions of ${scope.topic} (as a dead-letter ID or an origin ID)`, {
    suggestion: 'list the entries with qctl dlq list TOPIC',
  })
}

/** The entry with dead-letter ID `id` in each part's dead-letter stream (undefined where there is none), in one round trip per primary. */
async function entryInEach(redis: RedisClient, parts: readonly DlqPart[], id: string): Promise<Array<DlqEntry | undefined>> {
  const replies = await pipelineByKey(redis, parts, (part) => part.key, (pipeline, part) => pipeline.xrange(part.key, id, id))
  const entries: Array<DlqEntry | undefined> = []
  for (const [index, part] of parts.entries()) {
    const [error, rows] = replies[index] ?? [new Error('no reply'), null]
    if (error !== null) throw await dlqErrorIn(redis, error, part.key)
    const row = (rows as Array<[string, string[]]>)[0]
    entries.push(row === undefined ? undefined : decodeDlqEntry(row[0], row[1], part.partition))
  }
  return entries
}
