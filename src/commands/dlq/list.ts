import {Flags} from '../../cli/oclif.js'
import {BaseCommand} from '../../base-command.js'
import {dlqFlag, filterFlags, olderThanFlag, partitionFlag, selectionInputFrom, topicArg} from '../../cli/dlq-flags.js'
import {dlqListJson, type DlqListJson} from '../../core/dlq/list.js'
import {resolveDlqScope} from '../../core/dlq/scope.js'
import {listScope} from '../../core/dlq/scope-list.js'
import {buildSelection} from '../../core/dlq/selection.js'
import {formatList} from '../../format/dlq.js'
import {tableTarget} from '../../output/table-target.js'

export default class DlqList extends BaseCommand<typeof DlqList> {
  static override summary = 'List dead-lettered entries of a topic, newest first.'
  static override description = `Shows each entry's dead-letter ID, origin ID, group, attempts, error, how long ago it failed and a payload preview. On a terminal (or piped with COLUMNS set) the table fits that width, keeping the error before the payload; otherwise errors are shown whole. Control characters in names, errors and payloads are shown escaped (--json keeps them exact). The filters (--error, --group, --since, --until, --older-than) are those of replay and purge; every given one must hold. --json gives the entries in full, original fields and payload included (data parsed when it is JSON, dataText as stored).

A partitioned topic (qctl topic create) lists the dead-letter streams of all its partitions as one, merged in ID order, each entry with its partition (column P; partition in --json); --partition P lists one.`
  static override examples = [
    '<%= config.bin %> dlq list order.processed',
    '<%= config.bin %> dlq list order.processed --error "^TimeoutError" --since 1h',
    '<%= config.bin %> dlq list order.processed --oldest --limit 100 --group billing',
    '<%= config.bin %> dlq list order.processed --partition 3',
    "<%= config.bin %> dlq list order.processed --json | jq '.entries[].data.orderId'",
  ]

  static override args = {topic: topicArg}

  static override flags = {
    dlq: dlqFlag,
    partition: partitionFlag,
    ...filterFlags,
    'older-than': olderThanFlag,
    limit: Flags.integer({char: 'n', summary: 'Show at most N entries (over all partitions).', default: 20, min: 1}),
    oldest: Flags.boolean({summary: 'Oldest first.', default: false}),
  }

  async run(): Promise<DlqListJson> {
    const {args, flags} = this
    const {since, until, error, group} = buildSelection(selectionInputFrom(args.topic, flags), Date.now())
    const redis = await this.redis('dlq')
    const scope = await resolveDlqScope(redis, args.topic, {dlq: flags.dlq, partition: flags.partition})
    const order = flags.oldest ? 'oldest' : 'newest'
    const result = await listScope(redis, scope, {order, limit: flags.limit, filters: {since, until, error, group}})
    // --json prints the result: the table is never built for it. One write, not one per row.
    if (!this.jsonEnabled()) this.log(formatList(result, {width: tableTarget(process.stdout).width, now: Date.now(), style: this.style}).join('\n'))
    return dlqListJson(result)
  }
}
