import type {Writable} from 'node:stream'

/**
 * Lines to a stream (stdout) as they come, with backpressure: `write` returns a promise when the
 * stream's buffer is full, resolved when it drained, so a reader that does not keep up (a paused
 * pipe, a slow `qctl publish`) holds the producer back instead of growing memory. A reader that
 * went away (`| head`: EPIPE) ends the output quietly: `closed` turns true and `onClosed` runs.
 */
export class LineWriter {
  closed = false
  private waiting: Promise<void> | undefined
  private wake: (() => void) | undefined

  constructor(
    private readonly stream: Writable,
    private readonly onClosed: () => void,
    signal?: AbortSignal,
  ) {
    stream.on('error', () => this.close())
    stream.on('close', () => this.close())
    stream.on('drain', () => this.release())
    // Stopped (Ctrl-C) while the reader holds the output back: the producer must not wait forever.
    signal?.addEventListener('abort', () => this.release(), {once: true})
  }

  /** Write one line (with its newline); a promise when the caller should wait before writing more. */
  write(line: string): void | Promise<void> {
    if (this.closed) return undefined
    if (this.stream.write(line)) return undefined
    this.waiting ??= new Promise<void>((resolve) => {
      this.wake = resolve
    })
    return this.waiting
  }

  /** Resolves once everything written has been handed to the operating system (or the reader went away). */
  async flush(): Promise<void> {
    if (this.closed) return
    await new Promise<void>((resolve) => {
      this.stream.write('', () => resolve())
      this.stream.once('close', () => resolve())
    })
  }

  /**
   * After Ctrl-C: wait at most `graceMs` for the reader to take what was written. False when it did
   * not (it stopped reading, its pipe stays full): the caller must then exit without waiting for
   * stdout, which Node never closes and would otherwise keep the process alive.
   */
  async settle(graceMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const flushed = await Promise.race([this.flush().then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)))])
    clearTimeout(timer)
    return flushed || this.closed
  }

  private release(): void {
    const wake = this.wake
    this.waiting = undefined
    this.wake = undefined
    wake?.()
  }

  private close(): void {
    if (this.closed) return
    this.closed = true
    this.release()
    this.onClosed()
  }
}
