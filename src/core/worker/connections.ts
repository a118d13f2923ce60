import {isCluster, type RedisClient} from '../redis/client.js'
import {ownerNode} from '../redis/cluster-nodes.js'
import {sleep} from '../sleep.js'

/**
 * How the worker's connections should be opened (see `openRedis`): both reconnect by themselves;
 * the command connection re-sends what a cut connection left unanswered (everything it sends is
 * idempotent, or counts at most one start too few) and bounds every command, so no loop waits
 * forever on a reply that will never come. The reader does neither: a blocking read has its own
 * watchdog, and re-sending one would deliver entries to a read nobody awaits.
 */
export const WORKER_CONNECTION_OPTIONS = {
  reader: {reconnect: true},
  commands: {reconnect: true, resendOnReconnect: true, commandTimeoutMs: 10_000},
} as const

/**
 * A connection that stops answering but stays open (a firewall, NAT or load balancer dropping the
 * flow: bytes swallowed, no RST) is not noticed by TCP for ~15 minutes. The worker PINGs its command
 * connection every `intervalMs`; no answer within `timeoutMs` and the socket is destroyed, so the
 * client reconnects on a fresh one and re-sends what was unanswered. Dead peers are thus replaced
 * within intervalMs + timeoutMs (4 s).
 */
export const HEALTH_CHECK = {intervalMs: 1000, timeoutMs: 3000} as const

/**
 * Destroy the socket (not a polite FIN, which a blackholed peer never answers), so the client
 * reconnects. On a cluster, every node connection's: ioredis then sends what they left unanswered
 * again on fresh ones (as for a failover), with a fresh slot map.
 */
export function dropConnection(client: RedisClient): void {
  if (isCluster(client)) for (const node of client.nodes()) node.stream?.destroy()
  else client.stream?.destroy()
}

/** Reject with `message` if `promise` has not settled within `ms`, calling `onTimeout` first. */
export async function within<T>(promise: Promise<T>, ms: number, message: string, onTimeout: () => void = () => {}): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout()
      reject(new Error(message))
    }, ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Whether the command connection answers. The worker does not read new entries while it cannot
 * acknowledge them (reading work it can never ack only makes duplicates), and resumes when a fresh
 * connection answers.
 */
export class ConnectionHealth {
  private healthy = true
  private waiters: Array<() => void> = []

  /**
   * `key`: on a Redis Cluster, the topic: its owner's connection is the one PINGed (a cluster's own
   * PING goes to any node), and every node connection is replaced when it does not answer.
   */
  constructor(
    private readonly client: RedisClient,
    private readonly warn: (message: string) => void,
    private readonly settings: {intervalMs: number; timeoutMs: number} = HEALTH_CHECK,
    private readonly key?: string,
  ) {}

  get isHealthy(): boolean {
    return this.healthy
  }

  /** Resolves when the connection answers (at once if it does), or when `signal` aborts. */
  async whenHealthy(signal: AbortSignal): Promise<void> {
    if (this.healthy || signal.aborted) return
    await new Promise<void>((resolve) => {
      this.waiters.push(resolve)
      signal.addEventListener('abort', () => resolve(), {once: true})
    })
  }

  /** PING on an interval until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.settings.intervalMs, signal)
      if (signal.aborted) break
      await this.check()
    }
    this.setHealthy(true)
  }

  private async check(): Promise<void> {
    const {timeoutMs} = this.settings
    try {
      const client = this.client
      const target = isCluster(client) && this.key !== undefined ? (ownerNode(client, this.key) ?? client) : client
      await within(target.ping(), timeoutMs, 'no answer')
      if (!this.healthy) this.warn('Redis answers again on the command connection; resuming')
      this.setHealthy(true)
    } catch (error) {
      if (this.healthy) {
        const reason = error instanceof Error && error.message !== 'no answer' ? error.message : `no answer to PING within ${timeoutMs / 1000}s`
        this.warn(`Redis stopped answering on the command connection (${reason}): replacing the connection; not reading new entries until it answers`)
      }
      this.healthy = false
      dropConnection(this.client)
    }
  }

  private setHealthy(value: boolean): void {
    this.healthy = value
    if (!value) return
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}
