import {BaseCommand} from '../../base-command.js'
import {topicNameArg} from '../../cli/topic-flags.js'
import {describeTopic, type TopicDescription} from '../../core/topics/describe.js'
import {formatTopicDescription} from '../../format/topic.js'
import {shown} from '../../format/terminal-text.js'
import {tableTarget} from '../../output/table-target.js'

export default class TopicDescribe extends BaseCommand<typeof TopicDescribe> {
  static override summary = 'A topic\'s partitions: stream, hash slot, node, messages, groups and dead letters of each.'
  static override description = 'Works on plain streams too (one partition, no metadata). Exits 6 if there is neither a partitioned topic nor a stream by that name.'
  static override examples = ['<%= config.bin %> topic describe order.processed', '<%= config.bin %> topic describe order.processed --json']

  static override args = {topic: topicNameArg}

  async run(): Promise<TopicDescription> {
    const result = await describeTopic(await this.redis('topic'), this.args.topic)
    for (const warning of result.warnings) this.warnLine(shown(warning))
    if (!this.jsonEnabled()) for (const line of formatTopicDescription(result, this.style, tableTarget(process.stdout))) this.log(line)
    return result
  }
}
