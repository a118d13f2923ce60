/** A sleep that can be cut short: the due-retry loop sleeps until the next due time, and a retry parked meanwhile with an earlier due time wakes it then. */
export class Alarm {
  private timer: NodeJS.Timeout | undefined
  private wake: (() => void) | undefined
  private at = Number.POSITIVE_INFINITY

  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (ms <= 0 || signal.aborted) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(this.timer)
        this.timer = undefined
        this.wake = undefined
        this.at = Number.POSITIVE_INFINITY
        signal.removeEventListener('abort', done)
        resolve()
      }
      this.wake = done
      this.at = Date.now() + ms
      this.timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, {once: true})
    })
  }

  /** Wake the sleeper within `ms` (no-op if it wakes sooner anyway, or is not asleep). */
  wakeIn(ms: number): void {
    const wake = this.wake
    if (wake === undefined || Date.now() + ms >= this.at) return
    clearTimeout(this.timer)
    this.at = Date.now() + ms
    this.timer = setTimeout(wake, Math.max(0, ms))
  }
}

/**
 * A sleep any number of loops may share, all woken at once: the read loops of a worker's partitions
 * (one per partition on a cluster) wait on it while they hold nothing to read, and a partition taken
 * or given up wakes them. (Alarm has one sleeper: a second would take the first one's timer.)
 */
export class Broadcast {
  private readonly sleepers = new Set<() => void>()

  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (ms <= 0 || signal.aborted) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.sleepers.delete(done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.sleepers.add(done)
      signal.addEventListener('abort', done, {once: true})
    })
  }

  wakeAll(): void {
    for (const wake of [...this.sleepers]) wake()
  }
}
