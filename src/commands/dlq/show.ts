import {Args} from '../../cli/oclif.js'
import {BaseCommand} from '../../base-command.js'
import {dlqFlag, partitionFlag, topicArg} from '../../cli/dlq-flags.js'
import {dlqShowJson, type DlqShowJson} from '../../core/dlq/list.js'
import {resolveDlqScope} from '../../core/dlq/scope.js'
import {showInScope} from '../../core/dlq/scope-show.js'
import {formatEntry} from '../../format/dlq.js'
import {formatShowMatch} from '../../format/dlq-show.js'

export default class DlqShow extends BaseCommand<typeof DlqShow> {
  static override summary = 'Show one dead-lettered entry in full: metadata, original fields and payload.'
  static override description = `ID is the dead-letter entry ID (as qctl dlq list shows it) or the origin ID the message had on TOPIC (as qctl work prints it when it dead-letters). An origin ID dead-lettered more than once shows the latest entry and lists the others. The payload is pretty-printed when it is JSON (values exactly as stored). Exits 6 when no entry matches.

A partitioned topic's entry is looked for in every partition's dead-letter stream. Two partitions can hold entries with the same ID (dead-lettered in the same millisecond): an ID found in several exits 2 naming them; --partition P says which.`
  static override examples = [
    '<%= config.bin %> dlq show order.processed 1700000000000-0',
    '<%= config.bin %> dlq show order.processed 1700000000000-0 --json',
    '<%= config.bin %> dlq show order.processed 1700000000000-0 --partition 3',
  ]

  static override args = {
    topic: topicArg,
    id: Args.string({description: 'Dead-letter entry ID, or the origin entry ID the message had on TOPIC.', required: true, ignoreStdin: true}),
  }

  static override flags = {dlq: dlqFlag, partition: partitionFlag}

  async run(): Promise<DlqShowJson> {
    const {args, flags} = this
    const redis = await this.redis('dlq')
    const scope = await resolveDlqScope(redis, args.topic, {dlq: flags.dlq, partition: flags.partition})
    const result = await showInScope(redis, scope, args.id)
    if (!this.jsonEnabled()) {
      for (const line of [...formatShowMatch(result, args.id, this.style), ...formatEntry(result.entry, Date.now(), this.style)]) this.log(line)
    }
    return dlqShowJson(result)
  }
}
