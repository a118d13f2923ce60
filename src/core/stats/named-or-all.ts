import type {RedisClient} from '../redis/client.js'
import {resolveTopics} from '../partitions/metadata.js'
import {findPartitionedTopics} from '../topics/list.js'
import {layoutsOfFound, statsOfLayouts} from './partitioned-stats.js'
import {findTopicsAndDeadLetters, topicStats, type TopicStats, type TopicStatsOptions} from './topic-stats.js'

/**
 * The statistics `lag` and `group list` read: of the named topics (each resolved, partitioned or
 * plain; a named topic that is not a stream fails with exit 2, one that does not exist is left out),
 * or without names of every topic in the database (SCAN, `match` filtering: plain streams minus
 * dead-letter and replay streams, and partitioned topics by their metadata).
 */
export async function statsOfNamedOrAll(
  redis: RedisClient,
  topics: readonly string[] | undefined,
  options: {match?: string | undefined; onWarning?: ((message: string) => void) | undefined; reading?: TopicStatsOptions['reading']},
): Promise<TopicStats[]> {
  const found = topics === undefined ? await findTopicsAndDeadLetters(redis, options.match) : undefined
  const layouts = topics === undefined ? layoutsOfFound(found?.topics ?? [], await findPartitionedTopics(redis, options.match)) : await resolveTopics(redis, topics)
  return statsOfLayouts(layouts, async (streams) =>
    topicStats(redis, streams, {named: topics !== undefined, onWarning: options.onWarning, deadLetterStreams: found?.deadLetterStreams, reading: options.reading}),
  )
}
