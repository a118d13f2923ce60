import {BaseCommand} from '../base-command.js'
import {doctorFlags, skippedChecks, thresholdsFrom} from '../cli/doctor-flags.js'
import {confirmed, requireConsentPossible} from '../cli/confirm.js'
import {runDoctor, withFix} from '../core/doctor/doctor.js'
import {leftoversOf, removeLeftovers, unchangedFix} from '../core/doctor/fix.js'
import type {DoctorResult} from '../core/doctor/types.js'
import {formatDoctorEnd, formatDoctorFindings} from '../format/doctor.js'
import {plural} from '../format/numbers.js'
import {startSpinner} from '../output/spinner.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary = 'Check a Redis for the problems of queues on Redis Streams, and say how to fix each.'
  static override description = `Looks at every topic (--match: those whose names match), on every primary of a Redis Cluster, for: consumers stuck with pending entries, leftover consumers, pending entries nobody reclaims, groups that never acknowledge, groups whose lag Redis cannot tell, streams that grow without bound, growing dead-letter streams, scheduled messages overdue with nothing to append them, retry records of entries that are gone, keys named like qctl's that hold another type, partitioned topics' metadata qctl did not write, and server settings that weaken the guarantee (appendonly, maxmemory-policy, replicas; read with INFO, a note when refused). Each finding has a severity (error, warn, info), where it is, what was seen and the command that fixes it.

Exits 8 when a finding is at or above --fail-on (default error), for CI. --fix removes the leftover consumers found, each in one step inside Redis that first checks it still holds nothing: a consumer that got an entry meanwhile is kept.`
  static override examples = [
    '<%= config.bin %> doctor',
    "<%= config.bin %> doctor --match 'order.*' --fail-on warn --json",
    '<%= config.bin %> doctor --visibility-timeout 2m --skip server-settings',
    '<%= config.bin %> doctor --fix --dry-run',
  ]

  static override flags = doctorFlags

  async run(): Promise<DoctorResult> {
    const {flags} = this
    const dryRun = flags['dry-run'] === true
    const consent = {action: 'remove leftover consumers', yes: flags.yes === true, dryRun}
    if (flags.fix) requireConsentPossible(consent)
    const thresholds = thresholdsFrom(flags)
    const redis = await this.redis('doctor')
    const user = (await this.connection()).target.username ?? 'default'
    const spinner = await startSpinner(this.stderrDecorations, 'looking')
    let result: DoctorResult
    try {
      result = await runDoctor(redis, {match: flags.match, thresholds, skip: skippedChecks(flags.skip), failOn: flags['fail-on'], user})
    } finally {
      spinner.stop()
    }
    const human = !this.jsonEnabled()
    if (human) for (const line of formatDoctorFindings(result, this.style)) this.log(line)
    if (flags.fix) {
      const leftovers = leftoversOf(result.findings)
      if (leftovers.length === 0 || dryRun) result = withFix(result, unchangedFix(leftovers, {dryRun, cancelled: false}))
      else if (await confirmed(consent, `Remove ${plural(leftovers.length, 'leftover consumer')} (each only if it still holds nothing)? [y/N] `)) result = withFix(result, await removeLeftovers(redis, leftovers, thresholds.leftoverAfterMs))
      else result = withFix(result, unchangedFix(leftovers, {dryRun: false, cancelled: true}))
    }
    if (human) for (const line of formatDoctorEnd(result, this.style)) this.log(line)
    if (result.failed) process.exitCode = 8
    return result
  }
}
