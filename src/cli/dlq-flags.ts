import {Args, Flags} from './oclif.js'
import type {SelectionInput} from '../core/dlq/selection.js'

/** Flags and arguments shared by the `qctl dlq` commands. */

export const topicArg = Args.string({
  description: 'Topic whose dead-letter stream to use: {TOPIC}:dlq, as qctl work derives it; for a partitioned topic, every partition\'s own.',
  required: true,
  ignoreStdin: true,
})

export const dlqFlag = Flags.string({summary: 'Dead-letter stream key. Default: {TOPIC}:dlq (as qctl work derives it). Not for a partitioned topic.', helpValue: '<key>'})

export const partitionFlag = Flags.integer({summary: "Only this partition of a partitioned topic (its own dead-letter stream). Default: all of them.", min: 0, helpValue: '<n>'})

/** Filters on what an entry records; `qctl dlq list` has them too. */
export const filterFlags = {
  since: Flags.string({summary: 'Only entries dead-lettered at or after this: a duration ago (30m, 1h, 7d, 1w), an ISO time or a stream ID.', helpValue: '<when>'}),
  until: Flags.string({summary: 'Only entries dead-lettered at or before this: a duration ago, an ISO time or a stream ID.', helpValue: '<when>'}),
  error: Flags.string({summary: 'Only entries whose error name or message matches this regular expression.', helpValue: '<regex>'}),
  group: Flags.string({char: 'g', summary: 'Only entries dead-lettered by this consumer group.'}),
}

/** Which entries replay and purge act on; every given criterion must hold. */
export const selectionFlags = {
  id: Flags.string({summary: 'Only this dead-letter entry ID (repeatable).', multiple: true, helpValue: '<id>'}),
  ...filterFlags,
  limit: Flags.integer({summary: 'At most N entries (the oldest selected first, over all partitions).', min: 1, helpValue: '<n>'}),
}

/** Flags of the commands that change the dead-letter stream. */
export const changeFlags = {
  'dry-run': Flags.boolean({summary: 'List exactly what would change, and change nothing.', default: false}),
  yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required when there is no terminal).', default: false}),
}

// A string parsed with the other bounds (buildSelection), so its error lists every accepted form.
export const olderThanFlag = Flags.string({
  summary: 'Only entries dead-lettered longer ago than this duration (30m, 12h, 7d, 1w), or before this ISO time or stream ID.',
  helpValue: '<when>',
})

export interface SelectionFlags {
  id?: string[] | undefined
  since?: string | undefined
  until?: string | undefined
  error?: string | undefined
  group?: string | undefined
  'older-than'?: string | undefined
}

export const selectionInputFrom = (topic: string, flags: SelectionFlags): SelectionInput => ({
  topic,
  ids: flags.id,
  since: flags.since,
  until: flags.until,
  error: flags.error,
  group: flags.group,
  olderThan: flags['older-than'],
})
