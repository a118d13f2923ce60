import {retryDueKey, topicKeysShareSlot} from '../keys.js'
import {isCluster, type RedisClient} from '../redis/client.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {isNoSuchKey} from '../redis/reply-errors.js'
import {callScript, type ScriptSpec} from '../scripts.js'
import {infoObject} from '../stats/xinfo.js'
import {PARKED_CONSUMER} from '../worker/group-ops.js'

/**
 * The line below which a stream may be trimmed without taking anything a consumer group still needs,
 * and the trim itself, as one atomic step: src/lua/trim-behind-groups-n.lua (its header says how the
 * line is found). `qctl trim` and `qctl work --trim-acked` both trim through here.
 */

const TRIM_SCRIPT: ScriptSpec = {name: 'qctlTrimBehindGroups', file: 'trim-behind-groups-n.lua', keys: 'n'}

/** Why a group holds the line where it is. */
export type LineReason = 'pending' | 'undelivered' | 'parked' | 'missing'

/** The line of a stream: the first entry some group still needs, which group, and why. */
export interface TrimLine {
  /** Entries below this ID were delivered to every group and are pending in none. */
  minId: string
  group: string
  /**
   * `pending`: its oldest pending entry (`entryId`, pending to `consumer` for `idleMs`; a parked
   * retry when the consumer is `qctl:parked`); `undelivered`: `minId` is the first ID after its
   * last-delivered ID; `parked`: a parked retry (`entryId`) whose parked pseudo-consumer was deleted;
   * `missing`: a group of the topic that this partition does not have (its workers would make it
   * and read the partition from its start).
   */
  reason: LineReason
  entryId: string | null
  consumer: string | null
  idleMs: number | null
}

export type TrimMode = 'plan' | 'trim' | 'force'

export interface TrimCall {
  mode: TrimMode
  /** Trim entries below this ID; `+`: no rule, as far as the line. */
  rule: string
  /** Without any group (no line): trim at the rule, or keep everything. */
  whenNoGroups: 'rule' | 'keep'
  /** Groups whose due sets to read for parked retries left without their pseudo-consumer. */
  dueGroups?: readonly string[]
  /** Groups the stream must have (a partitioned topic's groups): one it lacks holds the line at its start. */
  expectedGroups?: readonly string[]
}

export interface TrimState {
  exists: boolean
  /** Entries before the call. */
  length: number
  /** Entries XTRIM removed (0 for `plan`). */
  removed: number
  /** The MINID used (or that a `trim` would use); null: nothing is trimmed. */
  trimAt: string | null
  /** Null: the stream has no group. */
  line: TrimLine | null
  groups: number
  /** The server's `XTRIM … ACKED` (Redis 8.2+): used (or would be), not available, or not probed (no stream, or XTRIM not allowed). */
  acked: boolean | null
}

const text = (value: unknown): string | null => (value === null || value === undefined || value === false ? null : String(value))

/** The script's reply as a TrimState (the reply is documented in the script's header). */
export function trimStateOf(reply: unknown[]): TrimState {
  const [length, removed, trimAt, line, group, reason, entryId, consumer, idleMs, groups, acked] = reply
  const lineId = text(line)
  return {
    exists: length !== null,
    length: Number(length ?? 0),
    removed: Number(removed),
    trimAt: text(trimAt),
    line: lineId === null ? null : {minId: lineId, group: String(group), reason: String(reason) as LineReason, entryId: text(entryId), consumer: text(consumer), idleMs: idleMs === false || idleMs === null ? null : Number(idleMs)},
    groups: Number(groups),
    acked: Number(acked) === -1 ? null : Number(acked) === 1,
  }
}

/**
 * Run the trim script on one stream (a plain topic, or one partition's stream). Due sets are named
 * only where they share the stream's slot (always, but for a topic with braces and no usable hash tag
 * on a cluster, whose derived keys live elsewhere).
 */
export async function trimBehindGroups(redis: RedisClient, stream: string, call: TrimCall): Promise<TrimState> {
  const dueGroups = isCluster(redis) && !topicKeysShareSlot(stream) ? [] : [...(call.dueGroups ?? [])]
  const keys = [stream, ...dueGroups.map((group) => retryDueKey(stream, group))]
  const args = [call.mode, call.rule, call.whenNoGroups, PARKED_CONSUMER, ...dueGroups, ...(call.expectedGroups ?? [])]
  return trimStateOf((await callScript(redis, TRIM_SCRIPT, [keys.length, ...keys, ...args])) as unknown[])
}

/** Each stream's group names (XINFO GROUPS, one round trip per node); a stream that does not exist has none. */
export async function groupsOf(redis: RedisClient, streams: readonly string[]): Promise<string[][]> {
  const replies = await pipelineByKey(redis, streams, (stream) => stream, (pipeline, stream) => pipeline.call('XINFO', 'GROUPS', stream))
  return replies.map(([error, reply]) => {
    if (error !== null) {
      if (isNoSuchKey(error)) return []
      throw error
    }
    return (reply as unknown[]).map((group) => String(infoObject(group).name))
  })
}
