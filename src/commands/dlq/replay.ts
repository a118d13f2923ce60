import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {confirmed, requireConsentPossible} from '../../cli/confirm.js'
import {changeFlags, dlqFlag, selectionFlags, selectionInputFrom, topicArg} from '../../cli/dlq-flags.js'
import {planSelection} from '../../core/dlq/plan.js'
import {resolveDlqKey} from '../../core/dlq/read.js'
import {replayPlan, unchangedReplay, type ReplayResult} from '../../core/dlq/replay.js'
import {buildSelection} from '../../core/dlq/selection.js'
import {formatDlqTable, formatNotFound, formatReplayProgress, formatReplayQuestion, formatReplaySummary} from '../../format/dlq.js'
import {startSpinner} from '../../output/spinner.js'

export default class DlqReplay extends BaseCommand<typeof DlqReplay> {
  static override summary = 'Move dead-lettered entries back onto their topic, so workers process them again.'
  static override description = `Each entry moves in one atomic step: its original fields (without the dlq.* metadata) are added to the topic as a new entry, with qctl-replayed-from and qctl-replayed-at in its headers, and the dead-letter entry is deleted. A replay stopped at any moment loses and duplicates nothing; run it again to continue. A replayed message starts again with fresh attempts.

Selects all entries dead-lettered from TOPIC, or those matching every given filter (oldest first); --since/--until are about when an entry was dead-lettered (its ID). On a terminal it asks for confirmation; without one it needs --yes. Entries dead-lettered while it runs are not replayed.`
  static override examples = [
    '<%= config.bin %> dlq replay order.processed --dry-run',
    '<%= config.bin %> dlq replay order.processed --error "^TimeoutError" --rate 50',
    '<%= config.bin %> dlq replay order.processed --id 1700000000000-0 --yes',
    '<%= config.bin %> dlq replay order.processed --since 2026-11-28T10:00:00Z --group billing --yes --json',
  ]

  static override args = {topic: topicArg}

  static override flags = {
    dlq: dlqFlag,
    ...selectionFlags,
    rate: Flags.integer({summary: 'Replay at most N entries per second.', min: 1, helpValue: '<n>'}),
    ...changeFlags,
  }

  async run(): Promise<ReplayResult> {
    const {args, flags} = this
    const consent = {action: 'replay', yes: flags.yes, dryRun: flags['dry-run']}
    requireConsentPossible(consent)
    const selection = buildSelection(selectionInputFrom(args.topic, flags), Date.now())
    const redis = await this.redis('dlq')
    const plan = await planSelection(redis, {key: resolveDlqKey(args.topic, flags.dlq), selection, limit: flags.limit, keepEntries: flags['dry-run']})
    if (plan.notFound.length > 0) this.warnLine(formatNotFound(plan.notFound, plan.key))

    let result: ReplayResult
    if (plan.ids.length === 0 || flags['dry-run']) {
      result = unchangedReplay(plan, args.topic, {dryRun: flags['dry-run'], cancelled: false})
      // --json prints the plan's IDs: the table is never built for it.
      if (flags['dry-run'] && plan.ids.length > 0 && !this.jsonEnabled()) {
        const width = process.stdout.isTTY === true ? process.stdout.columns : undefined
        for (const line of formatDlqTable(plan.entries, {width, now: Date.now(), style: this.style})) this.log(line)
      }
    } else if (await confirmed(consent, formatReplayQuestion(plan, args.topic))) {
      const spinner = await startSpinner(this.stderrDecorations, `replaying to ${args.topic}`)
      const started = Date.now()
      try {
        result = await replayPlan(
          redis,
          plan,
          {topic: args.topic, ratePerSecond: flags.rate},
          {
            signal: this.interruptSignal(),
            errorContext: (await this.connection()).errorContext,
            onProgress: (progress) => spinner.update(formatReplayProgress(progress, args.topic, Date.now() - started)),
          },
        )
      } finally {
        spinner.stop()
      }
    } else {
      result = unchangedReplay(plan, args.topic, {dryRun: false, cancelled: true})
    }
    this.log(formatReplaySummary(result, this.style))
    return result
  }
}
