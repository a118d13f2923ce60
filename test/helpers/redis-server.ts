import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Redis, type RedisOptions} from 'ioredis'

import {freePort} from '../../src/core/redis/throwaway-server.js'

export {freePort}

/** The server binary: redis-server, or another compatible one (e.g. valkey-server) for a whole run. */
export const REDIS_SERVER_BIN = process.env.QCTL_TEST_REDIS_SERVER || 'redis-server'

export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. ['--requirepass', 'x'] or ['--appendonly', 'yes']. */
  args?: string[]
  /** Listen on this port (e.g. one a client already waits on) instead of a free one. */
  port?: number
  /** Serve TLS only (`--port 0 --tls-port P`). */
  tls?: {certFile: string; keyFile: string; caFile: string; authClients?: boolean}
}

/**
 * Start `REDIS_SERVER_BIN` with `args`; `ready` resolves once it says "Ready to accept connections"
 * (within 10 s), and rejects with its output if it exits or fails first. `onOutput` gets all it prints.
 */
export function spawnServer(args: string[], label: string, onOutput: (text: string) => void): {child: ChildProcess; ready: Promise<void>} {
  const child = spawn(REDIS_SERVER_BIN, args, {stdio: ['ignore', 'pipe', 'pipe']})
  let log = ''
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start in 10s:\n${log}`)), 10_000)
    const onData = (chunk: Buffer): void => {
      log += chunk.toString()
      onOutput(chunk.toString())
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${label} exited with ${code}:\n${log}`))
    })
  })
  return {child, ready}
}

/**
 * A private redis-server on a free loopback port with its own temp dir. Tests may kill, restart or
 * reconfigure it; `stop()` removes everything. Never touches a Redis it did not start.
 */
export class RedisServer {
  private process: ChildProcess | undefined
  private log = ''

  private constructor(
    readonly port: number,
    readonly dir: string,
    private options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'qctl-test-redis-'))
    let lastError: unknown
    // A free port can be taken between the check and the bind: try another; a given port gets one try.
    for (let attempt = 0; attempt < (options.port === undefined ? 5 : 1); attempt++) {
      const server = new RedisServer(options.port ?? (await freePort()), dir, options)
      try {
        await server.launch()
        return server
      } catch (error) {
        lastError = error
      }
    }
    await rm(dir, {recursive: true, force: true})
    throw lastError
  }

  /** `redis://127.0.0.1:PORT` (or `rediss://localhost:PORT` for TLS servers). */
  get url(): string {
    return this.options.tls === undefined ? `redis://127.0.0.1:${this.port}` : `rediss://localhost:${this.port}`
  }

  get pid(): number | undefined {
    return this.process?.pid
  }

  private commandLine(): string[] {
    const base = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--logfile', '', '--daemonize', 'no']
    const tls = this.options.tls
    const listen =
      tls === undefined
        ? ['--port', String(this.port)]
        : [
            '--port', '0', '--tls-port', String(this.port),
            '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile,
            '--tls-auth-clients', tls.authClients === true ? 'yes' : 'no',
          ]
    return [...base, ...listen, ...(this.options.args ?? [])]
  }

  private async launch(): Promise<void> {
    this.log = ''
    const {child, ready} = spawnServer(this.commandLine(), 'redis-server', (text) => (this.log += text))
    this.process = child
    await ready
  }

  /** Send a signal (SIGKILL to crash it, SIGSTOP/SIGCONT to freeze it) and wait for exit where it ends. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') {
      await exited
      this.process = undefined
    }
  }

  /** Start again on the same port and dir (after kill); data survives only if persistence was on. */
  async restart(): Promise<void> {
    await this.kill('SIGKILL')
    await this.launch()
  }

  /** Restart with different `redis-server` arguments (same port and dir). */
  async reconfigure(args: string[]): Promise<void> {
    this.options.args = args
    await this.restart()
  }

  /** An admin connection for arranging and checking test state. */
  async client(options: RedisOptions = {}): Promise<Redis> {
    const client = new Redis({host: '127.0.0.1', port: this.port, lazyConnect: true, maxRetriesPerRequest: 1, enableReadyCheck: false, ...options})
    // Errors surface through the commands a test awaits; no "Unhandled error event" noise.
    client.on('error', () => {})
    await client.connect()
    return client
  }

  async stop(): Promise<void> {
    await this.kill('SIGKILL')
    await rm(this.dir, {recursive: true, force: true})
  }
}
