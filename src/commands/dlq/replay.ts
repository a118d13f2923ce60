import {Flags} from '../../cli/oclif.js'
import {refuseSplitSlots} from '../../core/cluster-slots.js'
import {isCluster} from '../../core/redis/client.js'
import {BaseCommand} from '../../base-command.js'
import {confirmed, requireConsentPossible} from '../../cli/confirm.js'
import {dryRunLines, dryRunRows} from '../../cli/dlq-dry-run.js'
import {changeFlags, dlqFlag, partitionFlag, selectionFlags, selectionInputFrom, topicArg} from '../../cli/dlq-flags.js'
import {resolveDlqScope} from '../../core/dlq/scope.js'
import {planScope} from '../../core/dlq/scope-plan.js'
import {replayScope, unchangedScopeReplay, type DlqReplayResult} from '../../core/dlq/scope-replay.js'
import {buildSelection} from '../../core/dlq/selection.js'
import {formatNotFound, formatPlanPlace, formatReplayProgress, formatReplayQuestion, formatReplaySummary} from '../../format/dlq.js'
import {formatReplayTargets, replayDestination} from '../../format/replay-targets.js'
import {startSpinner} from '../../output/spinner.js'

export default class DlqReplay extends BaseCommand<typeof DlqReplay> {
  static override summary = 'Re-deliver dead-lettered entries to the consumer groups that failed them, and only to them.'
  static override description = `Each entry moves in one atomic step to the replay stream of the group that dead-lettered it ({TOPIC}:replay:GROUP, which that group's workers read beside the topic): its original fields (without the dlq.* metadata) are added there as a new entry, with qctl-replayed-from, qctl-replayed-at and qctl-original-id (the message's first topic entry ID, message.originalId) in its headers, and the dead-letter entry is deleted. The topic's other groups see nothing. A replay stopped at any moment loses and duplicates nothing; run it again to continue. A replayed message starts again with fresh attempts.

Entries that record no group (written by another program) are left in the dead-letter stream; --to-topic appends every selected entry to the topic itself instead, so every group of the topic handles it again.

Selects all entries dead-lettered from TOPIC, or those matching every given filter (oldest first); --since/--until are about when an entry was dead-lettered (its ID). On a terminal it asks for confirmation; without one it needs --yes. Entries dead-lettered while it runs are not replayed.

A partitioned topic's entries are selected in the dead-letter streams of all its partitions (--limit: the oldest over all of them; --partition P: one), and each goes back to the partition it came from: the replay stream of its group on that partition, or with --to-topic that partition's stream (never re-routed by key). --rate holds over the whole replay; --json adds the counts per partition.`
  static override examples = [
    '<%= config.bin %> dlq replay order.processed --dry-run',
    '<%= config.bin %> dlq replay order.processed --error "^TimeoutError" --rate 50',
    '<%= config.bin %> dlq replay order.processed --id 1700000000000-0 --yes',
    '<%= config.bin %> dlq replay order.processed --since 2026-11-28T10:00:00Z --group billing --yes --json',
    '<%= config.bin %> dlq replay order.processed --to-topic --yes',
    '<%= config.bin %> dlq replay order.processed --partition 3 --id 1700000000000-0 --yes',
  ]

  static override args = {topic: topicArg}

  static override flags = {
    dlq: dlqFlag,
    partition: partitionFlag,
    ...selectionFlags,
    rate: Flags.integer({summary: 'Replay at most N entries per second.', min: 1, helpValue: '<n>'}),
    'to-topic': Flags.boolean({summary: 'Append to the topic itself, so every group handles the entries again (also entries that record no group).', default: false}),
    ...changeFlags,
  }

  async run(): Promise<DlqReplayResult> {
    const {args, flags} = this
    const consent = {action: 'replay', yes: flags.yes, dryRun: flags['dry-run']}
    requireConsentPossible(consent)
    const selection = buildSelection(selectionInputFrom(args.topic, flags), Date.now())
    const redis = await this.redis('dlq')
    const scope = await resolveDlqScope(redis, args.topic, {dlq: flags.dlq, partition: flags.partition})
    // A partition's keys all derive from its hash-tagged stream: only a plain topic can split them.
    for (const part of scope.partitioned || !isCluster(redis) ? [] : scope.parts) refuseSplitSlots(part.stream, part.key)
    const plan = await planScope(redis, scope, {selection, limit: flags.limit, keepEntries: dryRunRows(flags['dry-run'], this.jsonEnabled())})
    if (plan.notFound.length > 0) this.warnLine(formatNotFound(plan.notFound, formatPlanPlace(plan)))

    const options = {toTopic: flags['to-topic'], group: flags.group, ratePerSecond: flags.rate}
    const destination = replayDestination({...options, topic: args.topic})
    let result: DlqReplayResult
    if (plan.ids.length === 0 || flags['dry-run']) {
      result = unchangedScopeReplay(plan, options, {dryRun: flags['dry-run'], cancelled: false})
      if (flags['dry-run']) for (const line of dryRunLines(plan, this.jsonEnabled(), this.style)) this.log(line)
      if (flags['dry-run'] && plan.ids.length > 0 && !this.jsonEnabled()) for (const line of formatReplayTargets(result)) this.log(line)
    } else if (await confirmed(consent, formatReplayQuestion(plan, destination))) {
      const spinner = await startSpinner(this.stderrDecorations, `replaying to ${destination}`)
      const started = Date.now()
      const onProgress = (progress: Parameters<typeof formatReplayProgress>[0]): void => spinner.update(formatReplayProgress(progress, destination, Date.now() - started))
      try {
        result = await replayScope(redis, plan, options, {signal: this.interruptSignal(), errorContext: (await this.connection()).errorContext, onProgress})
      } finally {
        spinner.stop()
      }
    } else {
      result = unchangedScopeReplay(plan, options, {dryRun: false, cancelled: true})
    }
    if (!result.dryRun) for (const line of formatReplayTargets(result)) this.log(line)
    this.log(formatReplaySummary(result, this.style))
    return result
  }
}
