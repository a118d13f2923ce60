import {Box, Text} from 'ink'

import {pendingAgeMs} from '../../core/stats/pending-age.js'
import type {FocusDetail} from '../../core/stats/snapshot.js'
import {formatAge, formatCount} from '../../format/numbers.js'
import {cellText, formatRate, rowLabel, TREND_MARKS} from '../../format/top-model/cells.js'
import {padCell} from '../../format/top-model/layout.js'
import type {RateRow} from '../../core/stats/rates.js'

export interface GroupDetailProps {
  row: RateRow
  /** The detail read for this group; null until the first refresh with it in focus. */
  detail: FocusDetail | null
  /** Lines available. */
  height: number
  now: number
}

const pad = (text: string, width: number, right = false): string => padCell(text, width, right ? 'right' : 'left')

const ageText = (ms: number | null): string => (ms === null ? '-' : formatAge(ms))

const perSecond = (rate: number | null): string => (rate === null ? 'n/a' : `${formatRate(rate)}/s`)

/** One group: its figures, its consumers (pending, idle, inactive) and its oldest pending entries. */
export function GroupDetail({row, detail, height, now}: GroupDetailProps) {
  const summary = `${TREND_MARKS[row.trend]}  in ${perSecond(row.inRate)}  out ${perSecond(row.outRate)}  lag ${cellText(row, 'lag')}  pending ${cellText(row, 'pending')}  oldest ${cellText(row, 'age')}  dlq ${cellText(row, 'dlq')}`
  if (detail === null) {
    return (
      <Box flexDirection="column">
        <Text bold>{rowLabel(row)}</Text>
        <Text wrap="truncate">{summary}</Text>
        <Text dimColor>reading consumers and pending entries…</Text>
      </Box>
    )
  }
  const consumerLines = Math.max(1, Math.floor((height - 6) / 2))
  const pendingLines = Math.max(1, height - 6 - consumerLines)
  return (
    <Box flexDirection="column">
      <Text bold>{rowLabel(row)}</Text>
      <Text wrap="truncate">{summary}</Text>
      <Text bold wrap="truncate">{`${pad('CONSUMER', 30)} ${pad('PENDING', 9, true)} ${pad('IDLE', 9, true)} ${pad('INACTIVE', 9, true)}`}</Text>
      {detail.consumers.length === 0 ? <Text dimColor>no consumers</Text> : null}
      {detail.consumers.slice(0, consumerLines).map((consumer) => (
        <Text key={consumer.name} wrap="truncate">
          {`${pad(consumer.name, 30)} ${pad(formatCount(consumer.pending), 9, true)} ${pad(formatAge(consumer.idleMs), 9, true)} ${pad(consumer.inactiveMs === null ? '-' : formatAge(consumer.inactiveMs), 9, true)}`}
        </Text>
      ))}
      <Text bold wrap="truncate">{`${pad('OLDEST PENDING', 22)} ${pad('CONSUMER', 30)} ${pad('DELIVERIES', 10, true)} ${pad('IDLE', 9, true)} ${pad('AGE', 9, true)}`}</Text>
      {detail.oldestPending.length === 0 ? <Text dimColor>nothing pending</Text> : null}
      {detail.oldestPending.slice(0, pendingLines).map((entry) => (
        <Text key={entry.id} wrap="truncate">
          {`${pad(entry.id, 22)} ${pad(entry.consumer, 30)} ${pad(String(entry.deliveries), 10, true)} ${pad(formatAge(entry.idleMs), 9, true)} ${pad(ageText(pendingAgeMs(entry.id, entry.idleMs, now)), 9, true)}`}
        </Text>
      ))}
    </Box>
  )
}
