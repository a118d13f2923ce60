import type {ChalkInstance} from 'chalk'

import type {DoctorResult, Finding, FixOutcome, FixReport, Severity} from '../core/doctor/types.js'
import {formatDuration, plural} from './numbers.js'
import {shown} from './terminal-text.js'

/** `qctl doctor` for people: what was looked at, each finding (where, what, the fix), the counts, and what --fix did. Pure. */

const LABELS: Record<Severity, string> = {error: 'ERROR', warn: 'WARN ', info: 'NOTE '}

function paint(severity: Severity, style: ChalkInstance): (text: string) => string {
  if (severity === 'error') return style.red.bold
  if (severity === 'warn') return style.yellow
  return style.dim
}

/** Where a finding is: its topic (and partition, and key when that is not the topic), or its server. */
function whereOf(finding: Finding, onCluster: boolean): string {
  if (finding.topic === null) return finding.node === null ? 'the server' : `server ${finding.node}`
  const parts = [`${shown(finding.topic)}${finding.partition === null ? '' : `, partition ${finding.partition}`}`]
  if (finding.key !== null && finding.key !== finding.topic) parts.push(`key ${shown(finding.key)}`)
  if (onCluster && finding.node !== null) parts.push(`node ${finding.node}`)
  return parts.join(' · ')
}

export function formatFinding(finding: Finding, style: ChalkInstance, onCluster: boolean): string[] {
  return [
    `${paint(finding.severity, style)(LABELS[finding.severity])} ${style.bold(finding.check)}: ${whereOf(finding, onCluster)}`,
    `      ${shown(finding.message)}`,
    `      fix: ${shown(finding.fix)}`,
  ]
}

function summaryOf(result: DoctorResult): string {
  const {counts} = result
  if (result.findings.length === 0) return 'No problems found.'
  const parts = [plural(counts.error, 'error'), plural(counts.warn, 'warning'), plural(counts.info, 'note')]
  const fixed = result.fix?.removed ?? 0
  return `${parts.join(', ')}${fixed > 0 ? `, ${fixed} of them fixed by --fix` : ''}${result.failed ? ` (exit 8: --fail-on ${result.failOn})` : ''}`
}

function placeOfConsumer(outcome: FixOutcome): string {
  const partition = outcome.partition === null ? '' : `, partition ${outcome.partition}`
  const key = outcome.key === outcome.topic ? '' : ` (key ${shown(outcome.key)})`
  return `consumer ${shown(JSON.stringify(outcome.consumer))} of group ${shown(JSON.stringify(outcome.group))} on ${shown(outcome.topic)}${partition}${key}`
}

const KEPT_BECAUSE: Record<NonNullable<FixOutcome['reason']>, (outcome: FixOutcome) => string> = {
  'holds-pending': (outcome) => `it holds ${plural(outcome.pending ?? 0, 'pending entry', 'pending entries')} now`,
  active: () => 'it was active since the look',
  gone: () => 'it is gone already',
}

export function formatFix(fix: FixReport, style: ChalkInstance): string[] {
  if (fix.consumers.length === 0) return ['--fix: no leftover consumer to remove.']
  if (fix.cancelled) return ['--fix: nothing removed (not confirmed).']
  if (fix.dryRun) return [`--fix --dry-run: would remove ${plural(fix.consumers.length, 'leftover consumer')}:`, ...fix.consumers.map((outcome) => `  ${placeOfConsumer(outcome)}`)]
  const lines = [`--fix: removed ${plural(fix.removed, 'leftover consumer')}${fix.kept > 0 ? `, kept ${fix.kept} (checked again inside Redis)` : ''}.`]
  for (const outcome of fix.consumers) {
    if (outcome.outcome === 'removed') lines.push(`  ${style.green('removed')} ${placeOfConsumer(outcome)}`)
    else lines.push(`  ${style.yellow('kept')} ${placeOfConsumer(outcome)}: ${outcome.reason === null ? 'no longer a leftover' : KEPT_BECAUSE[outcome.reason](outcome)}`)
  }
  return lines
}

/** What was looked at and each finding: printed before --fix asks anything. */
export function formatDoctorFindings(result: DoctorResult, style: ChalkInstance): string[] {
  const {looked} = result
  const where = result.nodes.length === 1 ? `at ${result.nodes[0]}` : `on ${result.nodes.length} primaries`
  const partitioned = looked.partitionedTopics > 0 ? ` (${looked.partitionedTopics} partitioned)` : ''
  const head = `qctl doctor: ${result.server ?? 'Redis'} ${where}: ${plural(looked.topics, 'topic')}${partitioned}, ${plural(looked.streams, 'stream')}, ${plural(looked.groups, 'group')}, ${plural(looked.consumers, 'consumer')}, ${plural(looked.retryHashes, 'retry hash', 'retry hashes')}${looked.schedules > 0 ? `, ${plural(looked.schedules, 'schedule')}` : ''} in ${formatDuration(result.tookMs)}`
  const lines = [head]
  if (result.skipped.length > 0) lines.push(style.dim(`skipped: ${result.skipped.join(', ')}`))
  for (const finding of result.findings) lines.push('', ...formatFinding(finding, style, result.nodes.length > 1))
  return lines
}

/** What --fix did, and the counts (with the exit they mean). */
export function formatDoctorEnd(result: DoctorResult, style: ChalkInstance): string[] {
  return [...(result.fix === null ? [] : ['', ...formatFix(result.fix, style)]), '', summaryOf(result)]
}
