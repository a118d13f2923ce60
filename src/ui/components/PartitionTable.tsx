import {Box, Text} from 'ink'

import type {PartitionRow} from '../../core/stats/rates.js'
import {partitionHead, partitionLines} from '../../format/top-model/detail.js'

export interface PartitionTableProps {
  /** The focused group on each partition, in partition order. */
  partitions: readonly PartitionRow[]
  /** Lines available below the head. */
  lines: number
  /** On a Redis Cluster: a NODE column names each partition's primary. */
  onCluster: boolean
}

/** A partitioned topic's focused group, one line per partition (the detail view's last part). */
export function PartitionTable({partitions, lines, onCluster}: PartitionTableProps) {
  const body = partitionLines(partitions, lines, onCluster)
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">{partitionHead(onCluster)}</Text>
      {body.map((line, index) => (
        // Lines in partition order; the index is the partition's (or the "more" line's) place.
        <Text key={index} wrap="truncate">
          {line}
        </Text>
      ))}
    </Box>
  )
}
