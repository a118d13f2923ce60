import {Flags} from '../../cli/oclif.js'
import {BaseCommand} from '../../base-command.js'
import {groupArgs} from '../../cli/group-flags.js'
import {createGroup, type GroupCreateResult} from '../../core/groups/create.js'
import {POSITION_FORMS} from '../../core/groups/position.js'
import {formatCreateSummary} from '../../format/group.js'

export default class GroupCreate extends BaseCommand<typeof GroupCreate> {
  static override summary = 'Create a consumer group at a position, on every partition, with its replay stream as qctl work makes it.'
  static override description = `--from start (every entry), latest (only entries added from now on), an entry ID (a plain topic only: each partition has IDs of its own) or a time (on every partition the group is placed after the last entry added before it: every entry added at or after it is delivered). The group's entries-read counter is set with it, so qctl lag (and XINFO GROUPS) report its lag exactly from the start. On a partitioned topic the group is made on every partition (a partition's stream is made if it has none yet), and on every partition's replay stream, as a worker would make it, so a worker started later finds both as its own. Exits 9 if the group exists on any partition (naming them; --if-not-exists makes it only where it is missing), 6 for a topic that does not exist, 2 for a key that is not a stream, an ID past the stream's end or a time in the future.`
  static override examples = [
    '<%= config.bin %> group create order.processed billing --from start',
    '<%= config.bin %> group create order.processed audit --from 2026-11-28T00:00:00Z',
    '<%= config.bin %> group create order.processed billing --from latest --if-not-exists --json',
  ]

  static override args = groupArgs
  static override flags = {
    from: Flags.string({summary: `Where the group starts: ${POSITION_FORMS}.`, required: true, helpValue: '<position>'}),
    'if-not-exists': Flags.boolean({summary: 'Succeed where the group exists already (left as it is), and make it only where it is missing.', default: false}),
    'dry-run': Flags.boolean({summary: 'Say where the group would be made, and make nothing.', default: false}),
  }

  async run(): Promise<GroupCreateResult> {
    const {args, flags} = this
    const result = await createGroup(await this.redis('group'), {topic: args.topic, group: args.group, from: flags.from, ifNotExists: flags['if-not-exists'], dryRun: flags['dry-run']})
    if (!this.jsonEnabled()) for (const line of formatCreateSummary(result)) this.log(line)
    return result
  }
}
