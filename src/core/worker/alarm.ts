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
