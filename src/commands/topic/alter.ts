import {BaseCommand} from '../../base-command.js'
import {confirmed, requireConsentPossible} from '../../cli/confirm.js'
import {changeFlags} from '../../cli/dlq-flags.js'
import {partitionsFlag, topicNameArg} from '../../cli/topic-flags.js'
import {applyAlter, planAlter, type AlterResult} from '../../core/topics/alter.js'
import {describeLayout} from '../../core/topics/describe.js'
import {resolveTopic} from '../../core/partitions/metadata.js'
import {keySlot} from '../../core/redis/key-slot.js'
import {formatAlterSummary, formatKeysMoved} from '../../format/topic.js'
import {tableTarget} from '../../output/table-target.js'

export default class TopicAlter extends BaseCommand<typeof TopicAlter> {
  static override summary = 'Add partitions to a partitioned topic (never remove them).'
  static override description = `Growing a topic moves keys: a key goes to murmur2(key) mod M from then on, so the new messages of a moved key may go to another partition than its older ones, and their order across the two is not kept until the older ones are handled. The command says how many of the keys sampled from the newest messages move, and asks before changing anything (--yes without a terminal). Every consumer group of the topic is made on the new partitions at their start, and running workers read them within 5 s (restart long-running publishers: they route by the count they read at start). Exits 2 for fewer partitions than the topic has, 6 for a topic that does not exist, 9 if the topic changed meanwhile.`
  static override examples = ['<%= config.bin %> topic alter order.processed --partitions 16 --dry-run', '<%= config.bin %> topic alter order.processed -p 16 --yes']

  static override args = {topic: topicNameArg}
  static override flags = {partitions: partitionsFlag('The new number of partitions (more than now).'), ...changeFlags}

  async run(): Promise<AlterResult> {
    const {args, flags} = this
    const consent = {action: 'alter the topic', yes: flags.yes, dryRun: flags['dry-run']}
    requireConsentPossible(consent)
    const redis = await this.redis('topic')
    const plan = await planAlter(redis, args.topic, flags.partitions)
    const summary = {from: plan.from, to: plan.to, sampledKeys: plan.sampledKeys, movedKeys: plan.movedKeys}
    let result: AlterResult
    if (flags['dry-run'] || plan.added.length === 0) {
      const description = await describeLayout(redis, await resolveTopic(redis, args.topic))
      // A dry run lists the partitions it would add after the existing ones.
      const would = flags['dry-run'] ? plan.added.map((stream, at) => ({...emptyPartition, partition: plan.from + at, stream, slot: keySlot(stream)})) : []
      result = {...description, partitions: [...description.partitions, ...would], ...summary, dryRun: flags['dry-run'], changed: false, groups: flags['dry-run'] ? plan.groups : []}
    } else if (await confirmed(consent, `${formatKeysMoved(summary)}. Add ${plan.added.length} partitions?`)) {
      result = await applyAlter(redis, plan)
    } else {
      result = {...(await describeLayout(redis, await resolveTopic(redis, args.topic))), ...summary, dryRun: false, changed: false, groups: []}
    }
    if (!this.jsonEnabled()) for (const line of formatAlterSummary(result, this.style, tableTarget(process.stdout))) this.log(line)
    return result
  }
}

const emptyPartition = {node: null, exists: false, length: 0, firstId: null, lastId: null, groups: 0, deadLetters: 0}
