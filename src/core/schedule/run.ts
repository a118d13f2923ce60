import {scheduleKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {resolveTopics} from '../partitions/metadata.js'
import {moveDue} from './mover.js'

/** What one pass of `qctl schedule run` did for a topic (its `--json` rows). */
export interface ScheduleRunRow {
  topic: string
  /** The topic's partitions (1 for a plain stream). */
  partitions: number
  /** Due messages appended to their streams. */
  moved: number
  /** Messages still scheduled (not due yet, or left: see `foreign`). */
  scheduled: number
  /** When the next one is due (ISO, by Redis's clock), or null when none is scheduled. */
  nextDueAt: string | null
  /** Due members another program wrote (not messages qctl scheduled): left in place. */
  foreign: number
}

/**
 * Append every due scheduled message of `topics` (each partition's schedule of a partitioned topic)
 * to its stream, as a running `qctl work` of the topic would (mover.ts), and say what is left.
 */
export async function runSchedules(redis: RedisClient, topics: readonly string[], nowMs: () => number): Promise<ScheduleRunRow[]> {
  const layouts = await resolveTopics(redis, topics)
  return Promise.all(
    layouts.map(async (layout) => {
      const results = await Promise.all(layout.streams.map(async (stream) => moveDue(redis, stream)))
      const left = await Promise.all(layout.streams.map(async (stream) => redis.zcard(scheduleKey(stream))))
      const next = results.map((result) => result.nextDueInMs).filter((ms): ms is number => ms !== undefined)
      return {
        topic: layout.topic,
        partitions: layout.streams.length,
        moved: results.reduce((sum, result) => sum + result.moved, 0),
        scheduled: left.reduce((sum, count) => sum + count, 0),
        nextDueAt: next.length === 0 ? null : new Date(nowMs() + Math.min(...next)).toISOString(),
        foreign: results.reduce((sum, result) => sum + result.foreign, 0),
      }
    }),
  )
}
