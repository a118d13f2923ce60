import {Flags} from '../../cli/oclif.js'
import {BaseCommand} from '../../base-command.js'
import {confirmed} from '../../cli/confirm.js'
import {changeFlags} from '../../cli/dlq-flags.js'
import {forceFlag, groupArgs} from '../../cli/group-flags.js'
import {POSITION_FORMS} from '../../core/groups/position.js'
import {applySeek, planSeek, refuseLiveConsumers, seekIsDestructive, type SeekResult} from '../../core/groups/seek.js'
import {formatSeekQuestion, formatSeekSummary} from '../../format/group.js'
import {shown} from '../../format/terminal-text.js'
import {tableTarget} from '../../output/table-target.js'

export default class GroupSeek extends BaseCommand<typeof GroupSeek> {
  static override summary = "Move a consumer group's position (last-delivered ID) on every partition: back to deliver entries again, or forward to skip them."
  static override description = `--to start, end, an entry ID (a plain topic only), a time or a duration ago (15m-ago): the group is placed after the last entry added before that time on each partition, so every entry added since is delivered (again). --to-group OTHER copies another group's position, partition by partition (exits 6 if OTHER is missing on any). The group's entries-read counter is set with the position (XGROUP SETID … ENTRIESREAD), so its lag stays exact.

Refused (exit 9) while the group has live consumers (seen within the last minute; qctl's parked pseudo-consumer does not count), unless --force: stop its workers first. Pending entries are kept: they stay pending and will still be acknowledged or retried; --drop-pending acknowledges them and removes their retry state (the summary says how many). A seek that skips entries not delivered yet, or drops pending ones, asks first on a terminal and needs --yes without one (exit 2); --dry-run prints, per partition, the old and new position and how many entries would be delivered again or skipped, and changes nothing.`
  static override examples = [
    '<%= config.bin %> group seek order.processed billing --to 15m-ago --dry-run',
    '<%= config.bin %> group seek order.processed billing --to end --yes',
    '<%= config.bin %> group seek order.processed billing --to-group shipping --json',
  ]

  static override args = groupArgs
  static override flags = {
    to: Flags.string({summary: `Where to move the group: ${POSITION_FORMS}.`, helpValue: '<position>', exactlyOne: ['to', 'to-group']}),
    'to-group': Flags.string({summary: "Copy this group's position, partition by partition.", helpValue: '<group>', exactlyOne: ['to', 'to-group']}),
    'drop-pending': Flags.boolean({summary: "Acknowledge the group's pending entries and remove their retry state (default: they stay pending).", default: false}),
    force: forceFlag('Move the group even while it has live consumers (they go on from wherever they are).'),
    ...changeFlags,
  }

  async run(): Promise<SeekResult> {
    const {args, flags} = this
    const redis = await this.redis('group')
    const plan = await planSeek(redis, {topic: args.topic, group: args.group, to: flags.to, toGroup: flags['to-group'], dropPending: flags['drop-pending']})
    for (const warning of plan.result.warnings) this.warnLine(shown(warning))
    let result: SeekResult
    if (flags['dry-run']) result = {...plan.result, dryRun: true}
    else {
      if (!flags.force) refuseLiveConsumers(plan.result, 'move')
      const consent = {action: 'move the group', yes: flags.yes, dryRun: false}
      if (!seekIsDestructive(plan.result) || (await confirmed(consent, formatSeekQuestion(plan.result)))) result = await applySeek(redis, plan, args.group)
      else result = {...plan.result, cancelled: true}
      for (const warning of result.warnings.slice(plan.result.warnings.length)) this.warnLine(shown(warning))
    }
    if (!this.jsonEnabled()) for (const line of formatSeekSummary(result, this.style, tableTarget(process.stdout))) this.log(line)
    return result
  }
}
