import {join} from 'node:path'

import {PROJECT_ROOT, startCli, waitFor, type CliResult, type RunningCli} from '../../helpers/cli.js'

const HANDLERS = join(PROJECT_ROOT, 'test', 'chaos', 'handlers')
/** Records each successful call in the ledger (see handlers/ledger.mjs). */
export const LEDGER_HANDLER = join(HANDLERS, 'ledger.mjs')
/** Fails every message with a PermanentError: fills a dead-letter stream through the worker's own path. */
export const REJECT_ALL_HANDLER = join(HANDLERS, 'reject-all.mjs')

export interface FleetOptions {
  redisUrl: string
  topic: string
  group: string
  /** The handler's ledger file (CHAOS_LEDGER). */
  ledger: string
  /** More `qctl work` flags, e.g. ['--visibility-timeout', '2s', '--concurrency', '8']. */
  args?: string[]
  env?: Record<string, string | undefined>
  handler?: string
}

export interface FleetWorker {
  name: string
  cli: RunningCli
  /** What it printed and how it ended, once it has exited. */
  result?: CliResult
}

/**
 * `qctl work` processes (the built CLI, as users run it) consuming one group, for fault injection:
 * start more, kill or freeze one, stop them all.
 */
export class WorkerFleet {
  readonly workers: FleetWorker[] = []
  private started = 0

  constructor(private readonly options: FleetOptions) {}

  start(extraArgs: string[] = [], name = `chaos-${++this.started}`): FleetWorker {
    const {redisUrl, topic, group, ledger, args = [], env = {}, handler = LEDGER_HANDLER} = this.options
    const cli = startCli(['work', handler, '--topic', topic, '--group', group, '--consumer', name, '--json', '-u', redisUrl, ...args, ...extraArgs], {
      env: {CHAOS_LEDGER: ledger, ...env},
      timeoutMs: 10 * 60_000,
    })
    const worker: FleetWorker = {name, cli}
    void cli.done.then((result) => (worker.result = result))
    this.workers.push(worker)
    return worker
  }

  get alive(): FleetWorker[] {
    return this.workers.filter((worker) => worker.result === undefined && worker.cli.child.exitCode === null && worker.cli.child.signalCode === null)
  }

  /** A random live worker (of those `eligible`), chosen by `random` (a seeded generator keeps a run repeatable). */
  pick(random: () => number, eligible: (worker: FleetWorker) => boolean = () => true): FleetWorker | undefined {
    const candidates = this.alive.filter(eligible)
    return candidates[Math.floor(random() * candidates.length)]
  }

  async kill(worker: FleetWorker, signal: NodeJS.Signals = 'SIGKILL'): Promise<CliResult> {
    worker.cli.child.kill(signal)
    return worker.cli.done
  }

  /** Wait until every live worker has connected and joined its group (its `start` event). */
  async ready(timeoutMs = 30_000): Promise<void> {
    await waitFor(() => this.alive.every((worker) => worker.cli.output().stdout.includes('"event":"start"')), timeoutMs, 'the workers to start')
  }

  /** SIGTERM every live worker (graceful stop) and wait for all of them. */
  async stopAll(): Promise<CliResult[]> {
    for (const worker of this.alive) worker.cli.child.kill('SIGTERM')
    return Promise.all(this.workers.map(async (worker) => worker.cli.done))
  }

  /** SIGKILL whatever still runs (test cleanup). */
  async killAll(): Promise<void> {
    for (const worker of this.alive) worker.cli.child.kill('SIGKILL')
    await Promise.all(this.workers.map(async (worker) => worker.cli.done))
  }
}

/** A small seeded generator (mulberry32): faults land at random, but the same seed gives the same run. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
