import {QctlError, usageError} from '../errors.js'
import {replayKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {keyTypeOf, notAStreamText} from '../redis/key-type.js'
import {classifyRedisError, isErrorReply, isWrongType, type RedisErrorContext} from '../redis/redis-errors.js'
import {callScript, type ScriptSpec} from '../scripts.js'
import {sleep} from '../sleep.js'
import {pacing} from './pacing.js'
import type {DlqPlan} from './plan.js'
import {dlqLength, getDlqEntries} from './read.js'

const REPLAY: ScriptSpec = {name: 'qctlReplay', file: 'replay-2.lua', keys: 2}

/** Where replayed entries go: a group's replay stream, or (`--to-topic`, group null) the topic itself. */
export interface ReplayTarget {
  group: string | null
  key: string
  /** Entries moved there (with dryRun, that would move there). */
  entries: number
}

/** The result of `qctl dlq replay` (its `--json` output). */
export interface ReplayResult {
  /** The dead-letter stream. */
  dlq: string
  /** The topic whose messages are replayed. */
  topic: string
  /** Appended to the topic itself, for every group (`--to-topic`), instead of to the replay streams of the groups that failed them. */
  toTopic: boolean
  /** Per target, in the order first used. */
  targets: ReplayTarget[]
  /** Selected entries that record no group (written by another program): left in the dead-letter stream, unless toTopic. */
  withoutGroup: number
  dryRun: boolean
  /** Answered no at the confirmation prompt: nothing changed. */
  cancelled: boolean
  /** Entries selected. */
  selected: number
  /** Entries moved to their replay streams (or, with toTopic, onto the topic). */
  replayed: number
  /** Selected, but gone when their turn came (replayed or purged by someone else meanwhile). */
  skipped: number
  /** Entries left in the dead-letter stream afterwards. */
  remaining: number
  /** The new entry IDs (in the replay streams, or the topic), in replay order; with dryRun, the dead-letter IDs that would move. */
  ids: string[]
  /** `--id` values not found in the dead-letter stream. */
  notFound: string[]
  durationMs: number
}

export interface ReplayProgress {
  replayed: number
  skipped: number
  total: number
}

export interface ReplayOptions {
  topic: string
  /** Append to the topic (every group handles the entries again) instead of to the replay stream of the group that failed each. */
  toTopic?: boolean | undefined
  /** The entries were selected by this group (`--group`): their target is known without reading them again. */
  group?: string | undefined
  /** Entries per second at most; unlimited when undefined. */
  ratePerSecond?: number | undefined
}

export interface ReplayHooks {
  /** Stop after the batch in flight: the run ends with an INTERRUPTED error saying how far it got. */
  signal?: AbortSignal | undefined
  onProgress?: ((progress: ReplayProgress) => void) | undefined
  /** To name the server in connection errors. */
  errorContext?: RedisErrorContext | undefined
  now?: () => Date
  /** Shared by the replays of several dead-letter streams (a partitioned topic's): see ReplayRun. */
  run?: ReplayRun | undefined
}

/**
 * One replay over several dead-letter streams (a partitioned topic's partitions, one after the
 * other): `--rate` holds over the whole run (the schedule counts every entry sent before, from the
 * first send), and progress and errors count the whole run. The caller adds each stream's replayed
 * and skipped entries when its replayPlan returns.
 */
export interface ReplayRun {
  /** When the first move was sent; the --rate schedule counts from there. */
  pacedFrom?: number | undefined
  /** Entries already scheduled (sent or skipped) by this run. */
  scheduled: number
  /** Replayed and skipped by the streams done before. */
  replayed: number
  skipped: number
  /** Entries selected over the whole run. */
  total: number
}

/** Where an entry dead-lettered by `group` goes; undefined when it records no group and the replay is not to the topic. */
export function targetOf(topic: string, group: string | null, toTopic: boolean): {group: string | null; key: string} | undefined {
  if (toTopic) return {group: null, key: topic}
  return group === null ? undefined : {group, key: replayKey(topic, group)}
}

/** Counts entries per target, in the order each target is first used. */
class TargetCounts {
  private readonly byKey = new Map<string, ReplayTarget>()
  withoutGroup = 0

  add(target: {group: string | null; key: string} | undefined, entries = 1): void {
    if (target === undefined) {
      this.withoutGroup += entries
      return
    }
    const counted = this.byKey.get(target.key)
    if (counted === undefined) this.byKey.set(target.key, {...target, entries})
    else counted.entries += entries
  }

  get targets(): ReplayTarget[] {
    return [...this.byKey.values()]
  }
}

/** A result for a run that changed nothing (dry run, declined, nothing selected); a dry run says where the entries would go. */
export function unchangedReplay(plan: DlqPlan, options: Pick<ReplayOptions, 'topic' | 'toTopic'>, flags: {dryRun: boolean; cancelled: boolean}): ReplayResult {
  const counts = new TargetCounts()
  // From the plan's counts by group, which cover every selected entry (the plan keeps only a few whole).
  if (flags.dryRun) for (const {group, count} of plan.summary.byGroup) counts.add(targetOf(options.topic, group, options.toTopic === true), count)
  return {
    dlq: plan.key,
    topic: options.topic,
    toTopic: options.toTopic === true,
    targets: counts.targets,
    withoutGroup: counts.withoutGroup,
    dryRun: flags.dryRun,
    cancelled: flags.cancelled,
    selected: plan.ids.length,
    replayed: 0,
    skipped: 0,
    remaining: plan.length,
    ids: flags.dryRun ? [...plan.ids] : [],
    notFound: plan.notFound,
    durationMs: 0,
  }
}

const progressText = (progress: ReplayProgress): string =>
  `replayed ${progress.replayed} of ${progress.total}${progress.skipped > 0 ? ` (${progress.skipped} already gone)` : ''}`

const CONTINUE = 'run the same command again to continue with what is left (nothing is replayed twice)'

/**
 * Move the planned entries to the replay stream of the group that dead-lettered each (or, with
 * `toTopic`, onto the topic), oldest first, each in one atomic step (src/lua/replay-2.lua): the
 * original fields are added there with a replay record in their headers (and the group created on
 * the replay stream if missing) and the dead-letter entry is deleted, or nothing happens. Killed at
 * any moment, every entry is either replayed or still in the dead-letter stream, never both, never
 * neither; running again continues with what is left. Entries that record no group are left in the
 * dead-letter stream (counted in `withoutGroup`) unless `toTopic`.
 */
export async function replayPlan(redis: RedisClient, plan: DlqPlan, options: ReplayOptions, hooks: ReplayHooks = {}): Promise<ReplayResult> {
  const started = Date.now()
  const pace = pacing(options.ratePerSecond)
  const now = hooks.now ?? (() => new Date())
  const progress: ReplayProgress = {replayed: 0, skipped: 0, total: plan.ids.length}
  const run: ReplayRun = hooks.run ?? {scheduled: 0, replayed: 0, skipped: 0, total: plan.ids.length}
  // What errors and progress report: this stream's progress within the whole run.
  const overall = (): ReplayProgress => ({replayed: run.replayed + progress.replayed, skipped: run.skipped + progress.skipped, total: run.total})
  const newIds: string[] = []
  const counts = new TargetCounts()
  const toTopic = options.toTopic === true
  for (let index = 0; index < plan.ids.length; index += pace.batch) {
    // Where each entry goes is read before the batch's turn, so --rate paces the moves themselves
    // (a slow first read made the first move late and the rest catch up, above the rate).
    const ids = plan.ids.slice(index, index + pace.batch)
    const planned = await batchTargets(redis, plan.key, ids, options).catch((error: unknown) => {
      throw failedDuring(error, overall(), hooks.errorContext, options.topic, 0)
    })
    // When the first move is sent: the schedule of --rate counts from there.
    run.pacedFrom ??= Date.now()
    await sleep(run.pacedFrom + pace.startAtMs(run.scheduled) - Date.now(), hooks.signal)
    if (hooks.signal?.aborted === true) {
      throw new QctlError('INTERRUPTED', `interrupted: ${progressText(overall())}; ${CONTINUE}`, {details: {...overall()}})
    }
    run.scheduled += ids.length
    const batch = planned.filter((entry) => {
      if (entry.target === 'gone') progress.skipped++
      else if (entry.target === undefined) counts.add(undefined)
      return entry.target !== 'gone' && entry.target !== undefined
    }) as Array<{id: string; target: {group: string | null; key: string}}>
    const at = now().toISOString()
    // Sent together on one connection: RedisClient runs them in this order, each atomically.
    const replies = await Promise.allSettled(batch.map(async ({id, target}) => callScript(redis, REPLAY, [plan.key, target.key, id, at, target.group ?? ''])))
    let failure: {error: unknown; key: string} | undefined
    let unanswered = 0
    replies.forEach((reply, position) => {
      const {target} = batch[position] as {target: {group: string | null; key: string}}
      if (reply.status === 'rejected') {
        failure ??= {error: reply.reason, key: target.key}
        // No reply (a timeout, a lost connection): the entry moved or not, atomically; a rerun sees which.
        if (!isErrorReply(reply.reason)) unanswered++
      } else if (typeof reply.value === 'string') {
        newIds.push(reply.value)
        counts.add(target)
        progress.replayed++
      } else progress.skipped++
    })
    if (failure !== undefined) throw failedDuring(await wrongType(redis, failure.error, failure.key, toTopic), overall(), hooks.errorContext, failure.key, unanswered)
    hooks.onProgress?.(overall())
  }
  return {
    dlq: plan.key,
    topic: options.topic,
    toTopic,
    targets: counts.targets,
    withoutGroup: counts.withoutGroup,
    dryRun: false,
    cancelled: false,
    selected: plan.ids.length,
    replayed: progress.replayed,
    skipped: progress.skipped,
    remaining: await dlqLength(redis, plan.key).catch((error: unknown) => {
      throw failedDuring(error, overall(), hooks.errorContext, options.topic, 0)
    }),
    ids: newIds,
    notFound: plan.notFound,
    durationMs: Date.now() - started,
  }
}

/**
 * Where each entry of a batch goes: known from `--group` or `--to-topic`, else read from the entry's
 * `dlq.group` (one pipelined read of the batch); 'gone' for an entry no longer in the dead-letter stream.
 */
async function batchTargets(
  redis: RedisClient,
  dlq: string,
  ids: readonly string[],
  options: ReplayOptions,
): Promise<Array<{id: string; target: {group: string | null; key: string} | undefined | 'gone'}>> {
  const toTopic = options.toTopic === true
  if (toTopic || options.group !== undefined) return ids.map((id) => ({id, target: targetOf(options.topic, options.group ?? null, toTopic)}))
  const {entries} = await getDlqEntries(redis, dlq, ids)
  const groups = new Map(entries.map((entry) => [entry.dlqId, entry.group]))
  return ids.map((id) => {
    const group = groups.get(id)
    return {id, target: group === undefined ? 'gone' : targetOf(options.topic, group, false)}
  })
}

/** The dead-letter stream was read as a stream already: a WRONGTYPE here is about where the entry goes. */
async function wrongType(redis: RedisClient, error: unknown, key: string, toTopic: boolean): Promise<unknown> {
  if (!isWrongType(error)) return error
  const type = await keyTypeOf(redis, key)
  return usageError(`${toTopic ? 'topic' : 'replay stream'} ${notAStreamText(key, type)}, so nothing can be replayed onto it`, {cause: error, details: {key, type: type ?? null}})
}

/** A failure mid-run, saying how far the run got and that a rerun continues. */
function failedDuring(error: unknown, progress: ReplayProgress, context: RedisErrorContext | undefined, topic: string, unanswered: number): unknown {
  const typed = error instanceof QctlError ? error : context === undefined ? undefined : classifyRedisError(error, context, {key: topic})
  if (typed === undefined) return error
  // Nothing moved yet and rerunning would not help: the error alone says it all.
  if (progress.replayed + progress.skipped === 0 && ['USAGE', 'NO_PERMISSION', 'AUTH_FAILED'].includes(typed.code)) return typed
  const message = typed.message.replace(/^cannot connect to /, 'lost connection to ')
  const inDoubt = unanswered === 0 ? '' : `, and ${unanswered} more may have moved (sent without a reply)`
  return new QctlError(typed.code, `${message}; ${progressText(progress)}${inDoubt}; ${CONTINUE}`, {
    cause: error,
    details: {...progress, inDoubt: unanswered},
    suggestion: typed.suggestion,
  })
}
