import {Flags} from '../../cli/oclif.js'
import {BaseCommand} from '../../base-command.js'
import {partitionsFlag, topicNameArg} from '../../cli/topic-flags.js'
import {checkCreateRequest, createTopic, type CreateResult} from '../../core/topics/create.js'
import {MAX_PARTITIONS} from '../../core/partitions/placement.js'
import {formatTopicDescription} from '../../format/topic.js'
import {shown} from '../../format/terminal-text.js'
import {tableTarget} from '../../output/table-target.js'

export default class TopicCreate extends BaseCommand<typeof TopicCreate> {
  static override summary = 'Create a partitioned topic: N streams, each in its own hash slot, messages routed by key.'
  static override description = `Writes the topic's metadata (qctl:topic:{TOPIC}) and names one stream per partition, spread over the cluster's primaries. A message with a key goes to partition murmur2(key) mod N (Kafka's partitioner); messages without one are spread over the partitions batch by batch. Exits 9 if the topic exists (unless --if-not-exists finds it with the same count), 2 if a plain stream has that name. At most ${MAX_PARTITIONS} partitions.`
  static override examples = ['<%= config.bin %> topic create order.processed --partitions 8', '<%= config.bin %> topic create order.processed -p 8 --if-not-exists --json']

  static override args = {topic: topicNameArg}
  static override flags = {
    partitions: partitionsFlag('Number of partitions.'),
    'if-not-exists': Flags.boolean({summary: 'Succeed without change when the topic exists with this partition count.', default: false}),
  }

  async run(): Promise<CreateResult> {
    const request = {topic: this.args.topic, partitions: this.flags.partitions, ifNotExists: this.flags['if-not-exists']}
    checkCreateRequest(request)
    const result = await createTopic(await this.redis('topic'), request)
    if (!this.jsonEnabled()) {
      this.log(result.created ? `created topic ${shown(result.topic)}` : `topic ${shown(result.topic)} already exists as asked`)
      for (const line of formatTopicDescription(result, this.style, tableTarget(process.stdout))) this.log(line)
    }
    return result
  }
}
