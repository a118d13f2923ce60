import {Args, Flags} from '../../cli/oclif.js'
import {BaseCommand} from '../../base-command.js'
import type {RedisClient} from '../../core/redis/client.js'
import {runSchedules, type ScheduleRunRow} from '../../core/schedule/run.js'
import {sleep} from '../../core/sleep.js'
import {formatScheduleRun} from '../../format/schedule.js'

/** How often `--follow` looks for due messages. */
const FOLLOW_POLL_MS = 1000

export default class ScheduleRun extends BaseCommand<typeof ScheduleRun> {
  static override summary = 'Append the due scheduled messages (publish --delay / --at) of topics to their streams.'
  static override description = `A running qctl work of a topic does this by itself; run this for topics without workers. Each message is appended and removed from the schedule in one step, so it runs safely beside workers and other runs. Without --follow: one pass, then it exits. With --follow: every second until interrupted (Ctrl-C, exit 0); --json then prints once, at the end, with the moves summed. Exits 2 for a topic key that is not a stream or a schedule that is not a sorted set (naming it), 3 when Redis refuses the write (out of memory: what is not appended stays scheduled), 4 when the ACL user may not move messages (the worker role may not; the publisher role may).`
  static override examples = ['<%= config.bin %> schedule run order.processed', '<%= config.bin %> schedule run order.processed order.refunded --follow']
  static override strict = false

  static override args = {topic: Args.string({description: 'Topics (plain or partitioned); several may be given.', required: true})}

  static override flags = {
    follow: Flags.boolean({summary: 'Keep appending due messages every second until interrupted (Ctrl-C).'}),
  }

  async run(): Promise<{topics: ScheduleRunRow[]}> {
    const topics = [...new Set(this.positionals)]
    const redis = await this.redis('schedule')
    const offset = await redisClockOffset(redis)
    const now = (): number => Date.now() + offset
    let rows = await runSchedules(redis, topics, now)
    if (this.flags.follow) {
      const signal = this.interruptSignal()
      const totals = new Map(rows.map((row) => [row.topic, row.moved]))
      this.print(rows, true)
      while (!signal.aborted) {
        await sleep(FOLLOW_POLL_MS, signal)
        if (signal.aborted) break
        rows = await runSchedules(redis, topics, now)
        this.print(rows, true)
        for (const row of rows) totals.set(row.topic, (totals.get(row.topic) ?? 0) + row.moved)
      }
      rows = rows.map((row) => ({...row, moved: totals.get(row.topic) ?? row.moved}))
      this.print(rows, false)
      return {topics: rows}
    }
    this.print(rows, false)
    return {topics: rows}
  }

  /** A line per topic (`onlyMoved`: only those that moved something, for --follow's passes). */
  private print(rows: readonly ScheduleRunRow[], onlyMoved: boolean): void {
    if (this.jsonEnabled()) return
    for (const line of formatScheduleRun(rows.filter((row) => !onlyMoved || row.moved > 0))) this.log(line)
  }
}

/** Redis's clock minus this host's, so "next due" is said in Redis's time. */
async function redisClockOffset(redis: RedisClient): Promise<number> {
  const before = Date.now()
  const [seconds, micros] = await redis.time()
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Math.round((before + Date.now()) / 2)
}
