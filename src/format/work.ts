import type {ChalkInstance} from 'chalk'

import type {WorkerEvents, WorkerSummary} from '../core/worker/worker.js'
import {formatCount, formatDuration, plural} from './numbers.js'
import {shown} from './terminal-text.js'

type Event<K extends keyof WorkerEvents> = WorkerEvents[K][0]

/*
 * Names (topic, group, consumer) and handlers' error texts are foreign text: every log line shows
 * them through the one sanitiser, so an escape cannot drive the terminal and a CR or LF in an error
 * message cannot split a line (they read `\r`, `\n`).
 */

export const formatStart = (event: Event<'started'>, style: ChalkInstance): string => {
  const partitions = event.partitions > 1 || event.deadLetterKey === null ? ` (${event.partitions} partitions)` : ''
  const deadLetters = event.deadLetterKey === null ? "each partition's own dead-letter stream" : shown(event.deadLetterKey)
  return `Working on ${style.bold(shown(event.topic))}${partitions} as group ${style.bold(shown(event.group))}${event.groupCreated ? ' (created)' : ''}, consumer ${shown(event.consumer)}; dead letters go to ${deadLetters}`
}

export const formatRetry = (event: Event<'retry'>, style: ChalkInstance): string =>
  style.yellow(`retry ${shown(event.id)} (attempt ${event.attempt} failed) in ${formatDuration(event.delayMs)}: ${shown(`${event.error.name}: ${event.error.message}`)}`)

export const formatDeadLetter = (event: Event<'deadLettered'>, style: ChalkInstance): string =>
  style.red(`dead-lettered ${shown(event.originId)}${event.originId === event.id ? '' : ` (replayed as ${shown(event.id)})`} after ${plural(event.attempts, 'attempt')} as ${shown(event.dlqId)}: ${shown(`${event.error.name}: ${event.error.message}`)}`)

export const formatLost = (event: Event<'lost'>, style: ChalkInstance): string =>
  style.red(`lost ${plural(event.ids.length, 'entry', 'entries')} deleted or trimmed while pending: ${shown(event.ids.slice(0, 10).join(', '))}${event.ids.length > 10 ? ', …' : ''}`)

/** A line a handler logged through its context (`[id] message`). */
export const formatHandlerLog = (event: {id: string; message: string}): string => `[${shown(event.id)}] ${shown(event.message)}`

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
  if (summary.trimmed !== undefined) parts.push(`trimmed ${formatCount(summary.trimmed)}`)
  if (summary.unfinished > 0) parts.push(style.yellow(`unfinished ${formatCount(summary.unfinished)} (left pending for other workers)`))
  if (summary.released > 0) parts.push(style.yellow(`released ${formatCount(summary.released)} (read ahead, not started: other workers take them at once)`))
  if (summary.unacknowledged > 0) parts.push(style.red(`unacknowledged ${formatCount(summary.unacknowledged)} (handled, but Redis never got the acknowledgement: they will be delivered again)`))
  return `Stopped (${summary.stopReason}) after ${formatDuration(summary.durationMs)}: ${parts.join(', ')}; ${formatCount(summary.rate)} msg/s`
}

/** The line printed when `qctl topic alter` added partitions to the topic a worker runs on. */
export const formatPartitionsAdded = (event: Event<'partitionsAdded'>): string => {
  const added = event.to - event.from === 1 ? `partition ${event.from}` : `partitions ${event.from}-${event.to - 1}`
  return `${shown(event.topic)} grew from ${event.from} to ${event.to} partitions: reading ${added} too, from their start`
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
