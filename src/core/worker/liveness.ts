import type {RedisClient} from '../redis/client.js'
import {sleep} from '../sleep.js'
import {errorMessage} from './outcomes.js'

/**
 * How often an idle worker shows Redis it is alive. Well inside the one-minute window in which
 * `top`, `lag` and `inspect` count a consumer as active (ACTIVE_WINDOW_MS in stats/topic-reading.ts).
 */
export const LIVENESS_BEAT_MS = 10_000

/**
 * The largest stream ID but one: a history read from it returns nothing (no entry of this
 * consumer's pending list has a larger ID, short of one with the very largest), so it neither
 * delivers nor re-delivers anything. The largest ID itself gets a nil reply without the consumer
 * being looked up (measured on 7.0), hence one below it.
 */
const PAST_EVERY_ID = '18446744073709551615-18446744073709551614'

/**
 * The worker's own heartbeat, as Redis's consumer `idle` time shows it.
 *
 * Why: on Redis 7.0 a consumer's `idle` (XINFO CONSUMERS) counts from its last read that returned
 * something; a healthy worker blocked in XREADGROUP on a quiet topic grows idle without end and
 * looks dead to any monitor (and to a peer pruning dead consumers). A history read of its own
 * pending list does touch the consumer (measured: idle back to 0), and one that starts past every
 * ID reads nothing, so nothing is delivered or counted again. (Redis 7.2+ already refreshes `idle`
 * on every read attempt, blocked ones included; the beat is harmless there.)
 *
 * Runs on the command connection (the reader's is busy blocking) until `signal` aborts. A failed
 * beat is said once (`warn`) and retried at the next beat: it costs the monitors their signal, not
 * the worker its work.
 */
export async function livenessLoop(redis: RedisClient, target: {streams: readonly string[]; group: string; consumer: string}, signal: AbortSignal, warn: (message: string) => void): Promise<void> {
  let warned = false
  while (!signal.aborted) {
    try {
      // Every partition's group (a partitioned topic): sent together, one round trip per node.
      await Promise.all(target.streams.map(async (stream) => redis.xreadgroup('GROUP', target.group, target.consumer, 'COUNT', 1, 'STREAMS', stream, PAST_EVERY_ID)))
      warned = false
    } catch (error) {
      if (!warned && !signal.aborted) warn(`liveness beat failed, retrying in ${LIVENESS_BEAT_MS / 1000}s: ${errorMessage(error)}`)
      warned = true
    }
    await sleep(LIVENESS_BEAT_MS, signal)
  }
}
