import {BaseCommand} from '../../base-command.js'
import {confirmed, requireConsentPossible} from '../../cli/confirm.js'
import {changeFlags, dlqFlag, olderThanFlag, selectionFlags, selectionInputFrom, topicArg} from '../../cli/dlq-flags.js'
import {planSelection} from '../../core/dlq/plan.js'
import {purgePlan, unchangedPurge, type PurgeResult} from '../../core/dlq/purge.js'
import {resolveDlqKey} from '../../core/dlq/read.js'
import {buildSelection} from '../../core/dlq/selection.js'
import {formatDlqTable, formatNotFound, formatPurgeQuestion, formatPurgeSummary} from '../../format/dlq.js'
import {startSpinner} from '../../output/spinner.js'

export default class DlqPurge extends BaseCommand<typeof DlqPurge> {
  static override summary = 'Delete dead-lettered entries for good: all, or those matching the filters.'
  static override description = `Selects all entries dead-lettered from TOPIC, or those matching every given filter, and deletes exactly the entries selected when it starts: entries dead-lettered while it runs survive. On a terminal it asks for confirmation; without one it needs --yes. --dry-run lists what would be deleted.`
  static override examples = [
    '<%= config.bin %> dlq purge order.processed --older-than 7d --dry-run',
    '<%= config.bin %> dlq purge order.processed --error ValidationError --yes',
    '<%= config.bin %> dlq purge order.processed --yes --json',
  ]

  static override args = {topic: topicArg}

  static override flags = {
    dlq: dlqFlag,
    ...selectionFlags,
    'older-than': olderThanFlag,
    ...changeFlags,
  }

  async run(): Promise<PurgeResult> {
    const {args, flags} = this
    const consent = {action: 'purge', yes: flags.yes, dryRun: flags['dry-run']}
    requireConsentPossible(consent)
    const selection = buildSelection(selectionInputFrom(args.topic, flags), Date.now())
    const redis = await this.redis('dlq')
    const plan = await planSelection(redis, {key: resolveDlqKey(args.topic, flags.dlq), selection, limit: flags.limit, keepEntries: flags['dry-run']})
    if (plan.notFound.length > 0) this.warnLine(formatNotFound(plan.notFound, plan.key))

    let result: PurgeResult
    if (plan.ids.length === 0 || flags['dry-run']) {
      result = unchangedPurge(plan, {dryRun: flags['dry-run'], cancelled: false})
      // --json prints the plan's IDs: the table is never built for it.
      if (flags['dry-run'] && plan.ids.length > 0 && !this.jsonEnabled()) {
        const width = process.stdout.isTTY === true ? process.stdout.columns : undefined
        for (const line of formatDlqTable(plan.entries, {width, now: Date.now(), style: this.style})) this.log(line)
      }
    } else if (await confirmed(consent, formatPurgeQuestion(plan))) {
      const spinner = await startSpinner(this.stderrDecorations, `purging ${plan.key}`)
      try {
        result = await purgePlan(redis, plan, {signal: this.interruptSignal(), errorContext: (await this.connection()).errorContext})
      } finally {
        spinner.stop()
      }
    } else {
      result = unchangedPurge(plan, {dryRun: false, cancelled: true})
    }
    this.log(formatPurgeSummary(result, this.style))
    return result
  }
}
