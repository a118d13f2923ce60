import {Args, Flags} from '../../cli/oclif.js'
import {BaseCommand} from '../../base-command.js'
import {missingTopicsError} from '../../core/errors.js'
import {groupListRows, type GroupListRow} from '../../core/groups/list.js'
import {missingTopics} from '../../core/lag/lag.js'
import {statsOfNamedOrAll} from '../../core/stats/named-or-all.js'
import {formatGroupList} from '../../format/group.js'
import {shown} from '../../format/terminal-text.js'
import {tableTarget} from '../../output/table-target.js'

export default class GroupList extends BaseCommand<typeof GroupList> {
  static override summary = 'Every consumer group: its lag, pending entries, consumers (live/total) and position (last-delivered ID).'
  static override description = `Read as qctl lag reads (and with the same rights: the monitor role may run it). Without TOPIC, every stream in the database and every partitioned topic (--match filters). A partitioned topic's group is one row over all its partitions (lag and pending summed, its newest last-delivered ID); --partitions gives a row per partition, with each one's own position. Topics without groups have no rows. Exits 6 for a named TOPIC that does not exist, 2 for one that is not a stream.`
  static override examples = ['<%= config.bin %> group list', '<%= config.bin %> group list order.processed --partitions', "<%= config.bin %> group list --match 'order.*' --json"]

  static override strict = false
  static override args = {topic: Args.string({description: 'Topics whose groups to list (default: every topic).', ignoreStdin: true})}
  static override flags = {
    match: Flags.string({summary: 'Only topics whose key matches this glob (SCAN MATCH syntax).', helpValue: '<glob>'}),
    partitions: Flags.boolean({summary: "A partitioned topic's groups per partition, each with its own position."}),
  }

  async run(): Promise<GroupListRow[]> {
    const topics = this.positionals.length > 0 ? this.positionals : undefined
    const warned = new Set<string>()
    const warnOnce = (message: string): void => {
      if (!warned.has(message)) this.warnLine(shown(message))
      warned.add(message)
    }
    const stats = await statsOfNamedOrAll(await this.redis('group'), topics, {match: this.flags.match, onWarning: warnOnce, reading: 'lag'})
    const missing = topics === undefined ? [] : missingTopics(topics, stats)
    if (missing.length > 0) throw missingTopicsError(missing)
    for (const topic of stats) for (const warning of topic.warnings) warnOnce(warning)
    const rows = groupListRows(stats, this.flags.partitions)
    if (!this.jsonEnabled()) for (const line of formatGroupList(rows, this.style, tableTarget(process.stdout))) this.log(line)
    return rows
  }
}
