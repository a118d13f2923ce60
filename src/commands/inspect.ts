import {Args, Flags} from '../cli/oclif.js'
import {BaseCommand} from '../base-command.js'
import {inspectTopic, type InspectResult} from '../core/stats/inspect.js'
import {formatInspect} from '../format/inspect.js'
import {shown} from '../format/terminal-text.js'
import {tableTarget} from '../output/table-target.js'

export default class Inspect extends BaseCommand<typeof Inspect> {
  static override summary = 'Everything about one topic: stream, groups, consumers, the oldest pending entries, the newest dead letters.'
  static override description = 'A partitioned topic is shown over all its partitions (a table of them, each pending entry and dead letter with its partition; --partitions adds each group per partition). The oldest pending entries show their delivery counts: entries delivered many times are the likely poison messages. Messages scheduled with publish --delay / --at are counted on a line of their own (with those past their due time and not appended, and the next due time). Exits 6 if the topic (or --group) does not exist, 2 if the key is not a stream; a dead-letter key that is not a stream is skipped with a warning.'
  static override examples = ['<%= config.bin %> inspect order.processed', '<%= config.bin %> inspect order.processed --group billing --json']

  static override args = {topic: Args.string({description: 'Topic (stream key).', required: true, ignoreStdin: true})}
  static override flags = {
    group: Flags.string({char: 'g', summary: 'Only this consumer group.'}),
    partitions: Flags.boolean({summary: "A partitioned topic's groups per partition too (lag, pending, consumers of each); --json always has them."}),
  }

  async run(): Promise<InspectResult> {
    const result = await inspectTopic(await this.redis('inspect'), this.args.topic, this.flags.group)
    for (const warning of result.warnings) this.warnLine(shown(warning))
    if (!this.jsonEnabled()) this.log(formatInspect(result, this.style, tableTarget(process.stdout), this.flags.partitions))
    return result
  }
}
