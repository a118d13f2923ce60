import {compareIdText, formatStreamId, idAfter, parseStreamId} from '../dlq/stream-id.js'
import {notFoundError} from '../errors.js'
import {isPartitioned, resolveTopic, type TopicLayout} from '../partitions/metadata.js'
import type {RedisClient} from '../redis/client.js'
import {timeReplyMs} from '../redis/redis-time.js'
import {groupsOf, trimBehindGroups, type TrimLine} from './line.js'
import {parseBefore, parseMaxlen, safeTrimAt, type TrimRule} from './rule.js'
import {countSpan, EMPTY_SPAN, type Span} from './span.js'

/** How much a trim takes: entries, and their field and value bytes (count-span-1.lua). */
export interface TrimAmount {
  entries: number
  bytes: number
}

/** One stream of the topic (a plain topic's own, or a partition's), in `qctl trim`'s `--json`. */
export interface TrimStream {
  /** The partition of a partitioned topic; null for a plain topic. */
  partition: number | null
  stream: string
  exists: boolean
  /** Entries when the plan was made. */
  length: number
  groups: number
  /** What the rule alone removes: entries below `minId` (null: nothing, e.g. fewer entries than --maxlen). */
  rule: TrimAmount & {minId: string | null}
  /** The line the groups hold (null: the stream has no group), as the trim saw it (or the plan, for --dry-run). */
  line: TrimLine | null
  /** What trimming at min(rule, line) removes: all a safe trim takes. */
  safe: TrimAmount & {minId: string | null}
  /** The MINID this run trims at (or would): safe.minId, or rule.minId with --force. */
  trimAt: string | null
  /** Entries XTRIM removed; null for --dry-run and when cancelled. */
  removed: number | null
  /** Whether the server's `XTRIM … ACKED` (Redis 8.2+) guards the trim: true, false (not on this server), null (not probed). */
  acked: boolean | null
}

/** `qctl trim --json`. */
export interface TrimResult {
  topic: string
  partitioned: boolean
  /** The rule as given: `before` (its text) with the `minId` it means, or `maxlen`. */
  rule: {before: string | null; minId: string | null; maxlen: number | null}
  force: boolean
  dryRun: boolean
  cancelled: boolean
  streams: TrimStream[]
  totals: {rule: TrimAmount; safe: TrimAmount; removed: number | null}
}

export interface TrimRequest {
  topic: string
  before?: string | undefined
  maxlen?: number | undefined
  force: boolean
}

const amount = (span: Span): TrimAmount => ({entries: span.entries, bytes: span.bytes})

/** The rule's MINID on a stream of `length` entries, and what it removes. */
async function ruleOn(redis: RedisClient, stream: string, rule: TrimRule, length: number): Promise<{minId: string | null; span: Span}> {
  if (rule.kind === 'before') return {minId: rule.minId, span: await countSpan(redis, stream, {before: rule.minId})}
  if (length <= rule.maxlen) return {minId: null, span: EMPTY_SPAN}
  // The first entry kept is the (length - maxlen)th from the start: count up to it, then read its ID.
  const span = await countSpan(redis, stream, {most: length - rule.maxlen})
  if (span.lastId === undefined) return {minId: null, span}
  const next = await countSpan(redis, stream, {after: span.lastId, most: 1})
  const last = parseStreamId(span.lastId)
  return {minId: next.lastId ?? (last === undefined ? null : formatStreamId(idAfter(last))), span}
}

interface PlannedStream extends TrimStream {
  dueGroups: string[]
}

async function planStream(redis: RedisClient, layout: TopicLayout, index: number, rule: TrimRule, force: boolean, groups: string[], expected: string[]): Promise<PlannedStream> {
  const stream = layout.streams[index] as string
  const state = await trimBehindGroups(redis, stream, {mode: 'plan', rule: '+', whenNoGroups: 'keep', dueGroups: groups, expectedGroups: expected})
  const partition = isPartitioned(layout) ? index : null
  if (!state.exists) {
    const none = {entries: 0, bytes: 0, minId: null}
    return {partition, stream, exists: false, length: 0, groups: 0, rule: none, line: null, safe: none, trimAt: null, removed: null, acked: null, dueGroups: groups}
  }
  const ruled = await ruleOn(redis, stream, rule, state.length)
  const safeId = safeTrimAt(ruled.minId, state.line?.minId ?? null)
  let safe = ruled.span
  if (safeId === null) safe = EMPTY_SPAN
  else if (ruled.minId !== null && compareIdText(safeId, ruled.minId) < 0) safe = await countSpan(redis, stream, {before: safeId})
  return {
    partition,
    stream,
    exists: true,
    length: state.length,
    groups: state.groups,
    rule: {minId: ruled.minId, ...amount(ruled.span)},
    line: state.line,
    safe: {minId: safeId, ...amount(safe)},
    trimAt: force ? ruled.minId : safeId,
    removed: null,
    acked: force ? false : state.acked,
    dueGroups: groups,
  }
}

const totalsOf = (streams: readonly TrimStream[], applied: boolean): TrimResult['totals'] => {
  const sum = (pick: (stream: TrimStream) => TrimAmount): TrimAmount => ({
    entries: streams.reduce((total, stream) => total + pick(stream).entries, 0),
    bytes: streams.reduce((total, stream) => total + pick(stream).bytes, 0),
  })
  return {rule: sum((stream) => stream.rule), safe: sum((stream) => stream.safe), removed: applied ? streams.reduce((total, stream) => total + (stream.removed ?? 0), 0) : null}
}

/** A plan and what the real trim needs to run it. */
export interface TrimPlan {
  result: TrimResult
  rule: TrimRule
  /** Per stream, the groups whose due sets the trim reads; and the topic's groups, which every partition must have. */
  dueGroups: string[][]
  expectedGroups: string[]
}

/**
 * Plan `qctl trim`: per stream, the rule's MINID, the line the groups hold, and how many entries and
 * bytes each would remove (counted inside Redis). Changes nothing. Exit 6 for a topic with no stream.
 */
export async function planTrim(redis: RedisClient, request: TrimRequest): Promise<TrimPlan> {
  const layout = await resolveTopic(redis, request.topic)
  const now = timeReplyMs(await redis.time())
  const rule = request.before === undefined ? parseMaxlen(request.maxlen ?? 0) : parseBefore(request.before, now)
  const groups = await groupsOf(redis, layout.streams)
  // A partitioned topic's groups: every partition should have each (topic alter makes them on new partitions).
  const expected = isPartitioned(layout) ? [...new Set(groups.flat())].sort() : []
  const streams = await Promise.all(layout.streams.map(async (_stream, index) => planStream(redis, layout, index, rule, request.force, groups[index] ?? [], expected)))
  if (!streams.some((stream) => stream.exists) && !isPartitioned(layout)) throw notFoundError(`topic "${request.topic}" does not exist (no stream at that key)`)
  const result: TrimResult = {
    topic: request.topic,
    partitioned: isPartitioned(layout),
    rule: {before: rule.kind === 'before' ? rule.given : null, minId: rule.kind === 'before' ? rule.minId : null, maxlen: rule.kind === 'maxlen' ? rule.maxlen : null},
    force: request.force,
    dryRun: false,
    cancelled: false,
    streams: streams.map(({dueGroups: _dueGroups, ...stream}) => stream),
    totals: totalsOf(streams, false),
  }
  return {result, rule, dueGroups: groups, expectedGroups: expected}
}

/** Whether the plan removes anything (with --force: anything the rule names). */
export const planRemoves = (result: TrimResult): boolean => (result.force ? result.totals.rule.entries : result.totals.safe.entries) > 0

/**
 * Trim each stream as planned, each in one atomic step (trim-behind-groups-n.lua): the line is found
 * again inside Redis at that moment, so a group made, a read or a delivery since the plan holds it
 * back; with --force, at the rule's MINID. Streams the plan found nothing to trim on are left alone.
 */
export async function applyTrim(redis: RedisClient, plan: TrimPlan): Promise<TrimResult> {
  const {result} = plan
  const streams = await Promise.all(
    result.streams.map(async (stream, index): Promise<TrimStream> => {
      const ruleId = stream.rule.minId
      if (!stream.exists || ruleId === null || (result.force ? stream.rule.entries : stream.safe.entries) === 0) return {...stream, removed: 0}
      const state = await trimBehindGroups(redis, stream.stream, {
        mode: result.force ? 'force' : 'trim',
        rule: ruleId,
        whenNoGroups: 'rule',
        dueGroups: plan.dueGroups[index] ?? [],
        expectedGroups: plan.expectedGroups,
      })
      return {...stream, line: state.line, groups: state.groups, trimAt: state.trimAt, removed: state.removed, acked: state.acked}
    }),
  )
  return {...result, streams, totals: totalsOf(streams, true)}
}
