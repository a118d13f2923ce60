import {leaseKey, leaseTokenKey, membersKey} from '../keys.js'
import type {RedisClient} from '../redis/client.js'
import {callScript, type ScriptSpec} from '../scripts.js'
import {sleep} from '../sleep.js'
import {errorMessage} from './outcomes.js'

const ACQUIRE: ScriptSpec = {name: 'qctlLeaseAcquire', file: 'lease-acquire-2.lua', keys: 2}
const RENEW: ScriptSpec = {name: 'qctlLeaseRenew', file: 'lease-renew-1.lua', keys: 1}
const BEAT: ScriptSpec = {name: 'qctlMembersBeat', file: 'members-beat-1.lua', keys: 1}

/**
 * Part of the lease's time to live a holder stops short of, on its own clock: the lease's expiry in
 * Redis counts from when the renewal ran there, which is after it was sent, and clocks may run at
 * slightly different rates. So a holder stops before any other worker can take the partition.
 */
const SAFETY = 0.1

/**
 * Which partitions each live member should hold: partition p goes to the (p mod M)-th member in
 * name order. Every worker computes the same from the same member list, each takes its own share,
 * and the leases settle who holds what while views differ for a moment.
 */
export function shareOf(partitions: number, members: readonly string[], me: string): number[] {
  const sorted = [...new Set(members)].sort()
  const index = sorted.indexOf(me)
  if (index === -1) return []
  const share: number[] = []
  for (let partition = index; partition < partitions; partition += sorted.length) share.push(partition)
  return share
}

/** What the worker does as partitions come and go (worker.ts). */
export interface LeaseHooks {
  /** The lease was taken (`token`: its fencing token): take the partition's pending entries, then read it. */
  acquired(partition: number, token: number): Promise<void>
  /** Give the partition up (rebalance, stop): start nothing more of it, let what runs finish, send its acknowledgements. */
  releasing(partition: number): Promise<void>
  /** The lease is lost (not renewed in time, or another worker holds it): stop its partition at once. */
  lost(partition: number): void
}

interface Held {
  token: number
  /** The lease's value in Redis: "<token>:<owner>". */
  value: string
  /** performance.now() after which this worker must not start anything of the partition. */
  deadline: number
  timer: NodeJS.Timeout | undefined
}

/**
 * Partition leases of one worker of an ordered group (README, "Ordered processing"): membership,
 * each member's fair share, leases taken, renewed every third of the time to live, and given up.
 *
 * Bounds: a worker joining gets its share within about two renewal intervals (others see it and
 * give partitions up at their next renewal; it takes them at its next) plus the time running
 * handlers of those partitions need to finish; a worker leaving cleanly gives its partitions back at
 * once (others take them within one interval); a worker that dies loses them after the time to live.
 */
export class Leases {
  private readonly held = new Map<number, Held>()
  /** Partitions being given up or taken (hooks running): not touched again meanwhile. */
  private readonly busy = new Set<number>()
  private members: string[] = []
  readonly intervalMs: number

  constructor(
    private readonly redis: RedisClient,
    private readonly topic: string,
    private streams: readonly string[],
    private readonly group: string,
    private readonly consumer: string,
    private readonly ttlMs: number,
    private readonly hooks: LeaseHooks,
    private readonly warn: (message: string) => void,
  ) {
    this.intervalMs = Math.max(100, Math.floor(ttlMs / 3))
  }

  /**
   * The topic grew (`qctl topic alter`): `streams` are all its partitions' now. Its shares count
   * them from the next round; a worker that has not seen the growth yet shares fewer, and the
   * leases settle who holds what meanwhile (a partition is taken only when its lease is free).
   */
  grow(streams: readonly string[]): void {
    if (streams.length > this.streams.length) this.streams = [...streams]
  }

  /** Whether this worker holds the partition's lease and may start its entries (its own clock). */
  valid(partition: number): boolean {
    const held = this.held.get(partition)
    return held !== undefined && performance.now() < held.deadline
  }

  /** How long the lease stays valid on this worker's clock (0 when not held). */
  remainingMs(partition: number): number {
    const held = this.held.get(partition)
    return held === undefined ? 0 : Math.max(0, held.deadline - performance.now())
  }

  token(partition: number): number | undefined {
    return this.held.get(partition)?.token
  }

  /** The lease's value ("<token>:<owner>"), which the fenced acknowledgement checks. */
  value(partition: number): string | undefined {
    return this.held.get(partition)?.value
  }

  get ownedPartitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b)
  }

  get liveMembers(): readonly string[] {
    return this.members
  }

  /** Renew and rebalance every interval until `signal` aborts; then give every partition back. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.cycle()
      } catch (error) {
        this.warn(`partition leases could not be renewed, retrying: ${errorMessage(error)}`)
      }
      await sleep(this.intervalMs, signal)
    }
  }

  /** One round: say it is alive, renew what it holds, give up what is no longer its share, take what is. */
  async cycle(): Promise<void> {
    const sentAt = performance.now()
    this.members = ((await callScript(this.redis, BEAT, [membersKey(this.topic, this.group), this.consumer, this.ttlMs])) as string[]).map(String)
    await Promise.all([...this.held].filter(([partition]) => !this.busy.has(partition)).map(async ([partition, held]) => this.renew(partition, held, sentAt)))
    const share = new Set(shareOf(this.streams.length, this.members, this.consumer))
    for (const partition of this.held.keys()) if (!share.has(partition) && !this.busy.has(partition)) void this.giveUp(partition)
    await Promise.all([...share].filter((partition) => !this.held.has(partition) && !this.busy.has(partition)).map(async (partition) => this.take(partition)))
  }

  /** Give every partition back and leave the members (a clean stop). */
  async stop(): Promise<void> {
    await Promise.all([...this.held.keys()].map(async (partition) => this.giveUp(partition)))
    await callScript(this.redis, BEAT, [membersKey(this.topic, this.group), this.consumer, 0]).catch(() => undefined)
  }

  private async renew(partition: number, held: Held, sentAt: number): Promise<void> {
    const renewed = Number(await callScript(this.redis, RENEW, [leaseKey(this.streams[partition] as string, this.group), held.value, this.ttlMs])) === 1
    if (this.held.get(partition) !== held) return
    // Renewed in Redis, but too late for this worker's clock (it was frozen, or Redis slow): it may
    // already have stopped starting entries of the partition, leaving them pending to itself. It gives
    // the partition up and takes it again, which takes those entries back first, in order.
    if (renewed && performance.now() < held.deadline) this.extend(partition, held, sentAt)
    else this.lose(partition, renewed ? "renewed too late on this worker's clock" : 'another worker holds it now')
  }

  /**
   * This worker saw the lease lapse on its own clock (an entry it could not start, a read refused),
   * or Redis refused a step under it (`why` says so): it stops the partition now rather than at the
   * next renewal, which might succeed and leave entries behind.
   */
  lapsed(partition: number, why = "it lapsed on this worker's clock"): void {
    this.lose(partition, why)
  }

  private async take(partition: number): Promise<void> {
    const stream = this.streams[partition] as string
    const sentAt = performance.now()
    const reply = (await callScript(this.redis, ACQUIRE, [leaseKey(stream, this.group), leaseTokenKey(stream, this.group), this.consumer, this.ttlMs])) as [number, number | string, number?]
    if (Number(reply[0]) !== 1) return
    const token = Number(reply[1])
    const held: Held = {token, value: `${token}:${this.consumer}`, deadline: 0, timer: undefined}
    this.held.set(partition, held)
    this.extend(partition, held, sentAt)
    this.busy.add(partition)
    try {
      await this.hooks.acquired(partition, token)
    } catch (error) {
      // Taken but not set up (its pending entries could not be read): given back, to be taken again.
      this.warn(`could not take over partition ${partition}, giving it back: ${errorMessage(error)}`)
      this.lose(partition, 'it could not be taken over')
    } finally {
      this.busy.delete(partition)
    }
  }

  private async giveUp(partition: number): Promise<void> {
    const held = this.held.get(partition)
    if (held === undefined || this.busy.has(partition)) return
    this.busy.add(partition)
    try {
      await this.hooks.releasing(partition)
      clearTimeout(held.timer)
      this.held.delete(partition)
      await callScript(this.redis, RENEW, [leaseKey(this.streams[partition] as string, this.group), held.value, 0]).catch(() => undefined)
    } finally {
      this.busy.delete(partition)
    }
  }

  /** A renewal sent at `sentAt` succeeded: valid until then plus the time to live, less the safety margin. */
  private extend(partition: number, held: Held, sentAt: number): void {
    held.deadline = sentAt + this.ttlMs * (1 - SAFETY)
    clearTimeout(held.timer)
    // Not renewed by then (Redis silent, the process starved): stop the partition before anyone else may start it.
    held.timer = setTimeout(() => this.lose(partition, `not renewed within ${this.ttlMs}ms`), Math.max(0, held.deadline - performance.now()))
    held.timer.unref()
  }

  private lose(partition: number, why: string): void {
    const held = this.held.get(partition)
    if (held === undefined) return
    clearTimeout(held.timer)
    this.held.delete(partition)
    this.warn(`lost the lease of partition ${partition} (${why}): stopped handling it; another worker of the group takes it over`)
    this.hooks.lost(partition)
    // Given back if it is still this worker's in Redis, so the next holder need not wait for it to expire.
    void callScript(this.redis, RENEW, [leaseKey(this.streams[partition] as string, this.group), held.value, 0]).catch(() => undefined)
  }
}
