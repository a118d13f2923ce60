import type {ChalkInstance} from 'chalk'

import type {PublishProgress} from '../core/publish/batch-publisher.js'
import type {PublishResult} from '../core/publish/publish.js'
import {formatCount, formatDuration, plural, ratePerSecond} from './numbers.js'

/** The spinner text while publishing. */
export const formatPublishProgress = (topic: string, progress: PublishProgress, elapsedMs: number): string =>
  `publishing to ${topic}: ${plural(progress.published, 'message')} (${formatCount(ratePerSecond(progress.published, elapsedMs))} msg/s)`

/** The summary printed when a publish finishes. */
export function formatPublishSummary(result: PublishResult, style: ChalkInstance): string[] {
  const lines: string[] = []
  if (result.published === 0) {
    lines.push(`Nothing published to ${style.bold(result.topic)}: the input has no messages.`)
  } else if (result.id !== undefined) {
    lines.push(`Published 1 message to ${style.bold(result.topic)}: ${result.id}`)
  } else {
    const rate = formatCount(ratePerSecond(result.published, result.durationMs))
    lines.push(
      `Published ${plural(result.published, 'message')} to ${style.bold(result.topic)} in ${formatDuration(result.durationMs)} (${rate} msg/s), ids ${result.firstId} … ${result.lastId}`,
    )
  }
  if (result.skipped > 0) {
    const more = result.skipped > result.skippedLines.length ? ', …' : ''
    lines.push(style.yellow(`Skipped ${plural(result.skipped, 'invalid line')}: ${result.skippedLines.join(', ')}${more}`))
  }
  return lines
}
