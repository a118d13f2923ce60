import {Flags} from '../../cli/oclif.js'
import {BaseCommand} from '../../base-command.js'
import {listTopics, type TopicListRow} from '../../core/topics/list.js'
import {formatTopicList} from '../../format/topic.js'
import {tableTarget} from '../../output/table-target.js'

export default class TopicList extends BaseCommand<typeof TopicList> {
  static override summary = 'Every topic: partitioned topics and plain streams, with their partition counts and messages.'
  static override description = 'Dead-letter streams, replay streams and the partitions\' own streams are not listed. `--json` prints an array of {topic, partitioned, partitionCount, messages}.'
  static override examples = ['<%= config.bin %> topic list', "<%= config.bin %> topic list --match 'order.*' --json"]

  static override flags = {match: Flags.string({summary: 'Only topics whose names match this glob.', default: '*', helpValue: '<glob>'})}

  async run(): Promise<TopicListRow[]> {
    const rows = await listTopics(await this.redis('topic'), this.flags.match)
    if (!this.jsonEnabled()) for (const line of formatTopicList(rows, this.style, tableTarget(process.stdout))) this.log(line)
    return rows
  }
}
