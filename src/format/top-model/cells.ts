import type {ChalkInstance} from 'chalk'

import type {Histories, RateHistory} from './history.js'
import {SPARK_WIDTH, type ColumnKey} from './layout.js'
import {rowKey, type RateRow, type StallReason, type Trend} from '../../core/stats/rates.js'
import {downsample, largestOf, sparkline} from './sparkline.js'
import {shown} from '../terminal-text.js'
import {formatAge, formatCount} from '../numbers.js'
import {scheduledText} from '../scheduled.js'

/** The trend as text: the mark carries the meaning, colour only repeats it. */
export const TREND_MARKS: Record<Trend, string> = {
  growing: '▲ growing',
  draining: '▼ draining',
  steady: '= steady',
  idle: '· idle',
  stalled: '■ stalled',
}

/** What a stalled row's reason reads as (detail view, legend). */
export const STALL_TEXT: Record<StallReason, string> = {
  'no-active-consumer': 'no active consumer',
  'no-acks': 'nothing acknowledged for 30s+',
}

/** 0.4, 12, 1,234, 12.3k, 4.56M: a rate that fits 8 columns; `-` when unknown. */
export function formatRate(rate: number | null): string {
  if (rate === null) return '-'
  if (rate < 10) return rate === 0 ? '0' : rate.toFixed(1)
  if (rate < 10_000) return formatCount(Math.round(rate))
  if (rate < 1_000_000) return `${(rate / 1000).toFixed(1)}k`
  return `${(rate / 1_000_000).toFixed(2)}M`
}

/**
 * `orders/billing`, or the topic alone when it has no consumer group, `orders (deleted)` for the
 * dead letters of a deleted topic; names from Redis shown safely (terminal-text.ts).
 */
export const rowLabel = (row: Pick<RateRow, 'topic' | 'group'> & {kind?: RateRow['kind']}): string => {
  if (row.kind === 'orphaned-dead-letters') return `${shown(row.topic)} (deleted)`
  return shown(row.group === null ? row.topic : `${row.topic}/${row.group}`)
}

/** The widest TOPIC/GROUP label of `rows`, in columns as shown. */
export function longestLabel(rows: readonly RateRow[]): number {
  let longest = 0
  for (const row of rows) longest = Math.max(longest, [...rowLabel(row)].length)
  return longest
}

/** Whether any row's topic holds scheduled messages (then the tables show the SCHEDULED column). */
export function hasScheduled(rows: readonly RateRow[]): boolean {
  for (const row of rows) if ((row.scheduled ?? 0) > 0) return true
  return false
}

/** Whether any row is of a partitioned topic (then the tables show the PARTS column). */
export function hasPartitioned(rows: readonly RateRow[]): boolean {
  for (const row of rows) if (row.perPartition !== null) return true
  return false
}

/** Sparkline points of a row's IN and OUT rates, on one scale: the larger of the two. */
function sparkPoints(history: RateHistory | undefined, width: number, samplesPerPoint: number | undefined): {in: Array<number | null>; out: Array<number | null>; max: number} {
  const inPoints = downsample(history?.in ?? [], width, samplesPerPoint)
  const outPoints = downsample(history?.out ?? [], width, samplesPerPoint)
  return {in: inPoints, out: outPoints, max: Math.max(largestOf(inPoints, width), largestOf(outPoints, width))}
}

const lagText = (row: RateRow): string => {
  if (row.group === null) return '-'
  if (row.lag === null) return '?'
  return `${formatCount(row.lag)}${row.lagGrowing ? '↑' : ''}`
}

/**
 * Every cell of a row as plain text (no colour); sparklines need the row's history, their width
 * and how many samples one point averages (see `downsample`).
 */
export function cellText(row: RateRow, column: ColumnKey, histories: Histories = new Map(), sparkWidth = SPARK_WIDTH, samplesPerPoint?: number): string {
  const history = histories.get(rowKey(row))
  switch (column) {
    case 'name':
      return rowLabel(row)
    case 'parts':
      return row.perPartition === null ? '-' : String(row.partitions)
    case 'trend':
      return TREND_MARKS[row.trend]
    case 'depth':
      return formatCount(row.depth)
    case 'in':
      return formatRate(row.inRate)
    case 'out':
      return row.group === null ? '-' : formatRate(row.outRate)
    case 'lag':
      return lagText(row)
    case 'pending':
      return row.group === null ? '-' : formatCount(row.pending)
    case 'age':
      return row.oldestPendingAgeMs === null ? '-' : formatAge(row.oldestPendingAgeMs)
    case 'consumers':
      return row.group === null ? '-' : `${row.activeConsumers ?? '?'}/${row.consumers}`
    case 'dlq':
      return `${formatCount(row.deadLetters)}${row.deadLettersGrowing ? '↑' : ''}`
    case 'dlqIn':
      return formatRate(row.deadLetterInRate)
    case 'scheduled':
      return scheduledText(row.scheduled, row.scheduledDue)
    case 'inSpark': {
      const points = sparkPoints(history, sparkWidth, samplesPerPoint)
      return sparkline(points.in, sparkWidth, points.max)
    }
    case 'outSpark': {
      if (row.group === null) return ''
      const points = sparkPoints(history, sparkWidth, samplesPerPoint)
      return sparkline(points.out, sparkWidth, points.max)
    }
  }
}

/**
 * How a row is shown: bold magenta when stalled (a colour nothing else uses: the queue needs a
 * person), red when lag or dead letters grow, green when draining, dim when idle.
 */
export type Tone = 'stalled' | 'alert' | 'good' | 'quiet' | 'normal'

export function toneOf(row: RateRow): Tone {
  if (row.trend === 'stalled') return 'stalled'
  if (row.lagGrowing || row.deadLettersGrowing) return 'alert'
  if (row.trend === 'draining') return 'good'
  if (row.trend === 'idle') return 'quiet'
  return 'normal'
}

/** A tone's chalk style, for the one-shot table (the live screen sets Ink's props from the same tones). */
export function paintOf(tone: Tone, style: ChalkInstance): (text: string) => string {
  switch (tone) {
    case 'stalled':
      return style.bold.magenta
    case 'alert':
      return style.red
    case 'good':
      return style.green
    case 'quiet':
      return style.dim
    case 'normal':
      return (text) => text
  }
}
