import {connect, createServer, type Server, type Socket} from 'node:net'

/**
 * A loopback TCP proxy between a client (qctl) and a server (Redis), for tests of connections
 * that go silent rather than close. Point the client at `proxy.url`, then change how the proxy
 * forwards, at any moment, for every connection at once:
 *
 * - `pause()` / `resume()`: stop forwarding both ways, sockets open; on resume every byte held
 *   meanwhile is delivered, in order. Connections accepted while paused start paused.
 * - `blackhole()`: the connections open now swallow every byte both ways, forever, without a FIN
 *   or RST (a NAT or load-balancer entry dropped); connections accepted later work normally.
 * - `cut()`: destroy every current connection (both sockets).
 * - `latency(ms)`: deliver each chunk `ms` later, each way, order kept (`latency(0)` turns it off).
 * - `stallOneWay(direction)`: hold the bytes of one direction only (`toServer`: the client's
 *   commands; `toClient`: the server's replies), until `resume()`.
 *
 * Held bytes are never lost: the proxy stops reading the sending socket (TCP flow control then
 * holds the sender), and chunks it already read wait in order. Only `blackhole()` discards bytes.
 */
export interface TcpProxy {
  readonly port: number
  /** `redis://127.0.0.1:PORT` */
  readonly url: string
  /** Client connections open now (blackholed ones included). */
  readonly connections: number
  pause(): void
  /** Undo `pause()` and `stallOneWay()`: forward again, held bytes first. Blackholed connections stay so. */
  resume(): void
  blackhole(): void
  cut(): void
  latency(ms: number): void
  stallOneWay(direction: Direction): void
  /** Destroy every connection and stop listening. */
  close(): Promise<void>
}

export type Direction = 'toServer' | 'toClient'

interface Chunk {
  bytes: Buffer
  /** When it may be written (Date.now() milliseconds). */
  due: number
}

/** Global forwarding state, read by every connection. */
interface Settings {
  latencyMs: number
  held: Record<Direction, boolean>
}

/** One direction of one connection: reads `from`, writes `to`, in order. */
class Pipe {
  private readonly queue: Chunk[] = []
  private timer: NodeJS.Timeout | undefined
  private waitingForDrain = false
  private fromEnded = false
  swallowing = false

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly direction: Direction,
    private readonly settings: Settings,
  ) {
    from.on('data', (bytes: Buffer) => {
      if (this.swallowing) return
      this.queue.push({bytes, due: Date.now() + settings.latencyMs})
      this.pump()
    })
    from.on('end', () => {
      this.fromEnded = true
      this.pump()
    })
    to.on('drain', () => {
      this.waitingForDrain = false
      this.pump()
    })
  }

  /** Write what is due, unless held; stop reading while held or while `to` is full. */
  pump(): void {
    if (this.swallowing || this.to.destroyed) return
    if (this.settings.held[this.direction] || this.waitingForDrain) {
      this.from.pause()
      return
    }
    clearTimeout(this.timer)
    this.timer = undefined
    const now = Date.now()
    while (this.queue.length > 0) {
      const head = this.queue[0] as Chunk
      if (head.due > now) {
        this.timer = setTimeout(() => this.pump(), head.due - now)
        break
      }
      this.queue.shift()
      if (!this.to.write(head.bytes)) {
        this.waitingForDrain = true
        this.from.pause()
        return
      }
    }
    if (this.queue.length === 0 && this.fromEnded) this.to.end()
    // Reading on while chunks wait for their latency: they are queued in order, nothing is lost.
    else if (!this.from.destroyed) this.from.resume()
  }

  /** Discard everything, now and later, and keep reading so the sender never blocks. */
  swallow(): void {
    this.swallowing = true
    this.queue.length = 0
    clearTimeout(this.timer)
    this.from.resume()
  }

  stop(): void {
    clearTimeout(this.timer)
  }
}

class Link {
  readonly toServer: Pipe
  readonly toClient: Pipe
  blackholed = false

  constructor(
    readonly client: Socket,
    readonly server: Socket,
    settings: Settings,
    private readonly onClose: (link: Link) => void,
  ) {
    this.toServer = new Pipe(client, server, 'toServer', settings)
    this.toClient = new Pipe(server, client, 'toClient', settings)
    client.on('error', () => this.destroy())
    client.on('close', () => this.destroy())
    // A blackholed connection never tells the client that the server went away.
    server.on('error', () => (this.blackholed ? server.destroy() : this.destroy()))
    server.on('close', () => (this.blackholed ? undefined : this.destroy()))
  }

  blackhole(): void {
    this.blackholed = true
    this.toServer.swallow()
    this.toClient.swallow()
  }

  pump(): void {
    this.toServer.pump()
    this.toClient.pump()
  }

  destroy(): void {
    this.toServer.stop()
    this.toClient.stop()
    this.client.destroy()
    this.server.destroy()
    this.onClose(this)
  }
}

/** Start a proxy on a free loopback port that forwards to `target` (host defaults to 127.0.0.1). */
export async function startTcpProxy(target: {host?: string; port: number}): Promise<TcpProxy> {
  const settings: Settings = {latencyMs: 0, held: {toServer: false, toClient: false}}
  const links = new Set<Link>()
  const server: Server = createServer({noDelay: true, allowHalfOpen: true}, (client) => {
    const upstream = connect({host: target.host ?? '127.0.0.1', port: target.port, noDelay: true, allowHalfOpen: true})
    const link = new Link(client, upstream, settings, (closed) => links.delete(closed))
    links.add(link)
    link.pump()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address')
  const {port} = address

  const everyLink = (action: (link: Link) => void): void => {
    for (const link of [...links]) action(link)
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get connections() {
      return links.size
    },
    pause() {
      settings.held = {toServer: true, toClient: true}
      everyLink((link) => link.pump())
    },
    resume() {
      settings.held = {toServer: false, toClient: false}
      everyLink((link) => link.pump())
    },
    blackhole() {
      everyLink((link) => link.blackhole())
    },
    cut() {
      everyLink((link) => link.destroy())
    },
    latency(ms: number) {
      if (!(ms >= 0)) throw new Error(`latency must be 0 or more milliseconds, not ${ms}`)
      settings.latencyMs = ms
    },
    stallOneWay(direction: Direction) {
      settings.held[direction] = true
      everyLink((link) => link.pump())
    },
    async close() {
      everyLink((link) => link.destroy())
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
