import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {dlqFlag, topicArg} from '../../cli/dlq-flags.js'
import {listDlq, type DlqListResult} from '../../core/dlq/list.js'
import {resolveDlqKey} from '../../core/dlq/read.js'
import {formatList} from '../../format/dlq.js'
import {tableTarget} from '../../output/table-target.js'

export default class DlqList extends BaseCommand<typeof DlqList> {
  static override summary = 'List dead-lettered entries of a topic, newest first.'
  static override description = `Shows each entry's dead-letter ID, origin ID, group, attempts, error, how long ago it failed and a payload preview. On a terminal (or piped with COLUMNS set) the table fits that width, keeping the error before the payload; otherwise errors are shown whole. Control characters in names, errors and payloads are shown escaped (--json keeps them exact). --json gives the entries in full, original fields and payload included.`
  static override examples = [
    '<%= config.bin %> dlq list order.processed',
    '<%= config.bin %> dlq list order.processed --oldest --limit 100',
    '<%= config.bin %> dlq list order.processed --json',
  ]

  static override args = {topic: topicArg}

  static override flags = {
    dlq: dlqFlag,
    limit: Flags.integer({char: 'n', summary: 'Show at most N entries.', default: 20, min: 1}),
    oldest: Flags.boolean({summary: 'Oldest first.', default: false}),
  }

  async run(): Promise<DlqListResult> {
    const {args, flags} = this
    const redis = await this.redis('dlq')
    const result = await listDlq(redis, {key: resolveDlqKey(args.topic, flags.dlq), order: flags.oldest ? 'oldest' : 'newest', limit: flags.limit})
    // --json prints the result: the table is never built for it. One write, not one per row.
    if (!this.jsonEnabled()) this.log(formatList(result, {width: tableTarget(process.stdout).width, now: Date.now(), style: this.style}).join('\n'))
    return result
  }
}
