import {Args, Flags} from '@oclif/core'

import type {SelectionInput} from '../core/dlq/selection.js'
import {durationFlag} from '../flags.js'

/** Flags and arguments shared by the `qctl dlq` commands. */

export const topicArg = Args.string({
  description: 'Topic (stream key) whose dead-letter stream to use: {TOPIC}:dlq, as qctl work derives it.',
  required: true,
  ignoreStdin: true,
})

export const dlqFlag = Flags.string({summary: 'Dead-letter stream key. Default: {TOPIC}:dlq (as qctl work derives it).', helpValue: '<key>'})

/** Which entries replay and purge act on; every given criterion must hold. */
export const selectionFlags = {
  id: Flags.string({summary: 'Only this dead-letter entry ID (repeatable).', multiple: true, helpValue: '<id>'}),
  since: Flags.string({summary: 'Only entries dead-lettered at or after this ISO time or stream ID.', helpValue: '<time|id>'}),
  until: Flags.string({summary: 'Only entries dead-lettered at or before this ISO time or stream ID.', helpValue: '<time|id>'}),
  error: Flags.string({summary: 'Only entries whose error name or message matches this regular expression.', helpValue: '<regex>'}),
  group: Flags.string({char: 'g', summary: 'Only entries dead-lettered by this consumer group.'}),
  limit: Flags.integer({summary: 'At most N entries (the oldest selected first).', min: 1, helpValue: '<n>'}),
}

/** Flags of the commands that change the dead-letter stream. */
export const changeFlags = {
  'dry-run': Flags.boolean({summary: 'List exactly what would change, and change nothing.', default: false}),
  yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required when there is no terminal).', default: false}),
}

export const olderThanFlag = durationFlag({summary: 'Only entries dead-lettered longer ago than this (e.g. 7d, 12h).'})

export interface SelectionFlags {
  id?: string[] | undefined
  since?: string | undefined
  until?: string | undefined
  error?: string | undefined
  group?: string | undefined
  'older-than'?: number | undefined
}

export const selectionInputFrom = (topic: string, flags: SelectionFlags): SelectionInput => ({
  topic,
  ids: flags.id,
  since: flags.since,
  until: flags.until,
  error: flags.error,
  group: flags.group,
  olderThanMs: flags['older-than'],
})
