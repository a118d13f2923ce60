import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {dlqFlag, topicArg} from '../../cli/dlq-flags.js'
import type {DlqEntry} from '../../core/dlq/entry.js'
import {showDlqEntry} from '../../core/dlq/list.js'
import {resolveDlqKey} from '../../core/dlq/read.js'
import {formatEntry} from '../../format/dlq.js'

export default class DlqShow extends BaseCommand<typeof DlqShow> {
  static override summary = 'Show one dead-lettered entry in full: metadata, original fields and payload.'
  static override description = 'The payload is pretty-printed when it is JSON (values exactly as stored). Exits 6 when the entry does not exist.'
  static override examples = ['<%= config.bin %> dlq show order.processed 1700000000000-0', '<%= config.bin %> dlq show order.processed 1700000000000-0 --json']

  static override args = {
    topic: topicArg,
    id: Args.string({description: 'Dead-letter entry ID (as qctl dlq list shows it).', required: true, ignoreStdin: true}),
  }

  static override flags = {dlq: dlqFlag}

  async run(): Promise<DlqEntry> {
    const {args, flags} = this
    const entry = await showDlqEntry(await this.redis('dlq'), resolveDlqKey(args.topic, flags.dlq), args.id)
    for (const line of formatEntry(entry, Date.now(), this.style)) this.log(line)
    return entry
  }
}
