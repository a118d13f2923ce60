import {Box, Text} from 'ink'

import type {BusiestKey} from '../../core/stats/busiest-keys.js'
import {busiestKeysSection} from '../../format/top-model/busiest-keys.js'

export interface BusiestKeysProps {
  /** The focused group's busiest keys, most waiting first. */
  keys: readonly BusiestKey[]
  /** Lines available below the head. */
  lines: number
  /** A partitioned topic: a PART column names each key's partition. */
  partitioned: boolean
  /** Columns available. */
  width: number
}

/** The keys with the most messages waiting in the group's ordered workers; nothing at all when none waits. */
export function BusiestKeys({keys, lines, partitioned, width}: BusiestKeysProps) {
  const [head, ...body] = busiestKeysSection(keys, lines, partitioned, width)
  if (head === undefined) return null
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        {head}
      </Text>
      {body.map((line, index) => (
        // Lines in rank order; the index is the key's (or the "more" line's) place.
        <Text key={index} wrap="truncate">
          {line}
        </Text>
      ))}
    </Box>
  )
}
