import type {Tracked} from './tracked.js'

/**
 * Entries held and not yet started, in the order they may start. Two kinds: `FifoQueue` (any entry
 * may start, in arrival order: the default) and `KeyedQueue` (`--ordered`: an entry starts only
 * once the earlier entries of its key are done).
 */
export interface StartQueue {
  readonly length: number
  /** The next entry that may start, if any. */
  peek(): Tracked | undefined
  shift(): Tracked | undefined
  push(tracked: Tracked): void
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

  peek(): Tracked | undefined {
    return this.entries[0]
  }

  shift(): Tracked | undefined {
    return this.entries.shift()
  }

  push(tracked: Tracked): void {
    this.entries.push(tracked)
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
 * Every operation is O(1) but `remove` (O(held)): a start never scans entries that cannot start.
 */
export class KeyedQueue implements StartQueue {
  private ready: Tracked[] = []
  private head = 0
  /** Keys with an entry ready, running or waiting to retry, and the entries behind it. */
  private readonly behind = new Map<string, Tracked[]>()
  private waitingCount = 0

  get length(): number {
    return this.ready.length - this.head + this.waitingCount
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

  push(tracked: Tracked): void {
    const {key} = tracked
    if (key === undefined) {
      this.ready.push(tracked)
      return
    }
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
    if (next === undefined) {
      this.behind.delete(key)
      return
    }
    this.waitingCount--
    this.ready.push(next)
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
    // A removed ready entry held its key: the next behind it is ready now.
    for (const tracked of fromReady) this.done(tracked)
    return [...fromReady, ...fromBehind]
  }

  clear(): Tracked[] {
    const all = [...this.ready.slice(this.head), ...[...this.behind.values()].flat()]
    this.ready = []
    this.head = 0
    this.behind.clear()
    this.waitingCount = 0
    return all
  }

  /** The keys with the most entries waiting behind another of theirs (for `top`'s detail view). */
  busiestKeys(limit: number): Array<{key: string; waiting: number}> {
    return [...this.behind]
      .filter(([, queue]) => queue.length > 0)
      .map(([key, queue]) => ({key, waiting: queue.length}))
      .sort((a, b) => b.waiting - a.waiting)
      .slice(0, limit)
  }

  /** Entries waiting behind an earlier entry of their key. */
  get waiting(): number {
    return this.waitingCount
  }
}
