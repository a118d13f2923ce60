import type {Tracked} from './tracked.js'

/**
 * Entries held and not yet started, in the order they may start. Two kinds: `FifoQueue` (any entry
 * may start, in arrival order: the default) and `KeyedQueue` (`--ordered`: an entry starts only
 * once the earlier entries of its key are done).
 */
export interface StartQueue {
  /** Entries held in memory and not started. */
  readonly length: number
  /** Entries held by ID only (KeyedQueue's spill): pending to the worker, their fields read again when their key gets there. */
  readonly spilled: number
  /** How many more entries may be spilled (the read room is bounded by it too). */
  readonly spillRoom: number
  /** The next entry that may start, if any. */
  peek(): Tracked | undefined
  shift(): Tracked | undefined
  /** Hold it: `queued` in memory, or `spilled` (kept by ID only: the caller drops its fields and its room). */
  push(tracked: Tracked): 'queued' | 'spilled'
  /** The entries spilled (held by ID only), for the heartbeat and lookups by ID. */
  spilledEntries(): Tracked[]
  /** Remove these entries (taken over, deleted); returns those removed. */
  remove(matches: (tracked: Tracked) => boolean): Tracked[]
  /** Remove every entry. */
  clear(): Tracked[]
  /** An entry that started is done for good (acknowledged, dead-lettered, dropped): its key may go on. */
  done(tracked: Tracked): void
  /** An entry that failed and will run again (ordered retries): it goes first again once its wait is over. */
  again(tracked: Tracked): void
}

/** Arrival order, no constraint. */
export class FifoQueue implements StartQueue {
  private readonly entries: Tracked[] = []

  get length(): number {
    return this.entries.length
  }

  readonly spilled = 0
  readonly spillRoom = Number.POSITIVE_INFINITY

  spilledEntries(): Tracked[] {
    return []
  }

  peek(): Tracked | undefined {
    return this.entries[0]
  }

  shift(): Tracked | undefined {
    return this.entries.shift()
  }

  push(tracked: Tracked): 'queued' {
    this.entries.push(tracked)
    return 'queued'
  }

  remove(matches: (tracked: Tracked) => boolean): Tracked[] {
    const removed: Tracked[] = []
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const tracked = this.entries[i] as Tracked
      if (!matches(tracked)) continue
      this.entries.splice(i, 1)
      removed.push(tracked)
    }
    return removed
  }

  clear(): Tracked[] {
    return this.entries.splice(0)
  }

  done(): void {}

  again(tracked: Tracked): void {
    this.entries.unshift(tracked)
  }
}

/**
 * `--ordered`: one entry per key at a time. An entry whose key has an earlier entry running, waiting
 * out a retry, or ready, waits behind it (per key, in arrival order, which is stream order); the
 * others are ready in arrival order. An entry without a key has no order to keep: it is ready at once.
 *
 * A hot key must not fill the read-ahead (the other keys would wait behind it in the stream): at most
 * `perKey` entries of a key wait in memory. Later ones are spilled: kept by ID only (still pending to
 * the worker, renewed by its heartbeat), not counted in the read room, so reading goes on for the
 * other keys. Once the key's waiting entries fall to half of `perKey`, it wants a refill
 * (`refillWanted`): the worker reads the spilled entries' fields again, oldest first, and `restore`s
 * them behind the key's others. While a key has spilled entries its new ones are spilled too, so the
 * key's order holds. At most `spillLimit` entries are spilled in all.
 *
 * Every operation is O(1) but `remove` (O(held)): a start never scans entries that cannot start.
 */
export class KeyedQueue implements StartQueue {
  private ready: Tracked[] = []
  private head = 0
  /** Keys with an entry ready, running or waiting to retry, and the entries behind it. */
  private readonly behind = new Map<string, Tracked[]>()
  private waitingCount = 0
  /** Per key, the entries kept by ID only, oldest first. */
  private readonly spill = new Map<string, Tracked[]>()
  private spilledCount = 0
  /** Keys whose spilled entries may be read back now (few of theirs wait in memory). */
  private readonly wanted = new Set<string>()
  /** Spilled entries being read back (between refillBatch and restore or drop). */
  private readonly refilling = new Set<Tracked>()

  constructor(
    private readonly perKey: number = Number.POSITIVE_INFINITY,
    private readonly spillLimit = 0,
  ) {}

  get length(): number {
    return this.ready.length - this.head + this.waitingCount
  }

  get spilled(): number {
    return this.spilledCount
  }

  get spillRoom(): number {
    return Math.max(0, this.spillLimit - this.spilledCount)
  }

  peek(): Tracked | undefined {
    return this.ready[this.head]
  }

  shift(): Tracked | undefined {
    const next = this.ready[this.head]
    if (next === undefined) return undefined
    this.head++
    // Compact now and then: an array used as a queue keeps its consumed head otherwise.
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head)
      this.head = 0
    }
    return next
  }

  push(tracked: Tracked): 'queued' | 'spilled' {
    const {key} = tracked
    if (key === undefined) {
      this.ready.push(tracked)
      return 'queued'
    }
    const spilled = this.spill.get(key)
    // Behind spilled entries of its key (order), or past the key's share while there is spill room.
    if (spilled !== undefined || ((this.behind.get(key)?.length ?? 0) >= this.perKey && this.spilledCount < this.spillLimit)) {
      if (spilled === undefined) this.spill.set(key, [tracked])
      else spilled.push(tracked)
      this.spilledCount++
      return 'spilled'
    }
    this.hold(key, tracked)
    return 'queued'
  }

  /** Into memory: ready if its key is free, else behind the key's others. */
  private hold(key: string, tracked: Tracked): void {
    const queue = this.behind.get(key)
    if (queue === undefined) {
      this.behind.set(key, [])
      this.ready.push(tracked)
    } else {
      queue.push(tracked)
      this.waitingCount++
    }
  }

  done(tracked: Tracked): void {
    const {key} = tracked
    if (key === undefined) return
    const queue = this.behind.get(key)
    if (queue === undefined) return
    const next = queue.shift()
    if (next === undefined) this.behind.delete(key)
    else {
      this.waitingCount--
      this.ready.push(next)
    }
    this.checkRefill(key)
  }

  /** A key with spilled entries and few waiting in memory wants them back. */
  private checkRefill(key: string): void {
    if (this.spill.has(key) && (this.behind.get(key)?.length ?? 0) <= Math.floor(this.perKey / 2)) this.wanted.add(key)
  }

  /** Keys whose spilled entries may be read back now. */
  refillWanted(): string[] {
    return [...this.wanted]
  }

  /**
   * Up to `count` of the key's spilled entries to read back (and no more than its share leaves room
   * for), oldest first; none while a batch of the key is being read back (batches are restored in
   * order, one at a time).
   */
  refillBatch(key: string, count: number): Tracked[] {
    const spilled = this.spill.get(key)
    this.wanted.delete(key)
    // No more than the key's share waiting in memory once they are back.
    const room = Math.min(count, this.perKey - (this.behind.get(key)?.length ?? 0))
    if (spilled === undefined || room <= 0 || spilled.some((tracked) => this.refilling.has(tracked))) return []
    const batch = spilled.slice(0, room)
    for (const tracked of batch) this.refilling.add(tracked)
    return batch
  }

  /**
   * A spilled entry read back (its fields restored by the caller), or, with `held` false, one that is
   * gone (deleted from the stream, or dropped meanwhile): leaves the spill; held, it joins its key's
   * entries in memory, behind the others (spilled entries are the key's newest held). False if it was
   * no longer spilled (removed meanwhile: a partition given up).
   */
  restore(tracked: Tracked, held = true): boolean {
    this.refilling.delete(tracked)
    const key = tracked.key as string
    const spilled = this.spill.get(key)
    const at = spilled?.indexOf(tracked) ?? -1
    if (spilled === undefined || at === -1) return false
    spilled.splice(at, 1)
    this.spilledCount--
    if (spilled.length === 0) this.spill.delete(key)
    if (held) this.hold(key, tracked)
    this.checkRefill(key)
    return true
  }

  /** A batch that could not be read back: its key wants a refill again (the caller retries). */
  refillFailed(batch: readonly Tracked[]): void {
    for (const tracked of batch) {
      this.refilling.delete(tracked)
      if (tracked.key !== undefined) this.checkRefill(tracked.key)
    }
  }

  /** Spilled entries, for the heartbeat to renew and for lookups by ID. */
  spilledEntries(): Tracked[] {
    return [...this.spill.values()].flat()
  }

  again(tracked: Tracked): void {
    // Its key is still taken (by it): it goes first, ahead of other keys that became ready meanwhile.
    if (this.head > 0) this.ready[--this.head] = tracked
    else this.ready.unshift(tracked)
  }

  remove(matches: (tracked: Tracked) => boolean): Tracked[] {
    const fromReady: Tracked[] = []
    const kept: Tracked[] = []
    for (let i = this.head; i < this.ready.length; i++) {
      const tracked = this.ready[i] as Tracked
      if (matches(tracked)) fromReady.push(tracked)
      else kept.push(tracked)
    }
    this.ready = kept
    this.head = 0
    const fromBehind: Tracked[] = []
    for (const [key, queue] of this.behind) {
      const left = queue.filter((tracked) => !matches(tracked))
      if (left.length === queue.length) continue
      for (const tracked of queue) if (matches(tracked)) fromBehind.push(tracked)
      this.waitingCount -= queue.length - left.length
      this.behind.set(key, left)
    }
    const fromSpill: Tracked[] = []
    for (const [key, spilled] of this.spill) {
      const left = spilled.filter((tracked) => !matches(tracked))
      if (left.length === spilled.length) continue
      for (const tracked of spilled) {
        if (!matches(tracked)) continue
        fromSpill.push(tracked)
        this.refilling.delete(tracked)
      }
      this.spilledCount -= spilled.length - left.length
      if (left.length === 0) this.spill.delete(key)
      else this.spill.set(key, left)
    }
    // A removed ready entry held its key: the next behind it is ready now.
    for (const tracked of fromReady) this.done(tracked)
    for (const tracked of fromBehind) if (tracked.key !== undefined) this.checkRefill(tracked.key)
    return [...fromReady, ...fromBehind, ...fromSpill]
  }

  clear(): Tracked[] {
    const all = [...this.ready.slice(this.head), ...[...this.behind.values()].flat(), ...this.spilledEntries()]
    this.ready = []
    this.head = 0
    this.behind.clear()
    this.waitingCount = 0
    this.spill.clear()
    this.spilledCount = 0
    this.wanted.clear()
    this.refilling.clear()
    return all
  }

  /**
   * The keys with the most entries waiting behind another of theirs, in memory or spilled, with the
   * partition of their lane (null on a plain topic), most first: what `top`'s detail view shows.
   */
  busiestKeys(limit: number): Array<{key: string; waiting: number; partition: number | null}> {
    const counts = new Map<string, {waiting: number; partition: number | null}>()
    for (const [key, queue] of this.behind) if (queue.length > 0) counts.set(key, {waiting: queue.length, partition: (queue[0] as Tracked).lane.partition})
    for (const [key, spilled] of this.spill) {
      const found = counts.get(key)
      if (found === undefined) counts.set(key, {waiting: spilled.length, partition: (spilled[0] as Tracked).lane.partition})
      else found.waiting += spilled.length
    }
    return [...counts]
      .map(([key, {waiting, partition}]) => ({key, waiting, partition}))
      .sort((a, b) => b.waiting - a.waiting)
      .slice(0, limit)
  }

  /** Entries waiting behind an earlier entry of their key. */
  get waiting(): number {
    return this.waitingCount
  }
}
