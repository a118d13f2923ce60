import {Box, Text} from 'ink'

import {pendingAgeMs} from '../../core/stats/pending-age.js'
import type {RateRow} from '../../core/stats/rates.js'
import {pendingEntryKey, type FocusDetail, type FocusPending} from '../../core/stats/snapshot.js'
import {formatAge, formatCount} from '../../format/numbers.js'
import {shown} from '../../format/terminal-text.js'
import {cellText, formatRate, STALL_TEXT, TREND_MARKS} from '../../format/top-model/cells.js'
import {detailTitle, sectionLines} from '../../format/top-model/detail.js'
import {padCell} from '../../format/top-model/layout.js'
import {BusiestKeys} from './BusiestKeys.js'
import {PartitionTable} from './PartitionTable.js'

export interface GroupDetailProps {
  row: RateRow
  /** The detail read for this group; null until the first refresh with it in focus. */
  detail: FocusDetail | null
  /** Lines available. */
  height: number
  /** Columns available. */
  width: number
  now: number
}

const pad = (text: string, width: number, right = false): string => padCell(text, width, right ? 'right' : 'left')

const ageText = (ms: number | null): string => (ms === null ? '-' : formatAge(ms))

const perSecond = (rate: number | null): string => (rate === null ? 'n/a' : `${formatRate(rate)}/s`)

/** Widths of the pending-entry columns other than CONSUMER (ID, DELIVERIES, IDLE, AGE), spaces included. */
const PENDING_FIXED = 22 + 1 + 1 + 10 + 1 + 9 + 1 + 9
/** The PART column of a partitioned topic's pending entries, with its space. */
const PART_WIDTH = 4
/** Room kept after AGE for the retry note ("  retry in 12m05s"). */
const NOTE_WIDTH = 17
const CONSUMER_MIN = 8
const CONSUMER_MAX = 30

/**
 * The CONSUMER column of the pending entries takes what is left, so AGE (after it) is never cut,
 * and the retry note after AGE fits where it can.
 */
const consumerWidth = (width: number, partitioned: boolean): number => Math.max(CONSUMER_MIN, Math.min(CONSUMER_MAX, width - PENDING_FIXED - (partitioned ? PART_WIDTH + 1 : 0) - NOTE_WIDTH))

/**
 * One group: its figures, its consumers (pending, idle, inactive), its oldest pending entries and,
 * when its ordered workers report any, its busiest keys (BusiestKeys); of a partitioned topic, over
 * all its partitions (each pending entry and key with its PART), then a line per partition
 * (PartitionTable).
 */
export function GroupDetail({row, detail, height, width, now}: GroupDetailProps) {
  const stall = row.stall === null ? '' : `  (${STALL_TEXT[row.stall]})`
  const summary = `${TREND_MARKS[row.trend]}${stall}  in ${perSecond(row.inRate)}  out ${perSecond(row.outRate)}  lag ${cellText(row, 'lag')}  pending ${cellText(row, 'pending')}  oldest ${cellText(row, 'age')}  dlq ${cellText(row, 'dlq')}`
  const tableLines = sectionLines(row.perPartition?.length ?? 0, height)
  const partitions =
    row.perPartition === null ? null : <PartitionTable partitions={row.perPartition} lines={tableLines} onCluster={row.perPartition.some((partition) => partition.node !== null)} />
  if (detail === null) {
    return (
      <Box flexDirection="column">
        <Text bold>{detailTitle(row)}</Text>
        <Text wrap="truncate">{summary}</Text>
        <Text dimColor>reading consumers and pending entries…</Text>
        {partitions}
      </Box>
    )
  }
  const keyLines = sectionLines(detail.busiestKeys.length, height)
  const shared = height - 6 - (partitions === null ? 0 : 1 + tableLines) - (keyLines === 0 ? 0 : 1 + keyLines)
  const consumerLines = Math.max(1, Math.floor(shared / 2))
  const pendingLines = Math.max(1, shared - consumerLines)
  const partitioned = row.perPartition !== null
  const cw = consumerWidth(width, partitioned)
  const part = (entry: FocusPending): string => (partitioned ? `${pad(entry.partition === undefined ? '-' : String(entry.partition), PART_WIDTH, true)} ` : '')
  const retryNote = (entry: FocusPending): string => {
    const wait = detail.retryInMs.get(pendingEntryKey(entry))
    return wait === undefined ? '' : `  retry in ${formatAge(wait)}`
  }
  return (
    <Box flexDirection="column">
      <Text bold>{detailTitle(row)}</Text>
      <Text wrap="truncate">{summary}</Text>
      <Text bold wrap="truncate">{`${pad('CONSUMER', 30)} ${pad('PENDING', 9, true)} ${pad('IDLE', 9, true)} ${pad('INACTIVE', 9, true)}`}</Text>
      {detail.consumers.length === 0 ? <Text dimColor>no consumers</Text> : null}
      {detail.consumers.slice(0, consumerLines).map((consumer) => (
        <Text key={consumer.name} wrap="truncate">
          {`${pad(shown(consumer.name), 30)} ${pad(formatCount(consumer.pending), 9, true)} ${pad(formatAge(consumer.idleMs), 9, true)} ${pad(consumer.inactiveMs === null ? '-' : formatAge(consumer.inactiveMs), 9, true)}`}
        </Text>
      ))}
      <Text bold wrap="truncate">{`${pad('OLDEST PENDING', 22)} ${partitioned ? `${pad('PART', PART_WIDTH, true)} ` : ''}${pad('CONSUMER', cw)} ${pad('DELIVERIES', 10, true)} ${pad('IDLE', 9, true)} ${pad('AGE', 9, true)}`}</Text>
      {detail.oldestPending.length === 0 ? <Text dimColor>nothing pending</Text> : null}
      {detail.oldestPending.slice(0, pendingLines).map((entry) => (
        <Text key={pendingEntryKey(entry)} wrap="truncate">
          {`${pad(entry.id, 22)} ${part(entry)}${pad(shown(entry.consumer), cw)} ${pad(String(entry.deliveries), 10, true)} ${pad(formatAge(entry.idleMs), 9, true)} ${pad(ageText(pendingAgeMs(entry.id, entry.idleMs, now)), 9, true)}${retryNote(entry)}`}
        </Text>
      ))}
      <BusiestKeys keys={detail.busiestKeys} lines={keyLines} partitioned={partitioned} width={width} />
      {partitions}
    </Box>
  )
}
