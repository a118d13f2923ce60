import {Flags} from './oclif.js'
import {durationWord as duration} from '../core/doctor/fix-commands.js'
import {CHECK_IDS, DEFAULT_THRESHOLDS, type CheckId, type DoctorThresholds} from '../core/doctor/types.js'
import {durationFlag} from '../flags.js'

/** `qctl doctor`'s flags: the limits of its checks (defaults in core/doctor/types.ts), the gate and --fix. */

export const doctorFlags = {
  match: Flags.string({summary: 'Only topics whose names match this glob (SCAN MATCH syntax), with their dead-letter, replay and retry keys.', default: '*', helpValue: '<glob>'}),
  'visibility-timeout': durationFlag({
    summary: `The --visibility-timeout your workers use: entries idle twice as long, and consumers holding entries silent that long, are stuck (default ${duration(DEFAULT_THRESHOLDS.visibilityTimeoutMs)}, as qctl work's).`,
  }),
  'leftover-after': durationFlag({summary: `A consumer that holds nothing and was idle this long is a leftover (default ${duration(DEFAULT_THRESHOLDS.leftoverAfterMs)}, as qctl work's --prune-consumers-after).`}),
  'max-untrimmed': Flags.integer({summary: `A stream never trimmed that holds more entries than this grows without bound (default ${DEFAULT_THRESHOLDS.maxUntrimmed}).`, min: 0}),
  'dlq-window': durationFlag({summary: `A dead-letter stream that received --dlq-growth entries within this window grows (default ${duration(DEFAULT_THRESHOLDS.dlqWindowMs)}).`}),
  'dlq-growth': Flags.integer({summary: `Dead letters within --dlq-window that make a dead-letter stream a finding (default ${DEFAULT_THRESHOLDS.dlqGrowth}).`, min: 1}),
  sample: Flags.integer({summary: `Pending entries (the oldest) and retry records read per group or hash, at most (default ${DEFAULT_THRESHOLDS.sample}).`, min: 1, max: 10_000}),
  'fail-on': Flags.option({options: ['warn', 'error'] as const, summary: 'Exit 8 when a finding is of this severity or worse.', default: 'error' as const})(),
  skip: Flags.option({options: CHECK_IDS, summary: 'Leave out this check (repeatable); server-settings: do not read INFO at all.', multiple: true})(),
  fix: Flags.boolean({summary: 'Remove the leftover consumers found, each only if it still holds nothing and is idle (checked inside Redis); asks first (--yes without a terminal).'}),
  // --fix is the only change doctor makes: its consent flags mean nothing without it.
  'dry-run': Flags.boolean({summary: 'With --fix: list the leftover consumers it would remove, and remove nothing.', dependsOn: ['fix']}),
  yes: Flags.boolean({char: 'y', summary: 'With --fix: do not ask for confirmation (required when there is no terminal).', dependsOn: ['fix']}),
}

interface ThresholdFlags {
  'visibility-timeout'?: number | undefined
  'leftover-after'?: number | undefined
  'max-untrimmed'?: number | undefined
  'dlq-window'?: number | undefined
  'dlq-growth'?: number | undefined
  sample?: number | undefined
}

export const thresholdsFrom = (flags: ThresholdFlags): DoctorThresholds => ({
  visibilityTimeoutMs: flags['visibility-timeout'] ?? DEFAULT_THRESHOLDS.visibilityTimeoutMs,
  leftoverAfterMs: flags['leftover-after'] ?? DEFAULT_THRESHOLDS.leftoverAfterMs,
  maxUntrimmed: flags['max-untrimmed'] ?? DEFAULT_THRESHOLDS.maxUntrimmed,
  dlqWindowMs: flags['dlq-window'] ?? DEFAULT_THRESHOLDS.dlqWindowMs,
  dlqGrowth: flags['dlq-growth'] ?? DEFAULT_THRESHOLDS.dlqGrowth,
  sample: flags.sample ?? DEFAULT_THRESHOLDS.sample,
})

export const skippedChecks = (skip: readonly CheckId[] | undefined): CheckId[] => [...new Set(skip ?? [])]
