import type {ChalkInstance} from 'chalk'

import type {WorkerEvents, WorkerSummary} from '../core/worker/worker.js'
import {formatCount, formatDuration, plural} from './numbers.js'

type Event<K extends keyof WorkerEvents> = WorkerEvents[K][0]

/** A handler's error text on one line, without terminal control characters. */
const oneLine = (text: string): string => text.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '')

export const formatStart = (event: Event<'started'>, style: ChalkInstance): string =>
  `Working on ${style.bold(event.topic)} as group ${style.bold(event.group)}${event.groupCreated ? ' (created)' : ''}, consumer ${event.consumer}; dead letters go to ${event.deadLetterKey}`

export const formatRetry = (event: Event<'retry'>, style: ChalkInstance): string =>
  style.yellow(`retry ${event.id} (attempt ${event.attempt} failed) in ${formatDuration(event.delayMs)}: ${oneLine(`${event.error.name}: ${event.error.message}`)}`)

export const formatDeadLetter = (event: Event<'deadLettered'>, style: ChalkInstance): string =>
  style.red(`dead-lettered ${event.id} after ${plural(event.attempts, 'attempt')} as ${event.dlqId}: ${oneLine(`${event.error.name}: ${event.error.message}`)}`)

export const formatLost = (event: Event<'lost'>, style: ChalkInstance): string =>
  style.red(`lost ${plural(event.ids.length, 'entry', 'entries')} deleted or trimmed while pending: ${event.ids.slice(0, 10).join(', ')}${event.ids.length > 10 ? ', …' : ''}`)

/** The status line (spinner text on a terminal): in flight counts running handlers, read ahead what waits to start. */
export function formatStatus(stats: {processed: number; retried: number; deadLettered: number; inFlight: number; readAhead: number}, ratePerSecond: number): string {
  return `processed ${formatCount(stats.processed)} · retried ${formatCount(stats.retried)} · dead-lettered ${formatCount(stats.deadLettered)} · in flight ${formatCount(stats.inFlight)} · read ahead ${formatCount(stats.readAhead)} · ${formatCount(ratePerSecond)} msg/s`
}

export function formatWorkSummary(summary: WorkerSummary, style: ChalkInstance): string {
  const parts = [
    `processed ${formatCount(summary.processed)}`,
    `retried ${formatCount(summary.retried)}`,
    `dead-lettered ${formatCount(summary.deadLettered)}`,
    `lost ${formatCount(summary.lost)}`,
    `duplicates ${formatCount(summary.duplicates)}`,
  ]
  if (summary.unfinished > 0) parts.push(style.yellow(`unfinished ${formatCount(summary.unfinished)} (left pending for other workers)`))
  if (summary.released > 0) parts.push(style.yellow(`released ${formatCount(summary.released)} (read ahead, not started: other workers take them at once)`))
  if (summary.unacknowledged > 0) parts.push(style.red(`unacknowledged ${formatCount(summary.unacknowledged)} (handled, but Redis never got the acknowledgement: they will be delivered again)`))
  return `Stopped (${summary.stopReason}) after ${formatDuration(summary.durationMs)}: ${parts.join(', ')}; ${formatCount(summary.rate)} msg/s`
}

/** The line printed on the first SIGINT/SIGTERM. */
export const formatStopping = (event: Event<'stopping'>): string =>
  `stopping: waiting up to ${formatDuration(event.timeoutMs)} for ${plural(event.running, 'running handler')}${event.queued > 0 ? ` and ${formatCount(event.queued)} read ahead` : ''}; Ctrl-C again to stop now`

/** The line printed when a second signal stops the worker at once. */
export const formatStoppedNow = (held: number): string =>
  `stopped: ${plural(held, 'entry', 'entries')} left pending; another worker takes them after the visibility timeout`

/** The line printed when a handler ends the process itself (process.exit) while the worker runs. */
export const formatHandlerExit = (code: number, held: number): string =>
  `the handler ended the process (exit code ${code}) while the worker held ${plural(held, 'entry', 'entries')}; they stay pending and are delivered again (the group is not drained)`
