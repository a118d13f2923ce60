import type {ChalkInstance} from 'chalk'

import type {PublishProgress} from '../core/publish/batch-publisher.js'
import type {PublishResult} from '../core/publish/publish.js'
import {formatCount, formatDuration, plural, ratePerSecond} from './numbers.js'

/** The spinner text while publishing. */
export const formatPublishProgress = (topic: string, progress: PublishProgress, elapsedMs: number): string =>
  `publishing to ${topic}: ${plural(progress.published, 'message')} (${formatCount(ratePerSecond(progress.published, elapsedMs))} msg/s)`

/** Partitions listed one by one up to this many; beyond, only how many received messages. */
const LISTED_PARTITIONS = 16

/** `over 3 partitions: p0 120, p1 130, p5 250`. */
function partitionCounts(partitions: NonNullable<PublishResult['partitions']>): string {
  const over = `over ${plural(partitions.length, 'partition')}`
  if (partitions.length > LISTED_PARTITIONS) return over
  return `${over}: ${partitions.map((partition) => `p${partition.partition} ${formatCount(partition.published)}`).join(', ')}`
}

/** The summary printed when a publish finishes. */
export function formatPublishSummary(result: PublishResult, style: ChalkInstance): string[] {
  const lines: string[] = []
  if (result.scheduled === 0 && result.deduplicated > 0) {
    lines.push(`Nothing scheduled for ${style.bold(result.topic)}: every message was published or scheduled there already.`)
  } else if (result.scheduled !== undefined) {
    const due = result.dueAt === undefined ? '' : `, due ${result.dueAt}`
    lines.push(`Scheduled ${plural(result.scheduled, 'message')} for ${style.bold(result.topic)}${due}: a running qctl work of the topic (or qctl schedule run) appends them when due.`)
  } else if (result.published === 0 && result.deduplicated > 0) {
    lines.push(`Nothing published to ${style.bold(result.topic)}: every message was published there already.`)
  } else if (result.published === 0) {
    lines.push(`Nothing published to ${style.bold(result.topic)}: the input has no messages.`)
  } else if (result.id !== undefined) {
    const partition = result.partition === undefined ? '' : `, partition ${result.partition}`
    lines.push(`Published 1 message to ${style.bold(result.topic)}${partition}: ${result.id}`)
  } else {
    const rate = formatCount(ratePerSecond(result.published, result.durationMs))
    const where = result.partitions === undefined ? `, ids ${result.firstId} … ${result.lastId}` : `, ${partitionCounts(result.partitions)}`
    lines.push(`Published ${plural(result.published, 'message')} to ${style.bold(result.topic)} in ${formatDuration(result.durationMs)} (${rate} msg/s)${where}`)
  }
  if (result.deduplicated > 0 && result.scheduled !== undefined) {
    lines.push(`Not scheduled again: ${plural(result.deduplicated, 'message')} whose idempotency key was published or scheduled within the dedupe window.`)
  } else if (result.deduplicated > 0) {
    lines.push(`Not stored again: ${plural(result.deduplicated, 'message')} whose idempotency key was published within the dedupe window.`)
  }
  if (result.skipped > 0) {
    const more = result.skipped > result.skippedLines.length ? ', …' : ''
    lines.push(style.yellow(`Skipped ${plural(result.skipped, 'invalid line')}: ${result.skippedLines.join(', ')}${more}`))
  }
  return lines
}
