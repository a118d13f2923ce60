import {BaseCommand} from '../../base-command.js'
import {confirmed, requireConsentPossible} from '../../cli/confirm.js'
import {changeFlags} from '../../cli/dlq-flags.js'
import {forceFlag, groupArgs} from '../../cli/group-flags.js'
import {applyGroupDelete, planGroupDelete, refuseLossyDelete, type GroupDeleteResult} from '../../core/groups/delete.js'
import {formatGroupDeleteQuestion, formatGroupDeleteSummary} from '../../format/group.js'

export default class GroupDelete extends BaseCommand<typeof GroupDelete> {
  static override summary = "Delete a consumer group on every partition, with qctl's state of it: retries, replay stream, held keys, leases."
  static override description = `Removes the group (XGROUP DESTROY) on each partition and every key qctl keeps for it there (retry hash, due set, takeover marks, replay stream and its state, held keys, lease and lease token, waiting-key reports) in one step per partition, and the topic's members set of the group. The entries stay in the topic for its other groups; its dead letters stay in the dead-letter stream.

Refused (exit 9) while the group has pending entries, entries in its replay stream or live consumers (seen within the last minute) on any partition, unless --force: the refusal says exactly what --force loses. Asks first on a terminal (--yes without one, exit 2); --dry-run lists the keys and what would be lost. Exits 6 if neither the group nor any of its keys exists.`
  static override examples = ['<%= config.bin %> group delete order.processed billing --dry-run', '<%= config.bin %> group delete order.processed billing --yes', '<%= config.bin %> group delete order.processed billing --force --yes --json']

  static override args = groupArgs
  static override flags = {
    force: forceFlag('Delete even with pending entries, replayed entries or live consumers (what is lost is said first).'),
    ...changeFlags,
  }

  async run(): Promise<GroupDeleteResult> {
    const {args, flags} = this
    const consent = {action: 'delete the group', yes: flags.yes, dryRun: flags['dry-run']}
    requireConsentPossible(consent)
    const redis = await this.redis('group')
    const plan = {...(await planGroupDelete(redis, args.topic, args.group)), force: flags.force}
    let result: GroupDeleteResult
    if (flags['dry-run']) result = {...plan, dryRun: true}
    else {
      if (!flags.force) refuseLossyDelete(plan)
      result = (await confirmed(consent, formatGroupDeleteQuestion(plan))) ? await applyGroupDelete(redis, plan, flags.force) : {...plan, cancelled: true}
    }
    if (!this.jsonEnabled()) for (const line of formatGroupDeleteSummary(result)) this.log(line)
    return result
  }
}
