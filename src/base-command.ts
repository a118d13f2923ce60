import type {Interfaces} from '@oclif/core'

import {Command, Errors} from './cli/oclif.js'
import {closest} from './core/closest.js'
import {isQctlError, QctlError, type ErrorCode} from './core/errors.js'
import type {RedisClient} from './core/redis/client.js'
import {closeRedis, openClient, resolveConnection, type OpenOptions, type ResolvedConnection} from './core/redis/connection.js'
import {keyTypeOf} from './core/redis/key-type.js'
import {commandKeyOf, isWrongType, toQctlError, type ReplyFacts} from './core/redis/redis-errors.js'
import {maskedUrl} from './core/redis/redis-url.js'
import {connectionSettings, type ConnectionSettings} from './core/profiles/connection-settings.js'
import {ProfileStore} from './core/profiles/store.js'
import {connectionFlags} from './flags.js'
import {shown} from './format/terminal-text.js'
import {commandStarted, releaseEarlySignals} from './output/early-signals.js'
import {guardSecrets, registerSecret} from './output/redact.js'
import {decorationsFor, styleFor, type Decorations} from './output/terminal.js'

export type FlagsOf<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type ArgsOf<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** The JSON error object printed with `--json` (documented in the README). */
export interface JsonError {
  error: {code: ErrorCode; message: string; exitCode: number; suggestion?: string; details?: Record<string, unknown>}
}

const debugEnabled = (): boolean => /(^|,)\s*(qctl|qctl:\*|\*)\s*(,|$)/.test(process.env.DEBUG ?? '')

/** oclif marks parse failures (unknown flag, bad value, missing argument) with exit code 2 (see package.json). */
const isOclifUsageError = (error: unknown): error is Error =>
  error instanceof Error && (error as {oclif?: {exit?: number}}).oclif?.exit === 2

/** The arguments oclif's RequiredArgsError lists (its `args`), by name. */
const missingArgNames = (error: Error): string[] => {
  const args = (error as {args?: unknown}).args
  return Array.isArray(args) ? args.map((arg) => (arg as {name?: unknown}).name).filter((name): name is string => typeof name === 'string') : []
}

/** An oclif parse failure as a one-line usage error; the hint names the command as it is typed (`qctl dlq show --help`). */
function usageFromOclif(error: Error, commandId: string | undefined, flagNames: readonly string[]): QctlError {
  const help = `see qctl ${(commandId ?? '').replaceAll(':', ' ')} --help`.replace(/\s+/g, ' ')
  const unknownFlag = /^Nonexistent flags?: --([^\s,]+)/.exec(error.message)?.[1]
  const meant = unknownFlag === undefined ? undefined : closest(unknownFlag, flagNames)
  const suggestion = meant === undefined ? help : `did you mean --${meant}? (${help})`
  if (/^Missing \d+ required args?/.test(error.message)) {
    const names = missingArgNames(error)
    // Named from the command's definition, not from oclif's text, whose description lines wrap.
    const message = names.length > 0 ? `missing required argument${names.length === 1 ? '' : 's'}: ${names.map((name) => name.toUpperCase()).join(', ')}` : 'missing required argument'
    return new QctlError('USAGE', message, {suggestion})
  }
  const lines = error.message
    .split('\n')
    .map((line) => line.trim())
    // oclif's framing ("The following errors occurred:", "See more help with --help") says nothing of the problem.
    .filter((line) => line !== '' && !/^(See more help|Note:|Alternatively|The following errors? occurred:?)/.test(line))
    .map((line) => line.replace(/^The following errors? occurred::?\s*/, ''))
  // "Parsing --flag" heads the reason on the next line; other lines are errors of their own.
  const [head, ...rest] = lines
  const message = head === undefined ? 'invalid usage' : /^Parsing /.test(head) && rest.length > 0 ? `${head}: ${rest.join('; ')}` : lines.join('; ')
  return new QctlError('USAGE', message, {suggestion})
}

/** Flags that name a Redis key or a name in Redis: an empty one is never meant (`--topic ""` from an unset variable). */
const NAME_FLAGS = ['topic', 'group', 'dlq', 'consumer'] as const

/**
 * Every command refuses an empty TOPIC (or other argument) and an empty --topic, --group, --dlq or
 * --consumer alike, with exit 2 before connecting: `qctl publish "" …` wrote to the key "" and
 * `qctl lag ""` listed it, while `work --topic ""` was refused.
 */
function refuseEmptyNames(definitions: Record<string, unknown> | undefined, args: Record<string, unknown>, positionals: readonly string[], flags: Record<string, unknown>): void {
  for (const name of Object.keys(definitions ?? {})) {
    if (args[name] === '') throw new QctlError('USAGE', `${name.toUpperCase()} must not be empty`)
  }
  if (positionals.includes('')) throw new QctlError('USAGE', `${Object.keys(definitions ?? {})[0]?.toUpperCase() ?? 'an argument'} must not be empty`)
  for (const name of NAME_FLAGS) {
    const value = flags[name]
    if (value === '' || (Array.isArray(value) && value.includes(''))) throw new QctlError('USAGE', `--${name} must not be empty`)
  }
}

/** Error messages are one line, whatever a library put in them. */
const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim()

/**
 * Shared flags, a lazily opened Redis connection, and the one place where errors become
 * output and exit codes. Commands stay thin: parse, call core, present.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = connectionFlags

  protected flags!: FlagsOf<T>
  protected args!: ArgsOf<T>
  /** Every positional argument (for commands with `strict = false` that take a list). */
  protected positionals: string[] = []
  private readonly clients: RedisClient[] = []
  private resolvedConnection: ResolvedConnection | undefined
  private interrupt: AbortController | undefined

  override async init(): Promise<void> {
    // bin/run.js already did this; repeated for commands run programmatically.
    guardSecrets(this.argv)
    await super.init()
    const {args, flags, argv} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as FlagsOf<T>
    this.args = args as ArgsOf<T>
    this.positionals = argv.map(String)
    refuseEmptyNames(this.ctor.args, args, this.positionals, flags)
    commandStarted()
    // A test hook (README, "Output, errors and exit codes"): the path of an unexpected error.
    if (process.env.QCTL_DEBUG_INTERNAL_ERROR === '1') throw new Error('QCTL_DEBUG_INTERNAL_ERROR=1 made this command fail on purpose')
  }

  /** How stdout and stderr may be decorated (colour, spinners). */
  protected get stdoutDecorations(): Decorations {
    return decorationsFor(process.stdout, this.jsonEnabled())
  }

  protected get stderrDecorations(): Decorations {
    return decorationsFor(process.stderr, this.jsonEnabled())
  }

  protected get style() {
    return styleFor(this.stdoutDecorations)
  }

  /** Connection settings from flags and environment; files (password, TLS) are read once. */
  protected async connection(): Promise<ResolvedConnection> {
    if (this.resolvedConnection !== undefined) return this.resolvedConnection
    const settings = await this.connectionSettings()
    for (const warning of settings.warnings) this.warnLine(warning)
    const resolved = await resolveConnection(settings.input)
    registerSecret(resolved.target.password)
    if (settings.input.tlsInsecure === true) {
      const fromProfile = settings.profile !== undefined && !(this.flags as FlagsOf<typeof BaseCommand>)['tls-insecure']
      const from = fromProfile ? ` (profile "${settings.profile?.name}")` : ''
      this.warnLine(`--tls-insecure${from}: the certificate of ${resolved.errorContext.address} is not verified; traffic can be intercepted`)
    }
    this.resolvedConnection = resolved
    return resolved
  }

  /** Each connection setting from flags, else the environment, else the profile, else the default (src/core/profiles/connection-settings.ts). */
  protected async connectionSettings(): Promise<ConnectionSettings> {
    const flags = this.flags as FlagsOf<typeof BaseCommand>
    const store = new ProfileStore()
    return connectionSettings(
      {
        redisUrl: flags['redis-url'],
        cluster: flags.cluster,
        clusterNat: flags['cluster-nat'],
        passwordFile: flags['password-file'],
        tlsCa: flags['tls-ca'],
        tlsCert: flags['tls-cert'],
        tlsKey: flags['tls-key'],
        tlsInsecure: flags['tls-insecure'],
        profile: flags.profile,
        connectTimeoutMs: flags['connect-timeout'],
        commandTimeoutMs: flags['command-timeout'],
      },
      process.env,
      {path: store.path, load: async () => store.load()},
    )
  }

  /** Point every later connection at another Redis (e.g. a throwaway server started by `demo`). */
  protected async useRedisUrl(url: string): Promise<void> {
    const current = await this.connection()
    this.resolvedConnection = await resolveConnection({url, cluster: false, connectTimeoutMs: current.connectTimeoutMs, commandTimeoutMs: current.commandTimeoutMs})
  }

  /** The Redis URL as it is safe to show. */
  protected async displayUrl(): Promise<string> {
    return maskedUrl((await this.connection()).target)
  }

  /** Open a connection to Redis or a Redis Cluster (closed automatically when the command ends). */
  protected async redis(name: string, options: Omit<OpenOptions, 'name'> = {}): Promise<RedisClient> {
    const client = await openClient(await this.connection(), {name: `qctl:${name}`, ...options})
    // Connections that ended (replaced after a loss: tail --follow) are let go, so a long run that
    // reconnects often holds only those it uses.
    for (let index = this.clients.length - 1; index >= 0; index--) if (this.clients[index]?.status === 'end') this.clients.splice(index, 1)
    this.clients.push(client)
    return client
  }

  /**
   * An AbortSignal fired by the first SIGINT/SIGTERM, so a command can stop cleanly and report
   * how far it got; a second signal exits at once with 130.
   */
  protected interruptSignal(): AbortSignal {
    if (this.interrupt !== undefined) return this.interrupt.signal
    const controller = new AbortController()
    this.interrupt = controller
    const onSignal = (): void => {
      if (controller.signal.aborted) process.exit(130)
      controller.abort()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    // Only now: between removing the early listeners and adding these, a signal would kill node.
    releaseEarlySignals()
    return controller.signal
  }

  /** A warning on stderr (also with --json, which owns stdout). */
  protected warnLine(text: string): void {
    process.stderr.write(`${styleFor(this.stderrDecorations).yellow('warning:')} ${text}\n`)
  }

  /** Commands that stream JSON lines (`work`) print every document, errors included, on one line. */
  protected jsonLines = false

  protected override logJson(json: unknown): void {
    process.stdout.write(`${this.jsonLines ? JSON.stringify(json) : JSON.stringify(json, null, 2)}\n`)
  }

  /** Any error as a typed one: Redis replies through the one classification (src/core/redis/reply-errors.ts), anything unknown is a bug (exit 1). */
  protected toQctlError(error: unknown, facts: ReplyFacts = {}): QctlError {
    if (isQctlError(error)) return error
    if (isOclifUsageError(error)) return usageFromOclif(error, this.id, Object.keys({...(this.ctor as typeof BaseCommand).baseFlags, ...this.ctor.flags}))
    return toQctlError(error, this.resolvedConnection?.errorContext, facts)
  }

  /** For a WRONGTYPE no command explained: what the key holds, from a connection still open (best effort, bounded). */
  private async wrongTypeFacts(error: unknown): Promise<ReplyFacts> {
    const key = isWrongType(error) ? commandKeyOf(error) : undefined
    const client = this.clients.find((candidate) => candidate.status === 'ready')
    if (key === undefined || client === undefined) return {}
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), 1000)
    })
    const keyType = await Promise.race([keyTypeOf(client, key), timeout])
    clearTimeout(timer)
    return {keyType}
  }

  override async catch(error: Error & {exitCode?: number}): Promise<never> {
    if (error instanceof Errors.ExitError) throw error
    const typed = this.toQctlError(error, await this.wrongTypeFacts(error))
    const message = oneLine(typed.message)
    if (this.jsonEnabled()) {
      const body: JsonError = {error: {code: typed.code, message, exitCode: typed.exitCode}}
      if (typed.suggestion !== undefined) body.error.suggestion = typed.suggestion
      if (typed.details !== undefined) body.error.details = typed.details
      this.logJson(body)
    } else {
      const style = styleFor(this.stderrDecorations)
      // Messages name keys, groups and consumers that come from Redis: shown escaped, never raw (--json keeps them exact).
      process.stderr.write(`${style.red('Error:')} ${shown(message)}\n`)
      if (typed.suggestion !== undefined) process.stderr.write(`${style.dim(`Hint: ${shown(typed.suggestion)}`)}\n`)
    }
    if (debugEnabled()) process.stderr.write(`${(error.stack ?? String(error))}\n`)
    throw new Errors.ExitError(typed.exitCode)
  }

  override async finally(error: Error | undefined): Promise<void> {
    // After Redis stopped answering, a polite QUIT would only wait out its own timeout.
    const unanswered = error !== undefined && this.toQctlError(error).code === 'REDIS_UNAVAILABLE'
    await Promise.all(this.clients.map(async (client) => closeRedis(client, unanswered ? 0 : undefined)))
    return super.finally(error)
  }
}
