import {BaseCommand} from '../../base-command.js'
import {confirmed, requireConsentPossible} from '../../cli/confirm.js'
import {changeFlags} from '../../cli/dlq-flags.js'
import {topicNameArg} from '../../cli/topic-flags.js'
import {applyDelete, planDelete, type DeleteResult} from '../../core/topics/delete.js'
import {formatDeleteQuestion, formatDeleteSummary} from '../../format/topic.js'

export default class TopicDelete extends BaseCommand<typeof TopicDelete> {
  static override summary = 'Delete a topic for good: its streams, dead letters, group state and metadata.'
  static override description = `Every key of the topic: each partition's stream (or the plain stream), its dead-letter stream, its groups' retry, due, takeover and replay keys, and the metadata last, so a delete cut short can be run again. Asks first (--yes without a terminal); --dry-run lists the keys. Stop the topic's workers and producers first: they recreate what they use. Exits 6 if the topic does not exist.`
  static override examples = ['<%= config.bin %> topic delete order.processed --dry-run', '<%= config.bin %> topic delete order.processed --yes']

  static override args = {topic: topicNameArg}
  static override flags = {...changeFlags}

  async run(): Promise<DeleteResult> {
    const {args, flags} = this
    const consent = {action: 'delete the topic', yes: flags.yes, dryRun: flags['dry-run']}
    requireConsentPossible(consent)
    const redis = await this.redis('topic')
    const plan = await planDelete(redis, args.topic)
    let result: DeleteResult
    if (flags['dry-run']) result = {...plan, dryRun: true}
    else if (await confirmed(consent, formatDeleteQuestion(plan))) result = await applyDelete(redis, plan)
    else result = {...plan, cancelled: true}
    if (!this.jsonEnabled()) for (const line of formatDeleteSummary(result)) this.log(line)
    return result
  }
}
