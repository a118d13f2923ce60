import {metadataStart} from '../dlq/entry.js'
import {deadLetterKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'

/** Entries read per XRANGE call while counting a dead-letter stream by group. */
export const DEAD_LETTER_PAGE = 1000

/** A topic's dead letters by the group that dead-lettered them (`dlq.group`); `unattributed`: entries that name no group. */
export interface DeadLettersByGroup {
  byGroup: Map<string, number>
  unattributed: number
}

/** The `dlq.group` of an entry: in its metadata block (after the original fields), as src/core/dlq/entry.ts reads it. */
function groupOf(pairs: readonly string[]): string | undefined {
  let group: string | undefined
  for (let i = metadataStart(pairs); i + 1 < pairs.length; i += 2) if (pairs[i] === 'dlq.group') group = pairs[i + 1]
  return group
}

/**
 * Counts the dead-letter streams of `topics` by group, reading every entry (XRANGE pages of
 * DEAD_LETTER_PAGE, one pipeline per page across all topics; per primary on a cluster). Redis keeps no such count, so the
 * cost grows with the dead-letter streams' length: `lag` asks only for topics where the answer
 * differs from the total (several groups, or --group named) and that have dead letters.
 */
export async function deadLettersByGroup(redis: RedisClient, topics: readonly string[]): Promise<Map<string, DeadLettersByGroup>> {
  const counts = new Map<string, DeadLettersByGroup>(topics.map((topic) => [topic, {byGroup: new Map(), unattributed: 0}]))
  let cursors = topics.map((topic) => ({topic, after: '-'}))
  while (cursors.length > 0) {
    const replies = await pipelineByKey(redis, cursors, ({topic}) => deadLetterKey(topic), (pipeline, {topic, after}) => pipeline.xrange(deadLetterKey(topic), after, '+', 'COUNT', DEAD_LETTER_PAGE))
    const next: typeof cursors = []
    cursors.forEach(({topic}, index) => {
      const [error, value] = replies[index] ?? [new Error('missing reply'), null]
      // Deleted or replaced since the lengths were read: what was counted so far stands.
      if (error !== null) return
      const entries = value as Array<[string, string[]]>
      const count = counts.get(topic) as DeadLettersByGroup
      for (const [, pairs] of entries) {
        const group = groupOf(pairs)
        if (group === undefined) count.unattributed++
        else count.byGroup.set(group, (count.byGroup.get(group) ?? 0) + 1)
      }
      const last = entries.at(-1)
      if (entries.length === DEAD_LETTER_PAGE && last !== undefined) next.push({topic, after: `(${last[0]}`})
    })
    cursors = next
  }
  return counts
}
