import {QctlError, notFoundError} from '../errors.js'
import {groupStateKeys, membersKey, replayDueKey, replayKey, heldKeysKey, retryDueKey} from '../keys.js'
import {isCluster, type RedisClient} from '../redis/client.js'
import {keySlot} from '../redis/key-slot.js'
import {pipelineByKey} from '../redis/keyed-pipeline.js'
import {isWrongType} from '../redis/reply-errors.js'
import {callScript, type ScriptSpec} from '../scripts.js'
import {consumersOf, groupOn, liveConsumersOf, partitionList, readTopicGroups, type LiveConsumer} from './topic-groups.js'

const DELETE: ScriptSpec = {name: 'qctlGroupDelete', file: 'group-delete-n.lua', keys: 'n'}

/** One partition (a plain topic's one stream) in `group delete --json`. */
export interface DeletePartition {
  partition: number | null
  stream: string
  groupExists: boolean
  /** Delivered, not acknowledged: nobody would retry them. */
  pending: number
  /** Retries waiting out their backoff (the due sets of the topic and of the replay stream): part of `pending`. */
  parked: number
  /** Entries in the group's replay stream (dead letters replayed to it, no longer in the dead-letter stream). */
  replayEntries: number
  /** Keys the group holds (`qctl work --ordered --on-dead-letter hold-key`). */
  heldKeys: number
  consumers: number
  /** qctl's keys of the group here that exist (deleted with it). */
  keys: string[]
}

/** The result of `qctl group delete` (its `--json`). */
export interface GroupDeleteResult {
  topic: string
  group: string
  partitioned: boolean
  partitions: DeletePartition[]
  /** Every key deleted (or, with --dry-run, that would be) besides the group itself: its state on each partition, and the topic's members set. */
  keys: string[]
  pending: number
  parked: number
  replayEntries: number
  heldKeys: number
  liveConsumers: LiveConsumer[]
  force: boolean
  dryRun: boolean
  cancelled: boolean
  /** Partitions on which the group was destroyed, and keys Redis removed. */
  groupsDestroyed: number
  keysDeleted: number
}

type Ask = {key: string; op: 'exists' | 'zcard' | 'hlen' | 'xlen'}

/** What is asked of each partition, in this order: whether each of the group's keys exists, then its counts. */
function asksOf(stream: string, group: string): Ask[] {
  return [
    ...groupStateKeys(stream, group).map((key): Ask => ({key, op: 'exists'})),
    {key: retryDueKey(stream, group), op: 'zcard'},
    {key: replayDueKey(stream, group), op: 'zcard'},
    {key: heldKeysKey(stream, group), op: 'hlen'},
    {key: replayKey(stream, group), op: 'xlen'},
  ]
}

/** What `--force` would lose, one clause each (for the refusal, the question and the summary). */
export function losses(result: Pick<GroupDeleteResult, 'pending' | 'parked' | 'replayEntries' | 'heldKeys' | 'liveConsumers'>): string[] {
  const clauses: string[] = []
  const of = (count: number, one: string, many: string): string => `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`
  if (result.pending > 0) {
    const parked = result.parked > 0 ? `, ${result.parked.toLocaleString('en-US')} of them parked in the due set (retries waiting out their backoff)` : ''
    clauses.push(`${of(result.pending, 'pending entry', 'pending entries')} (delivered, not acknowledged: no worker of the group would retry them${parked})`)
  } else if (result.parked > 0) clauses.push(`${of(result.parked, 'parked retry', 'parked retries')} in the due set`)
  if (result.replayEntries > 0) clauses.push(`${of(result.replayEntries, 'entry', 'entries')} of its replay stream (dead letters replayed to it and not handled yet: they are no longer in the dead-letter stream)`)
  if (result.heldKeys > 0) clauses.push(`${of(result.heldKeys, 'held key', 'held keys')} (a new group of that name would not hold them)`)
  const live = new Set(result.liveConsumers.map((consumer) => consumer.name)).size
  if (live > 0) clauses.push(`${of(live, 'live consumer', 'live consumers')} (seen within the last minute: it fails with NOGROUP, and a qctl worker started again makes the group again at its --from)`)
  return clauses
}

/**
 * Plan `qctl group delete TOPIC GROUP`: on each partition the group, its pending entries, parked
 * retries, replay stream, held keys, consumers, and qctl's keys of it (keys.ts groupStateKeys; the
 * members set of the topic). Exits 6 when the topic does not exist, or neither the group nor any of
 * its keys does.
 */
export async function planGroupDelete(redis: RedisClient, topicName: string, group: string): Promise<GroupDeleteResult> {
  const topic = await readTopicGroups(redis, topicName)
  const perPartition = topic.partitions.map((partition) => asksOf(partition.stream, group))
  // The live workers of an ordered group share a partitioned topic's partitions through the topic's members set.
  const members = membersKey(topicName, group)
  const asks = [...perPartition.flat(), {key: members, op: 'exists'} satisfies Ask]
  const replies = await pipelineByKey(redis, asks, (ask) => ask.key, (pipeline, ask) => {
    if (ask.op === 'exists') pipeline.exists(ask.key)
    else if (ask.op === 'zcard') pipeline.zcard(ask.key)
    else if (ask.op === 'hlen') pipeline.hlen(ask.key)
    else pipeline.xlen(ask.key)
  })
  const values = replies.map(([error, reply]) => {
    if (error === null) return Number(reply)
    // A key of qctl's name holding something else: counted as nothing (deleted all the same).
    if (isWrongType(error)) return 0
    throw error
  })
  const consumers = await consumersOf(redis, topic.partitions.map((partition) => partition.stream), group)
  let at = 0
  const partitions: DeletePartition[] = topic.partitions.map((partition, index) => {
    const mine = (perPartition[index] ?? []).map((ask) => ({...ask, value: values[at++] ?? 0}))
    const count = (op: Ask['op']): number => mine.filter((ask) => ask.op === op).reduce((sum, ask) => sum + ask.value, 0)
    const found = groupOn(partition, group)
    return {
      partition: partition.partition,
      stream: partition.stream,
      groupExists: found !== undefined,
      pending: found?.pending ?? 0,
      parked: count('zcard'),
      replayEntries: count('xlen'),
      heldKeys: count('hlen'),
      consumers: consumers[index]?.length ?? 0,
      keys: mine.filter((ask) => ask.op === 'exists' && ask.value > 0).map((ask) => ask.key),
    }
  })
  const liveConsumers = liveConsumersOf(topic.partitions, consumers)
  const keys = [...partitions.flatMap((partition) => partition.keys), ...((values[at] ?? 0) > 0 ? [members] : [])]
  if (!partitions.some((partition) => partition.groupExists) && keys.length === 0) throw notFoundError(`group "${group}" does not exist on topic "${topicName}"`)
  const sum = (pick: (partition: DeletePartition) => number): number => partitions.reduce((total, partition) => total + pick(partition), 0)
  return {
    topic: topicName,
    group,
    partitioned: topic.partitioned,
    partitions,
    keys,
    pending: sum((partition) => partition.pending),
    parked: sum((partition) => partition.parked),
    replayEntries: sum((partition) => partition.replayEntries),
    heldKeys: sum((partition) => partition.heldKeys),
    liveConsumers,
    force: false,
    dryRun: false,
    cancelled: false,
    groupsDestroyed: 0,
    keysDeleted: 0,
  }
}

/** Refuse (exit 9) a delete that would lose something (pending entries, replayed entries, live consumers), unless forced, naming what `--force` loses. */
export function refuseLossyDelete(plan: GroupDeleteResult): void {
  const clauses = losses(plan)
  if (plan.pending === 0 && plan.replayEntries === 0 && plan.liveConsumers.length === 0) return
  const where = plan.partitioned ? ` (on partitions ${partitionList(plan.partitions.filter((partition) => partition.pending > 0 || partition.replayEntries > 0 || plan.liveConsumers.some((consumer) => consumer.partition === partition.partition)))})` : ''
  throw new QctlError('CONFLICT', `refusing to delete group "${plan.group}" of "${plan.topic}"${where}: --force would lose ${clauses.join('; ')}`, {
    suggestion: 'let its workers finish and stop them (qctl lag shows what is pending), or pass --force',
    details: {pending: plan.pending, parked: plan.parked, replayEntries: plan.replayEntries, heldKeys: plan.heldKeys, liveConsumers: plan.liveConsumers},
  })
}

/**
 * Delete the group on every partition with its keys: per partition one script on the stream's slot
 * (group-delete-n.lua), which without `force` checks again, in the same step, that nothing is pending
 * there; keys in another slot (a topic like `x}y` on a Redis Cluster) and the topic's members set after.
 */
export async function applyGroupDelete(redis: RedisClient, plan: GroupDeleteResult, force: boolean): Promise<GroupDeleteResult> {
  let groupsDestroyed = 0
  let keysDeleted = 0
  const elsewhere: string[] = plan.keys.filter((key) => !plan.partitions.some((partition) => partition.keys.includes(key)))
  const done: DeletePartition[] = []
  for (const partition of plan.partitions) {
    if (!partition.groupExists && partition.keys.length === 0) continue
    const together = isCluster(redis) ? partition.keys.filter((key) => keySlot(key) === keySlot(partition.stream)) : partition.keys
    elsewhere.push(...partition.keys.filter((key) => !together.includes(key)))
    const keys = [partition.stream, ...together]
    const replayAt = keys.indexOf(replayKey(partition.stream, plan.group)) + 1
    const reply = (await callScript(redis, DELETE, [keys.length, ...keys, plan.group, force ? '1' : '', replayAt])) as [number, number, number?]
    if (Number(reply[0]) === -1) {
      const before = done.length === 0 ? 'nothing was deleted' : `it was deleted on partitions ${partitionList(done)} before`
      const [, pending, replayEntries] = reply
      throw new QctlError('CONFLICT', `group "${plan.group}" of "${plan.topic}" has ${Number(pending)} pending entries and ${Number(replayEntries ?? 0)} replayed entries on ${partition.partition === null ? 'its stream' : `partition ${partition.partition}`}, got since qctl looked: ${before}, and nothing there or after`, {
        suggestion: 'stop its workers, then run it again (or pass --force)',
      })
    }
    const [destroyed, deleted] = reply
    groupsDestroyed += Number(destroyed)
    keysDeleted += Number(deleted)
    done.push(partition)
  }
  if (elsewhere.length > 0) {
    const replies = await pipelineByKey(redis, elsewhere, (key) => key, (pipeline, key) => pipeline.unlink(key))
    for (const [error, count] of replies) {
      if (error !== null) throw error
      keysDeleted += Number(count)
    }
  }
  return {...plan, force, groupsDestroyed, keysDeleted}
}
