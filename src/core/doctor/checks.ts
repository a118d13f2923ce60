import {compareIdText} from '../dlq/stream-id.js'
import {globEscape} from '../redis/scan.js'
import {LAG_COUNT_LIMIT} from '../stats/topic-stats.js'
import {idMs} from '../stats/xinfo.js'
import {formatAge, formatCount} from '../units.js'
import {PARKED_CONSUMER} from '../worker/group-ops.js'
import {DLQ_COUNT_LIMIT, isStuck, OVERDUE_AFTER_MS, realConsumers, type Facts, type GroupFacts, type RetryFacts, type ScheduleFacts, type StreamFacts} from './facts.js'
import {commandLine, durationWord, redisCli, workCommand} from './fix-commands.js'
import type {BadMetadata, StreamPlace, WrongTypeKey} from './inventory.js'
import {CHECK_IDS, DEFAULT_THRESHOLDS, stuckAfterMs, type DoctorThresholds, type Finding, type Severity} from './types.js'

/**
 * The checks of `qctl doctor`: what it read (facts.ts) to findings. Pure: the time is Redis's clock
 * as read (`facts.now`), every figure comes from the facts, and each finding carries its fix.
 */

/** A group is judged to acknowledge nothing only once this many entries were delivered to it. */
export const NEVER_ACK_MIN = 10

const entries = (count: number): string => `${formatCount(count)} entr${count === 1 ? 'y' : 'ies'}`

const pendingEntries = (count: number): string => `${formatCount(count)} pending entr${count === 1 ? 'y' : 'ies'}`

/** "1h00m" for a limit, as --help writes durations. */
const limit = formatAge

/** Where on a stream, for messages: nothing for a topic's own stream. */
function onStream(place: StreamPlace): string {
  if (place.role === 'dead-letters') return ' (on the dead-letter stream)'
  if (place.role === 'replay') return ` (on the replay stream of group "${place.group ?? ''}")`
  return ''
}

const streamFinding = (stream: StreamFacts, fields: Pick<Finding, 'check' | 'severity' | 'message' | 'evidence' | 'fix'> & {group?: string; consumer?: string}): Finding => ({
  check: fields.check,
  severity: fields.severity,
  topic: stream.place.topic,
  partition: stream.place.partition,
  group: fields.group ?? null,
  consumer: fields.consumer ?? null,
  key: stream.place.key,
  node: stream.node,
  message: fields.message,
  evidence: fields.evidence,
  fix: fields.fix,
})

/** The fix for entries nobody takes over: a running worker of the group (or, for a foreign stream, a claim by a live consumer). */
function takeOverFix(stream: StreamFacts, group: string, idleMs: number): string {
  if (stream.place.role === 'dead-letters') return redisCli('XAUTOCLAIM', stream.place.key, group, 'LIVE_CONSUMER', idleMs, '0-0')
  return workCommand(stream.place.topic, group)
}

/** `qctl doctor --fix` for the leftovers of one topic, with the limit used. */
function doctorFixCommand(topic: string, thresholds: DoctorThresholds): string {
  const custom = thresholds.leftoverAfterMs === DEFAULT_THRESHOLDS.leftoverAfterMs ? [] : ['--leftover-after', durationWord(thresholds.leftoverAfterMs)]
  return `qctl doctor --fix ${commandLine('--match', globEscape(topic), ...custom)}`
}

function consumerFindings(stream: StreamFacts, group: GroupFacts, thresholds: DoctorThresholds): Finding[] {
  const found: Finding[] = []
  const stuckAfter = stuckAfterMs(thresholds)
  for (const consumer of realConsumers(group)) {
    if (isStuck(consumer, stuckAfter)) {
      found.push(
        streamFinding(stream, {
          check: 'stuck-consumer',
          severity: 'error',
          group: group.name,
          consumer: consumer.name,
          message: `consumer "${consumer.name}" of group "${group.name}" holds ${pendingEntries(consumer.pending)} and has been idle ${formatAge(consumer.idleMs)}, past ${limit(stuckAfter)} (twice --visibility-timeout): nobody takes its entries over${onStream(stream.place)}`,
          evidence: {pending: consumer.pending, idleMs: consumer.idleMs, stuckAfterMs: stuckAfter},
          fix: takeOverFix(stream, group.name, thresholds.visibilityTimeoutMs),
        }),
      )
    } else if (consumer.pending === 0 && consumer.idleMs >= thresholds.leftoverAfterMs) {
      found.push(
        streamFinding(stream, {
          check: 'leftover-consumer',
          severity: 'warn',
          group: group.name,
          consumer: consumer.name,
          message: `consumer "${consumer.name}" of group "${group.name}" holds nothing and has been idle ${formatAge(consumer.idleMs)}, past --leftover-after ${limit(thresholds.leftoverAfterMs)}: left by a worker that is gone${onStream(stream.place)}`,
          evidence: {pending: 0, idleMs: consumer.idleMs, leftoverAfterMs: thresholds.leftoverAfterMs},
          fix: doctorFixCommand(stream.place.topic, thresholds),
        }),
      )
    }
  }
  return found
}

/** Every entry delivered to the group and still in the stream is pending, and the oldest is idle past the limit. */
function neverAcknowledges(stream: StreamFacts, group: GroupFacts, thresholds: DoctorThresholds): number | undefined {
  // Only where it can be known: nothing ever removed from the stream, so its entries up to the group's position are those delivered to it.
  if (stream.place.role !== 'topic' || group.lag === null || stream.entriesAdded !== stream.length) return undefined
  const delivered = stream.length - group.lag
  if (delivered < NEVER_ACK_MIN || group.pending < delivered || (group.oldestPendingIdleMs ?? 0) < stuckAfterMs(thresholds)) return undefined
  return delivered
}

function groupFindings(stream: StreamFacts, group: GroupFacts, thresholds: DoctorThresholds): Finding[] {
  const found = consumerFindings(stream, group, thresholds)
  const stuckAfter = stuckAfterMs(thresholds)
  const delivered = neverAcknowledges(stream, group, thresholds)
  if (delivered !== undefined) {
    found.push(
      streamFinding(stream, {
        check: 'never-acknowledged',
        severity: 'error',
        group: group.name,
        message: `group "${group.name}" has acknowledged none of the ${entries(delivered)} delivered to it: all are still pending, the oldest idle ${formatAge(group.oldestPendingIdleMs ?? 0)} (its consumers read without XACK)`,
        evidence: {delivered, pending: group.pending, oldestPendingId: group.oldestPendingId, oldestPendingIdleMs: group.oldestPendingIdleMs},
        fix: workCommand(stream.place.topic, group.name),
      }),
    )
  } else if (group.oldestPending !== null) {
    // Entries of stuck consumers are theirs to report, parked retries wait out a backoff: the rest is held by consumers that are alive.
    const stuck = new Set(found.filter((finding) => finding.check === 'stuck-consumer').map((finding) => finding.consumer))
    const idle = group.oldestPending.filter((entry) => entry.idleMs >= stuckAfter && entry.consumer !== PARKED_CONSUMER && !stuck.has(entry.consumer))
    if (idle.length > 0) {
      const holders = [...new Set(idle.map((entry) => entry.consumer))]
      const maxIdleMs = Math.max(...idle.map((entry) => entry.idleMs))
      found.push(
        streamFinding(stream, {
          check: 'unreclaimed-pending',
          severity: 'error',
          group: group.name,
          message: `${formatCount(idle.length)} of the ${formatCount(group.oldestPending.length)} oldest pending entries of group "${group.name}" have been idle up to ${formatAge(maxIdleMs)}, past ${limit(stuckAfter)} (twice --visibility-timeout), held by ${holders.map((name) => `"${name}"`).join(', ')}, which ${holders.length === 1 ? 'is' : 'are'} active: nobody reclaims them (a consumer that reads only new entries never sees them again)${onStream(stream.place)}`,
          evidence: {entries: idle.length, sampled: group.oldestPending.length, pending: group.pending, maxIdleMs, oldestId: idle[0]?.id ?? null, consumers: holders, stuckAfterMs: stuckAfter},
          fix: takeOverFix(stream, group.name, thresholds.visibilityTimeoutMs),
        }),
      )
    }
  }
  if (stream.place.role === 'topic' && group.lag === null) found.push(unknownLag(stream, group))
  return found
}

function unknownLag(stream: StreamFacts, group: GroupFacts): Finding {
  const deletedAhead = stream.maxDeletedId !== undefined && stream.maxDeletedId !== null && compareIdText(stream.maxDeletedId, group.lastDeliveredId) > 0
  const counted = group.entriesAfter === null ? `more than ${formatCount(LAG_COUNT_LIMIT)}` : formatCount(group.entriesAfter)
  const meanwhile = `until then qctl lag counts it (${counted} undelivered) and --max-lag gates on it fail`
  const evidence = {lastDeliveredId: group.lastDeliveredId, maxDeletedId: stream.maxDeletedId ?? null, entriesAfter: group.entriesAfter}
  if (deletedAhead) {
    return streamFinding(stream, {
      check: 'unknown-lag',
      severity: 'warn',
      group: group.name,
      message: `Redis reports the lag of group "${group.name}" as unknown: entries after its position (${group.lastDeliveredId}) were deleted, up to ${stream.maxDeletedId}; it is known again once the group has read past them; ${meanwhile}`,
      evidence,
      fix: workCommand(stream.place.topic, group.name),
    })
  }
  const setId = group.entriesAfter !== null && stream.entriesAdded !== null
  return streamFinding(stream, {
    check: 'unknown-lag',
    severity: 'warn',
    group: group.name,
    message: `Redis reports the lag of group "${group.name}" as unknown: its count of entries read is unknown (the group was moved with XGROUP SETID without ENTRIESREAD); ${meanwhile}`,
    evidence,
    fix: setId ? redisCli('XGROUP', 'SETID', stream.place.key, group.name, group.lastDeliveredId, 'ENTRIESREAD', (stream.entriesAdded ?? 0) - (group.entriesAfter ?? 0)) : workCommand(stream.place.topic, group.name),
  })
}

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000

/** Bytes for people: 512 B, 1.5 KiB, 180.2 MiB. */
function bytesText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`
}

function unboundedStream(stream: StreamFacts, thresholds: DoctorThresholds): Finding | undefined {
  if (stream.place.role !== 'topic' || stream.entriesAdded !== stream.length || stream.length <= thresholds.maxUntrimmed) return undefined
  const first = idMs(stream.firstId)
  const last = idMs(stream.lastId)
  const spanMs = first !== null && last !== null ? last - first : 0
  // A rate over less than an hour of entries says little of the days to come.
  const perDay = spanMs >= HOUR_MS ? Math.round((stream.length * DAY_MS) / spanMs) : null
  const bytes = stream.memoryBytes ?? null
  const perEntry = bytes === null ? null : Math.round(bytes / stream.length)
  const memory = bytes === null ? 'memory not measured (MEMORY USAGE refused)' : `${bytesText(bytes)} (${bytesText(perEntry ?? 0)} an entry, MEMORY USAGE)`
  const rate = perDay === null ? '' : `, about ${entries(perDay)} a day since ${new Date(first ?? 0).toISOString()}`
  return streamFinding(stream, {
    check: 'unbounded-stream',
    severity: 'warn',
    message: `${entries(stream.length)}, none ever removed (entries added = length), past --max-untrimmed ${formatCount(thresholds.maxUntrimmed)}: no trimming policy, so it grows without bound; ${memory}${rate}`,
    evidence: {entries: stream.length, memoryBytes: bytes, bytesPerEntry: perEntry, entriesPerDay: perDay, firstEntryAt: first === null ? null : new Date(first).toISOString()},
    fix: `qctl trim ${commandLine(stream.place.topic, '--before', '7d')}`,
  })
}

function growingDeadLetters(stream: StreamFacts, thresholds: DoctorThresholds, now: number): Finding | undefined {
  const recent = stream.recentDeadLetters
  if (stream.place.role !== 'dead-letters' || recent === undefined || recent < thresholds.dlqGrowth) return undefined
  const atLeast = recent >= Math.max(thresholds.dlqGrowth, DLQ_COUNT_LIMIT)
  const newestAgeMs = Math.max(0, now - (idMs(stream.lastId) ?? now))
  const partition = stream.place.partition === null ? [] : ['--partition', stream.place.partition]
  return streamFinding(stream, {
    check: 'growing-dlq',
    severity: 'warn',
    message: `${atLeast ? 'at least ' : ''}${formatCount(recent)} dead letter${recent === 1 ? '' : 's'} in the last ${limit(thresholds.dlqWindowMs)} (--dlq-window; the newest ${formatAge(newestAgeMs)} ago), ${formatCount(stream.length)} in all: it grows`,
    evidence: {recent, recentAtLeast: atLeast, total: stream.length, newestAgeMs, windowMs: thresholds.dlqWindowMs},
    fix: `qctl dlq list ${commandLine(stream.place.topic, ...partition)}`,
  })
}

/** Scheduled messages past their due time by more than a minute: nothing (no worker of the topic, no `schedule run`) appends them. */
function overdueScheduled(schedule: ScheduleFacts, now: number, node: string | null): Finding {
  const {place} = schedule
  const lateMs = Math.max(0, now - schedule.oldestDueMs)
  const messages = `${formatCount(schedule.overdue)} scheduled message${schedule.overdue === 1 ? '' : 's'}`
  return {
    check: 'overdue-scheduled',
    severity: 'error',
    topic: place.stream.topic,
    partition: place.stream.partition,
    group: null,
    consumer: null,
    key: place.key,
    node,
    message: `${messages} (of ${formatCount(schedule.scheduled)} held) ${schedule.overdue === 1 ? 'is' : 'are'} past ${schedule.overdue === 1 ? 'its' : 'their'} due time by more than ${limit(OVERDUE_AFTER_MS)}, the oldest by ${formatAge(lateMs)}: no qctl work of the topic and no qctl schedule run appends them`,
    evidence: {scheduled: schedule.scheduled, overdue: schedule.overdue, oldestDueAt: new Date(schedule.oldestDueMs).toISOString(), lateMs},
    fix: `qctl schedule run ${commandLine(place.stream.topic, '--follow')}`,
  }
}

function retryFinding(retry: RetryFacts): Finding | undefined {
  const {place} = retry
  const finding = (fields: Pick<Finding, 'message' | 'evidence' | 'fix'>): Finding => ({
    check: 'orphan-retry-records',
    severity: 'warn',
    topic: place.stream.topic,
    partition: place.stream.partition,
    group: place.group,
    consumer: null,
    key: place.key,
    node: retry.node,
    ...fields,
  })
  if (!retry.groupExists) {
    return finding({
      message: `${formatCount(retry.records)} retry record${retry.records === 1 ? '' : 's'} of group "${place.group}", which no longer exists on ${place.entriesKey}: all are left over`,
      evidence: {records: retry.records, groupExists: false, entriesKey: place.entriesKey},
      fix: redisCli('DEL', place.key),
    })
  }
  const missing = retry.missingIds.length
  if (missing === 0) return undefined
  const sampled = retry.sampledIds.length
  let which = `${formatCount(missing)} of the ${formatCount(sampled)} retry records read (of ${formatCount(retry.records)})`
  if (sampled >= retry.records) which = missing < retry.records ? `${formatCount(missing)} of its ${formatCount(retry.records)} retry records` : retry.records === 1 ? 'its retry record' : `all ${formatCount(missing)} of its retry records`
  return finding({
    message: `${which} ${missing === 1 ? 'is for an entry' : 'are for entries'} no longer in ${place.entriesKey} (deleted or trimmed): nothing will ever remove ${missing === 1 ? 'it' : 'them'}`,
    evidence: {records: retry.records, sampled: retry.sampledIds.length, missing: retry.missingIds.length, missingIds: retry.missingIds, entriesKey: place.entriesKey},
    fix: redisCli('HDEL', place.key, ...retry.missingIds.flatMap((id) => [id, `${id}+`])),
  })
}

const WRONG_TYPE_ROLES: Record<WrongTypeKey['as'], (key: WrongTypeKey) => [string, string]> = {
  'dead-letters': (key) => [`the dead-letter stream of "${key.topic}"`, 'qctl work cannot dead-letter there (the entry stays pending), and lag, top and dlq skip it'],
  replay: (key) => [`the replay stream of group "${key.group ?? ''}"`, 'the group\'s workers cannot read it, and dlq replay cannot write to it'],
  partition: (key) => [`the stream of partition ${key.partition ?? ''} of "${key.topic}"`, 'publishing to that partition and working it fail'],
  metadata: (key) => [`the metadata of partitioned topic "${key.topic}"`, 'every command that names the topic exits 2'],
  retry: (key) => [`the retry hash of group "${key.group ?? ''}"`, 'the group\'s workers cannot record retries'],
  schedule: (key) => [`the schedule of "${key.topic}"${key.partition === null ? '' : ` (partition ${key.partition})`}`, 'publish --delay / --at cannot hold messages there, and no mover can append them'],
}

function wrongTypeFinding(key: WrongTypeKey, node: string | null): Finding {
  const [what, consequence] = WRONG_TYPE_ROLES[key.as](key)
  return {
    check: 'wrong-type',
    severity: 'error',
    topic: key.topic,
    partition: key.partition,
    group: key.group,
    consumer: null,
    key: key.key,
    node,
    message: `"${key.key}" is named as ${what} but is not a ${key.expected}: ${consequence} (check what it holds and whose it is, TYPE, before deleting it)`,
    evidence: {expected: key.expected, as: key.as},
    fix: redisCli('DEL', key.key),
  }
}

const badMetadataFinding = (bad: BadMetadata, node: string | null): Finding => ({
  check: 'bad-metadata',
  severity: 'error',
  topic: bad.topic,
  partition: null,
  group: null,
  consumer: null,
  key: bad.key,
  node,
  message: `${bad.problem}: every command that names the topic exits 5 (inspect it with HGETALL; delete it if it is not qctl's)`,
  evidence: {problem: bad.problem},
  fix: redisCli('DEL', bad.key),
})

/** What each check found in the facts (unsorted). `nodeOf`: the node of a key not read as a stream (cluster: its primary). */
export function checkFacts(facts: Facts, badMetadata: readonly BadMetadata[], thresholds: DoctorThresholds, nodeOf: (key: string) => string | null): Finding[] {
  const found: Finding[] = []
  for (const stream of facts.streams) {
    for (const group of stream.groups) found.push(...groupFindings(stream, group, thresholds))
    const unbounded = unboundedStream(stream, thresholds)
    if (unbounded !== undefined) found.push(unbounded)
    const growing = growingDeadLetters(stream, thresholds, facts.now)
    if (growing !== undefined) found.push(growing)
  }
  for (const retry of facts.retries) {
    const finding = retryFinding(retry)
    if (finding !== undefined) found.push(finding)
  }
  for (const schedule of facts.schedules) found.push(overdueScheduled(schedule, facts.now, nodeOf(schedule.place.key)))
  for (const key of facts.wrongType) found.push(wrongTypeFinding(key, nodeOf(key.key)))
  for (const bad of badMetadata) found.push(badMetadataFinding(bad, nodeOf(bad.key)))
  return found
}

const SEVERITY_RANK: Record<Severity, number> = {error: 0, warn: 1, info: 2}

const byText = new Intl.Collator('en').compare

/** Errors first, then warnings and notes; within a severity, by check, then by where. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      CHECK_IDS.indexOf(a.check) - CHECK_IDS.indexOf(b.check) ||
      byText(a.topic ?? '', b.topic ?? '') ||
      (a.partition ?? -1) - (b.partition ?? -1) ||
      byText(a.key ?? '', b.key ?? '') ||
      byText(a.group ?? '', b.group ?? '') ||
      byText(a.consumer ?? '', b.consumer ?? '') ||
      byText(a.node ?? '', b.node ?? ''),
  )
}
