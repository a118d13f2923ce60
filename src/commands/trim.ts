import {Flags} from '../cli/oclif.js'
import {BaseCommand} from '../base-command.js'
import {confirmed, requireConsentPossible} from '../cli/confirm.js'
import {changeFlags} from '../cli/dlq-flags.js'
import {topicNameArg} from '../cli/topic-flags.js'
import {applyTrim, planRemoves, planTrim, type TrimResult} from '../core/trim/plan.js'
import {formatTrimQuestion, formatTrimSummary, trimWarnings} from '../format/trim.js'
import {tableTarget} from '../output/table-target.js'

export default class Trim extends BaseCommand<typeof Trim> {
  static override summary = 'Trim a topic, never past what a consumer group still needs.'
  static override description = `Removes entries before a point (--before) or all but the newest N (--maxlen), but never one that a consumer group of the stream has not been delivered yet or still holds pending (parked retries included): each stream (each partition) is trimmed with XTRIM MINID at the smaller of the rule and that line, both found and applied in one atomic step inside Redis, so a group made or an entry read meanwhile is safe. --force trims at the rule whatever the groups need. A stream without any group has no line: the rule applies as given (said on stderr). --dry-run shows, per stream, what the rule and the safe trim remove (entries, and the bytes of their fields and values) and which group holds the line. Asks first (--yes without a terminal). On Redis 8.2+ the trim also passes XTRIM's ACKED option. Exits 6 if the topic does not exist.`
  static override examples = [
    '<%= config.bin %> trim order.created --before 7d --dry-run',
    '<%= config.bin %> trim order.created --before 2026-11-28T00:00:00Z --yes',
    '<%= config.bin %> trim order.created --maxlen 100000 --yes',
  ]

  static override args = {topic: topicNameArg}
  static override flags = {
    before: Flags.string({
      summary: 'Remove entries older than this: a duration ago (7d, 12h, also 7d-ago), an ISO time, ms since the epoch, or a stream ID (that entry is kept).',
      helpValue: '<when>',
      exactlyOne: ['before', 'maxlen'],
    }),
    maxlen: Flags.integer({summary: 'Remove all but the newest N entries of each stream (each partition).', min: 0, helpValue: '<n>', exactlyOne: ['before', 'maxlen']}),
    force: Flags.boolean({summary: 'Trim at the rule even past entries a consumer group has not been delivered yet or holds pending (they are lost to it).', default: false}),
    ...changeFlags,
  }

  async run(): Promise<TrimResult> {
    const {args, flags} = this
    const consent = {action: 'trim the topic', yes: flags.yes, dryRun: flags['dry-run']}
    requireConsentPossible(consent)
    const redis = await this.redis('trim')
    const plan = await planTrim(redis, {topic: args.topic, before: flags.before, maxlen: flags.maxlen, force: flags.force})
    let result: TrimResult
    if (flags['dry-run']) result = {...plan.result, dryRun: true}
    else if (!planRemoves(plan.result)) result = await applyTrim(redis, plan)
    else if (await confirmed(consent, `${formatTrimQuestion(plan.result)} [y/N] `)) result = await applyTrim(redis, plan)
    else result = {...plan.result, cancelled: true}
    for (const warning of trimWarnings(result)) this.warnLine(warning)
    if (!this.jsonEnabled()) for (const line of formatTrimSummary(result, this.style, tableTarget(process.stdout))) this.log(line)
    return result
  }
}
