import {execFile} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {cleanEnv, PROJECT_ROOT} from './cli.js'

const run = promisify(execFile)
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** `part` quoted for sh. */
export const shellQuote = (part: string): string => `'${part.replaceAll("'", "'\\''")}'`

export interface TmuxStartOptions {
  cols: number
  rows: number
  /** Added to (or, when undefined, removed from) the cleaned environment of the pane. */
  env?: Record<string, string | undefined>
  cwd?: string
}

/**
 * A command running in a real pseudo-terminal: a detached tmux session on a private tmux server
 * (its own socket in its own temp dir, no config file), so tests never touch the user's tmux.
 * `kill()` ends the server, every process in it, and removes the socket.
 */
export class TmuxSession {
  private constructor(
    readonly name: string,
    /** A private temp dir (holds the socket; tests may put their own files here). */
    readonly dir: string,
  ) {}

  private get socket(): string {
    return join(this.dir, 'tmux.sock')
  }

  /** Start `command` (run by sh) in a new session `name` of a new private server, `cols`x`rows`. */
  static async start(name: string, command: string, options: TmuxStartOptions): Promise<TmuxSession> {
    const dir = await mkdtemp(join(tmpdir(), 'qctl-tmux-'))
    const session = new TmuxSession(name, dir)
    // The server inherits this environment; the pane's TERM is set in the command (tmux would set its own).
    const env = cleanEnv({TMUX: undefined, TMUX_PANE: undefined, LANG: process.env.LANG ?? 'C.UTF-8', ...options.env})
    const term = options.env?.TERM ?? 'xterm-256color'
    try {
      await session.tmux(
        ['new-session', '-d', '-s', name, '-x', String(options.cols), '-y', String(options.rows), '-c', options.cwd ?? PROJECT_ROOT, 'sh', '-c', `export TERM=${shellQuote(term)}; ${command}`],
        env,
      )
    } catch (error) {
      await session.kill()
      throw error
    }
    return session
  }

  private async tmux(args: string[], env: NodeJS.ProcessEnv = cleanEnv({TMUX: undefined})): Promise<string> {
    // -u: UTF-8 whatever the locale says (sparklines and marks must survive capture).
    const {stdout} = await run('tmux', ['-u', '-f', '/dev/null', '-S', this.socket, ...args], {env, maxBuffer: 10 * 1024 * 1024})
    return stdout
  }

  /** The visible pane as text, trailing spaces removed; `joinWrapped` joins lines the terminal wrapped. */
  async capture(options: {joinWrapped?: boolean} = {}): Promise<string> {
    const text = await this.tmux(['capture-pane', '-p', ...(options.joinWrapped === true ? ['-J'] : []), '-t', this.name])
    return text
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
  }

  /**
   * Press keys (tmux key names: q, Enter, Escape, Down, Up, C-c), one at a time with a short gap so
   * each arrives as its own read. After Escape it waits 300ms, so a following key is not read as
   * Alt+key.
   */
  async sendKeys(...keys: string[]): Promise<void> {
    for (const key of keys) {
      await this.tmux(['send-keys', '-t', this.name, key])
      await pause(key === 'Escape' ? 300 : 100)
    }
  }

  /** Resize the terminal, as a user dragging the window does (the program gets SIGWINCH). */
  async resize(cols: number, rows: number): Promise<void> {
    await this.tmux(['resize-window', '-t', this.name, '-x', String(cols), '-y', String(rows)])
  }

  /** Poll the pane every 100ms until `predicate` holds; fails after `timeoutMs` showing the last screen. */
  async waitForScreen(predicate: (screen: string) => boolean, timeoutMs = 10_000, what = 'the screen'): Promise<string> {
    const deadline = Date.now() + timeoutMs
    let screen = ''
    for (;;) {
      screen = await this.capture()
      if (predicate(screen)) return screen
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}; the screen was:\n${screen}`)
      await pause(100)
    }
  }

  /** End the private server and everything running in it; remove its dir. Safe to call twice. */
  async kill(): Promise<void> {
    await this.tmux(['kill-server']).catch(() => {})
    await rm(this.dir, {recursive: true, force: true})
  }
}
