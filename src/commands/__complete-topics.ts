import {Errors, Flags} from '../cli/oclif.js'

import {BaseCommand} from '../base-command.js'
import {QctlError} from '../core/errors.js'
import type {ConnectionSettings} from '../core/profiles/connection-settings.js'
import {topicNames} from '../core/topics/list.js'
import {durationFlag} from '../flags.js'

/** How long a tab press may wait for Redis before completing nothing. */
export const COMPLETION_TIMEOUT_MS = 300

/**
 * Called by the completion scripts (`qctl autocomplete`) for a topic name: the topics starting with
 * --prefix, one a line, from the Redis a profile or the environment names (or the connection flags
 * on the line being completed). Nothing is printed, and it exits 0, when no connection is configured
 * (a tab press never reaches for a server the user did not name), when Redis is unreachable or slow
 * (after --timeout), or on any error: completion falls back to nothing, silently.
 */
export default class CompleteTopics extends BaseCommand<typeof CompleteTopics> {
  static override hidden = true
  static override enableJsonFlag = false
  static override summary = 'Topic names for shell completion (used by the scripts of qctl autocomplete).'
  static override flags = {
    // A flag, not an argument: the scripts pass `--prefix=` (empty) at the start of a word, which an argument may not be.
    prefix: Flags.string({summary: 'Only topics starting with this.', default: ''}),
    // $QCTL_COMPLETION_TIMEOUT: for a Redis over a slow link, as the scripts pass no --timeout.
    timeout: durationFlag({summary: 'Give up (printing nothing) after this long; also $QCTL_COMPLETION_TIMEOUT.', default: COMPLETION_TIMEOUT_MS, env: 'QCTL_COMPLETION_TIMEOUT'}),
  }

  async run(): Promise<void> {
    const settings = await this.connectionSettings()
    if (settings.urlSource === 'default') return
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_resolve, reject) => {
      // REDIS_UNAVAILABLE: the base command then closes the connections without waiting for QUIT.
      timer = setTimeout(() => reject(new QctlError('REDIS_UNAVAILABLE', 'completion timed out')), this.flags.timeout)
    })
    try {
      const names = await Promise.race([this.topics(), late])
      for (const name of names) if (!/[\r\n]/.test(name)) process.stdout.write(`${name}\n`)
    } finally {
      clearTimeout(timer)
    }
  }

  private async topics(): Promise<string[]> {
    const redis = await this.redis('complete', {commandTimeoutMs: this.flags.timeout})
    return topicNames(redis, this.flags.prefix)
  }

  /** Connecting is bounded by the completion's timeout too, not only the connect timeout. */
  protected override async connectionSettings(): Promise<ConnectionSettings> {
    const settings = await super.connectionSettings()
    settings.input.connectTimeoutMs = Math.min(settings.input.connectTimeoutMs, this.flags.timeout)
    return settings
  }

  /** Nothing on stderr either: the shell would print it in the middle of the line being typed. */
  protected override warnLine(): void {}

  /** Completion never prints an error, and exits 0 at once (no waiting on a connection still opening). */
  override async catch(): Promise<never> {
    throw new Errors.ExitError(0)
  }
}
