import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'


import {Flags} from '../cli/oclif.js'
import {BaseCommand} from '../base-command.js'
import {runningQctlEntry} from '../cli/running-qctl-entry.js'
import {WorkReporter} from '../cli/work-reporter.js'
import {sampleOrders} from '../core/demo/sample-orders.js'
import {listDlq, type DlqListResult} from '../core/dlq/list.js'
import {deadLetterKey, retryDueKey, retryKey} from '../core/keys.js'
import {lagRows, type LagRow} from '../core/lag/lag.js'
import {topicStats} from '../core/stats/topic-stats.js'
import {formatDlqTable} from '../format/dlq.js'
import {examplesPath, formatDemoNext} from '../format/demo.js'
import {formatLagTable} from '../format/lag.js'
import {publish, type PublishResult} from '../core/publish/publish.js'
import {DEFAULT_REDIS_URL} from '../core/redis/redis-url.js'
import {redisServerAvailable, startThrowawayServer, type ThrowawayServer} from '../core/redis/throwaway-server.js'
import {loadHandler} from '../core/worker/load-handler.js'
import {Worker, WORKER_CONNECTION_OPTIONS, type WorkerSummary} from '../core/worker/worker.js'
import {startSpinner} from '../output/spinner.js'

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples')
const EXAMPLE_HANDLER = join(EXAMPLES, 'handlers', 'order-processed.ts')
const DEMO_TOPIC = 'qctl-demo:order.processed'

export interface DemoResult {
  redisUrl: string
  throwawayServer: boolean
  topic: string
  deadLetterKey: string
  published: PublishResult
  worker: WorkerSummary
  lag: LagRow[]
  deadLetters: DlqListResult
}

export default class Demo extends BaseCommand<typeof Demo> {
  static override summary = 'See qctl work end to end: publish sample order.processed events and process them with the example handler.'
  static override description = `Uses the configured Redis, or, if none answers at a redis:// URL (never for rediss://) and redis-server is on PATH, a throwaway one that it starts and stops. Publishes sample events to ${DEMO_TOPIC} (replacing an earlier demo's), then runs a worker with examples/handlers/order-processed.ts: most orders succeed, some fail transiently and are retried, a few fail permanently and are dead-lettered.`
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --count 1000 --json']

  static override flags = {
    count: Flags.integer({summary: 'How many sample events to publish.', default: 200, min: 1, max: 1_000_000}),
  }

  private throwaway: ThrowawayServer | undefined

  async run(): Promise<DemoResult> {
    const commands = await this.connectOrStartThrowaway()
    await commands.del(DEMO_TOPIC, deadLetterKey(DEMO_TOPIC), retryKey(DEMO_TOPIC, 'billing'), retryDueKey(DEMO_TOPIC, 'billing'))
    const redisUrl = await this.displayUrl()

    this.log(`Publishing ${this.flags.count} sample order.processed events to ${this.style.bold(DEMO_TOPIC)} on ${redisUrl}`)
    const published = await publish(commands, {topic: DEMO_TOPIC, source: {kind: 'inline', text: sampleOrders(this.flags.count)}, ndjson: true, maxPayloadBytes: 1024 * 1024})

    this.log(`Working through them with ${this.style.bold('examples/handlers/order-processed.ts')} (concurrency 8, 3 attempts, quick backoff for the demo)`)
    const loaded = await loadHandler(EXAMPLE_HANDLER, process.cwd(), {qctl: await runningQctlEntry()})
    const worker = new Worker(
      {topic: DEMO_TOPIC, group: 'billing', handler: loaded.handle as never, concurrency: 8, maxAttempts: 3, backoff: {delayMs: 100}, untilEmpty: true},
      async (role) => this.redis(`demo:${role}`, WORKER_CONNECTION_OPTIONS[role]),
    )
    const json = this.jsonEnabled()
    const reporter = new WorkReporter(worker, json ? 'quiet' : this.stderrDecorations.spinner ? 'terminal' : 'plain', await startSpinner(this.stderrDecorations, 'working'), this.style)
    this.interruptSignal().addEventListener('abort', () => worker.close('signal'), {once: true})
    const summary = await worker.run()
    reporter.finish(summary)

    const lag = lagRows(await topicStats(commands, [DEMO_TOPIC]), Date.now())
    this.log('')
    this.log(this.style.bold(`qctl lag ${DEMO_TOPIC}`))
    this.log(formatLagTable(lag, this.style))

    const deadLetters = await listDlq(commands, {key: deadLetterKey(DEMO_TOPIC), order: 'newest', limit: 10})
    this.log('')
    this.log(this.style.bold(`qctl dlq list ${DEMO_TOPIC}`))
    const width = process.stdout.isTTY === true ? process.stdout.columns : undefined
    if (deadLetters.entries.length === 0) this.log('No dead-lettered entries.')
    for (const line of deadLetters.entries.length === 0 ? [] : formatDlqTable(deadLetters.entries, {width, now: Date.now(), style: this.style})) this.log(line)

    this.log('')
    const url = this.throwaway === undefined ? redisUrl : undefined
    const urlArgs = url === undefined || url === DEFAULT_REDIS_URL ? '' : ` -u '${url}'`
    for (const line of formatDemoNext({topic: DEMO_TOPIC, deadLetterId: deadLetters.entries[0]?.dlqId, urlArgs, throwaway: this.throwaway !== undefined, examples: examplesPath(EXAMPLES, process.cwd())})) this.log(line)
    return {redisUrl, throwawayServer: this.throwaway !== undefined, topic: DEMO_TOPIC, deadLetterKey: deadLetterKey(DEMO_TOPIC), published, worker: summary, lag, deadLetters}
  }

  /**
   * The configured Redis, or a throwaway redis-server when none answers (said out loud). Never
   * for a rediss:// URL: whoever asked for TLS must hear that it failed (a certificate problem
   * is exit 3), not get a plain-text local server instead.
   */
  private async connectOrStartThrowaway() {
    try {
      return await this.redis('demo')
    } catch (error) {
      const typed = this.toQctlError(error)
      if (typed.code !== 'REDIS_UNAVAILABLE' || (await this.connection()).target.tls || !redisServerAvailable()) throw error
      this.logToStderr(`No Redis answers (${typed.message}); starting a throwaway redis-server for this demo (stopped and deleted at the end).`)
      this.throwaway = await startThrowawayServer()
      await this.useRedisUrl(this.throwaway.url)
      return this.redis('demo')
    }
  }

  override async finally(error: Error | undefined): Promise<void> {
    await super.finally(error)
    await this.throwaway?.stop()
  }
}
