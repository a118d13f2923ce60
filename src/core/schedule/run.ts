import {usageError, type QctlError} from '../errors.js'
import {scheduleKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {keyTypes, topicNotAStream, typeNoun} from '../redis/key-type.js'
import {isWrongType} from '../redis/reply-errors.js'
import {resolveTopics} from '../partitions/metadata.js'
import {moveDue, type MoveResult} from './mover.js'

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
      const results = await Promise.all(layout.streams.map(async (stream) => movedOrNamed(redis, stream)))
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

/**
 * moveDue, with a WRONGTYPE (the topic's key, or its schedule, holds another type) said as the
 * other commands say it, naming the key and what it holds (exit 2), not as Redis's bare reply.
 */
async function movedOrNamed(redis: RedisClient, stream: string): Promise<MoveResult> {
  try {
    return await moveDue(redis, stream)
  } catch (error) {
    if (!isWrongType(error)) throw error
    throw (await wrongTypeOf(redis, stream, error)) ?? error
  }
}

async function wrongTypeOf(redis: RedisClient, stream: string, cause: unknown): Promise<QctlError | undefined> {
  const schedule = scheduleKey(stream)
  const types = await keyTypes(redis, [stream, schedule])
  const streamType = types.get(stream)
  if (streamType !== undefined && streamType !== 'stream' && streamType !== 'none') return topicNotAStream(stream, streamType, cause)
  const scheduleType = types.get(schedule)
  if (scheduleType !== undefined && scheduleType !== 'zset' && scheduleType !== 'none') {
    return usageError(`the schedule of "${stream}" ("${schedule}") is ${typeNoun(scheduleType)}, not a sorted set`, {cause, details: {key: schedule, type: scheduleType}})
  }
  return undefined
}
