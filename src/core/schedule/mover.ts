import {scheduleKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {callScript, SCHEDULE_MOVE} from '../scripts.js'

/** Messages moved per script call: each call holds Redis for its XADDs, so a large backlog goes in slices. */
export const MOVE_BATCH = 500

export interface MoveResult {
  moved: number
  /** In how many ms the next scheduled message is due; undefined when none is scheduled. */
  nextDueInMs: number | undefined
  /** Due members that are not messages qctl scheduled (another program wrote them): left in place. */
  foreign: number
}

/**
 * Append the due messages of `stream`'s schedule to the stream (src/lua/schedule-move-2.lua: each
 * moved and removed in one step), slice by slice until none is due. A refused XADD (OOM) throws,
 * after what was moved before it.
 */
export async function moveDue(redis: RedisClient, stream: string): Promise<MoveResult> {
  let moved = 0
  let foreign = 0
  for (;;) {
    const [count, nextDueInMs, error, bad] = (await callScript(redis, SCHEDULE_MOVE, [stream, scheduleKey(stream), MOVE_BATCH])) as [number, number, string | null, number]
    moved += Number(count)
    foreign = Math.max(foreign, Number(bad))
    if (error !== null) throw Object.assign(new Error(error), {moved})
    const next = Number(nextDueInMs)
    // A full slice may have left more due; a slice of foreign members only would come back the same.
    if (Number(count) < MOVE_BATCH || Number(count) === 0) return {moved, nextDueInMs: next < 0 ? undefined : next, foreign}
  }
}

/**
 * In how many ms each stream's next scheduled message is due (0: due now; undefined: none
 * scheduled), by Redis's clock: one read-only look (ZRANGE … 0 0 WITHSCORES and TIME, one round trip
 * per node), so a worker whose ACL user may only read the schedules learns whether there is anything
 * to move before it tries.
 */
export async function nextDue(redis: RedisClient, streams: readonly string[]): Promise<Array<number | undefined>> {
  const [seconds, micros] = await redis.time()
  const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  const replies = await pipelineByKey(redis, streams, (stream) => stream, (pipeline, stream) => pipeline.zrange(scheduleKey(stream), 0, 0, 'WITHSCORES'))
  return replies.map(([error, reply]) => {
    if (error !== null) throw error
    const score = (reply as string[])[1]
    return score === undefined ? undefined : Math.max(0, Number(score) - now)
  })
}
