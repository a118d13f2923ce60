import {rowKey, type Histories} from './history.js'
import {SPARK_WIDTH, type ColumnKey} from './layout.js'
import type {RateRow, Trend} from '../../core/stats/rates.js'
import {downsample, sparkline} from './sparkline.js'
import {formatAge, formatCount} from '../numbers.js'

/** The trend as text: the mark carries the meaning, colour only repeats it. */
export const TREND_MARKS: Record<Trend, string> = {
  growing: '▲ growing',
  draining: '▼ draining',
  steady: '= steady',
  idle: '· idle',
}

/** 0.4, 12, 1,234, 12.3k, 4.56M: a rate that fits 8 columns; `-` when unknown. */
export function formatRate(rate: number | null): string {
  if (rate === null) return '-'
  if (rate < 10) return rate === 0 ? '0' : rate.toFixed(1)
  if (rate < 10_000) return formatCount(Math.round(rate))
  if (rate < 1_000_000) return `${(rate / 1000).toFixed(1)}k`
  return `${(rate / 1_000_000).toFixed(2)}M`
}

/** `orders/billing`, or the topic alone when it has no consumer group. */
export const rowLabel = (row: Pick<RateRow, 'topic' | 'group'>): string => (row.group === null ? row.topic : `${row.topic}/${row.group}`)

const lagText = (row: RateRow): string => {
  if (row.group === null) return '-'
  if (row.lag === null) return '?'
  return `${formatCount(row.lag)}${row.lagGrowing ? '↑' : ''}`
}

/** Every cell of a row as plain text (no colour); sparklines need the row's history and width. */
export function cellText(row: RateRow, column: ColumnKey, histories: Histories = new Map(), sparkWidth = SPARK_WIDTH): string {
  const history = histories.get(rowKey(row))
  switch (column) {
    case 'name':
      return rowLabel(row)
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
    case 'inSpark':
      return sparkline(downsample(history?.in ?? [], sparkWidth), sparkWidth)
    case 'outSpark':
      return row.group === null ? '' : sparkline(downsample(history?.out ?? [], sparkWidth), sparkWidth)
  }
}

/** How a row is shown: red when lag or dead letters grow, green when draining, dim when idle. */
export type Tone = 'alert' | 'good' | 'quiet' | 'normal'

export function toneOf(row: RateRow): Tone {
  if (row.lagGrowing || row.deadLettersGrowing) return 'alert'
  if (row.trend === 'draining') return 'good'
  if (row.trend === 'idle') return 'quiet'
  return 'normal'
}
