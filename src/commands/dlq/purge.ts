import {BaseCommand} from '../../base-command.js'
import {confirmed, requireConsentPossible} from '../../cli/confirm.js'
import {dryRunLines, dryRunRows} from '../../cli/dlq-dry-run.js'
import {changeFlags, dlqFlag, olderThanFlag, partitionFlag, selectionFlags, selectionInputFrom, topicArg} from '../../cli/dlq-flags.js'
import {resolveDlqScope} from '../../core/dlq/scope.js'
import {planScope} from '../../core/dlq/scope-plan.js'
import {purgeScope, unchangedScopePurge, type DlqPurgeResult} from '../../core/dlq/scope-purge.js'
import {buildSelection} from '../../core/dlq/selection.js'
import {formatNotFound, formatPlanPlace, formatPurgeQuestion, formatPurgeSummary} from '../../format/dlq.js'
import {startSpinner} from '../../output/spinner.js'

export default class DlqPurge extends BaseCommand<typeof DlqPurge> {
  static override summary = 'Delete dead-lettered entries for good: all, or those matching the filters.'
  static override description = `Selects all entries dead-lettered from TOPIC, or those matching every given filter, and deletes exactly the entries selected when it starts: entries dead-lettered while it runs survive. On a terminal it asks for confirmation; without one it needs --yes. --dry-run lists what would be deleted.

A partitioned topic's entries are selected in the dead-letter streams of all its partitions (--limit: the oldest over all of them; --partition P: one), and each partition's are deleted from its own stream; --json adds the counts per partition.`
  static override examples = [
    '<%= config.bin %> dlq purge order.processed --older-than 7d --dry-run',
    '<%= config.bin %> dlq purge order.processed --error ValidationError --yes',
    '<%= config.bin %> dlq purge order.processed --yes --json',
    '<%= config.bin %> dlq purge order.processed --partition 3 --older-than 7d --yes',
  ]

  static override args = {topic: topicArg}

  static override flags = {
    dlq: dlqFlag,
    partition: partitionFlag,
    ...selectionFlags,
    'older-than': olderThanFlag,
    ...changeFlags,
  }

  async run(): Promise<DlqPurgeResult> {
    const {args, flags} = this
    const consent = {action: 'purge', yes: flags.yes, dryRun: flags['dry-run']}
    requireConsentPossible(consent)
    const selection = buildSelection(selectionInputFrom(args.topic, flags), Date.now())
    const redis = await this.redis('dlq')
    const scope = await resolveDlqScope(redis, args.topic, {dlq: flags.dlq, partition: flags.partition})
    const plan = await planScope(redis, scope, {selection, limit: flags.limit, keepEntries: dryRunRows(flags['dry-run'], this.jsonEnabled())})
    if (plan.notFound.length > 0) this.warnLine(formatNotFound(plan.notFound, formatPlanPlace(plan)))

    let result: DlqPurgeResult
    if (plan.ids.length === 0 || flags['dry-run']) {
      result = unchangedScopePurge(plan, {dryRun: flags['dry-run'], cancelled: false})
      if (flags['dry-run']) for (const line of dryRunLines(plan, this.jsonEnabled(), this.style)) this.log(line)
    } else if (await confirmed(consent, formatPurgeQuestion(plan))) {
      const spinner = await startSpinner(this.stderrDecorations, `purging ${formatPlanPlace(plan)}`)
      try {
        result = await purgeScope(redis, plan, {signal: this.interruptSignal(), errorContext: (await this.connection()).errorContext})
      } finally {
        spinner.stop()
      }
    } else {
      result = unchangedScopePurge(plan, {dryRun: false, cancelled: true})
    }
    this.log(formatPurgeSummary(result, this.style))
    return result
  }
}
