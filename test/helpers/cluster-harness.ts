import {spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'

import {Cluster, Redis} from 'ioredis'
import {afterAll, beforeAll} from 'vitest'

import {REDIS_SERVER_BIN, spawnServer} from './redis-server.js'

/**
 * A real Redis Cluster on loopback ports for tests, no Docker: one `redis-server --cluster-enabled
 * yes` child process per node (each with its own temp dir), joined with `redis-cli --cluster create`,
 * ready once every node says `cluster_state:ok` and agrees on every slot's owner. Tests may migrate
 * slots, fail over, kill and restart nodes; `stop()` kills every node and removes the dirs. Never
 * touches a Redis it did not start.
 */

export interface ClusterOptions {
  primaries?: number
  /** Replicas per primary (0 or 1). */
  replicas?: 0 | 1
  /** cluster-node-timeout: how long a node may be silent before it is failed over. */
  nodeTimeoutMs?: number
  /** More `redis-server` arguments for every node. */
  args?: string[]
  /** TLS only, between clients and nodes and between nodes (`tls-cluster yes`); client certificates required with `authClients`. */
  tls?: {certFile: string; keyFile: string; caFile: string; authClients?: boolean}
}

export interface ClusterNodeInfo {
  port: number
  id: string
  role: 'primary' | 'replica'
  /** A replica's primary's ID. */
  primaryId: string | null
}

const SLOTS = 16_384

/** Whether a TCP port can be bound on 127.0.0.1 now. */
async function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * A free port whose cluster bus port (+10000) is free too, both below 32768, where the kernel picks
 * the local ports of outgoing connections: a node must not find its port taken by a client's socket.
 */
async function freeClusterPort(taken: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 12_768)
    if (taken.has(port) || taken.has(port + 10_000) || taken.has(port - 10_000)) continue
    if ((await canBind(port)) && (await canBind(port + 10_000))) return port
  }
  throw new Error('no free pair of ports (port, port + 10000) for a cluster node')
}

/** The cluster CLI that matches the server: valkey-cli next to valkey-server, else redis-cli. */
function clusterCli(): string {
  if (basename(REDIS_SERVER_BIN).startsWith('valkey')) {
    const sibling = join(dirname(REDIS_SERVER_BIN), 'valkey-cli')
    if (existsSync(sibling)) return sibling
  }
  return 'redis-cli'
}

const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

class ClusterNodeProcess {
  process: ChildProcess | undefined
  log = ''

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: string[],
  ) {}

  async launch(): Promise<void> {
    this.log = ''
    const {child, ready} = spawnServer(this.args, `cluster node ${this.port}`, (text) => (this.log += text))
    this.process = child
    await ready
  }

  get running(): boolean {
    const child = this.process
    return child !== undefined && child.exitCode === null && child.signalCode === null
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.process
    if (child === undefined || !this.running) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    if (signal === 'SIGKILL' || signal === 'SIGTERM') {
      await exited
      this.process = undefined
    }
  }
}

export class RedisCluster {
  /** The topology as last read (refreshTopology), primaries first in port order of creation. */
  nodes: ClusterNodeInfo[] = []
  private readonly admins: Array<Redis | Cluster> = []

  private constructor(
    private readonly processes: Map<number, ClusterNodeProcess>,
    private readonly dirs: string[],
    private readonly primaryOrder: number[],
    /** How many replicas the cluster was made with: healthy only once every one has joined its primary. */
    private readonly replicaCount: number,
    private readonly tls: ClusterOptions['tls'],
  ) {}

  /** redis-cli's TLS arguments for this cluster. */
  private cliTls(): string[] {
    const tls = this.tls
    if (tls === undefined) return []
    return ['--tls', '--cacert', tls.caFile, ...(tls.authClients === true ? ['--cert', tls.certFile, '--key', tls.keyFile] : [])]
  }

  /** ioredis's TLS options for an admin connection to this cluster. */
  private clientTls(): {tls?: {ca: Buffer; cert?: Buffer; key?: Buffer}} {
    const tls = this.tls
    if (tls === undefined) return {}
    return {tls: {ca: readFileSync(tls.caFile), ...(tls.authClients === true ? {cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile)} : {})}}
  }

  static async start(options: ClusterOptions = {}): Promise<RedisCluster> {
    const primaries = options.primaries ?? 3
    const replicas = options.replicas ?? 0
    const count = primaries * (1 + replicas)
    const processes = new Map<number, ClusterNodeProcess>()
    const dirs: string[] = []
    const taken = new Set<number>()
    const cluster = new RedisCluster(processes, dirs, [], primaries * replicas, options.tls)
    try {
      for (let index = 0; index < count; index++) {
        const dir = await mkdtemp(join(tmpdir(), 'qctl-test-cluster-'))
        dirs.push(dir)
        let started: ClusterNodeProcess | undefined
        for (let attempt = 0; attempt < 5 && started === undefined; attempt++) {
          const port = await freeClusterPort(taken)
          const tls = options.tls
          const listen =
            tls === undefined
              ? ['--port', String(port)]
              : ['--port', '0', '--tls-port', String(port), '--tls-cluster', 'yes', '--tls-replication', 'yes', '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', tls.authClients === true ? 'yes' : 'no']
          const args = [
            ...listen, '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
            '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2000), '--appendonly', 'no', '--save', '', '--dir', dir,
            // Replicas sync at once (Redis waits 5 s by default for more replicas to share a diskless sync).
            '--daemonize', 'no', '--logfile', '', '--enable-debug-command', 'local', '--repl-diskless-sync-delay', '0', ...(options.args ?? []),
          ]
          const node = new ClusterNodeProcess(port, dir, args)
          try {
            await node.launch()
            started = node
          } catch {
            await node.kill('SIGKILL')
          }
        }
        if (started === undefined) throw new Error('a cluster node could not start on a free port')
        taken.add(started.port)
        processes.set(started.port, started)
      }
      const ports = [...processes.keys()]
      // redis-cli assigns the first `primaries` addresses as primaries and the rest as their replicas.
      const created = spawnSync(clusterCli(), [...cluster.cliTls(), '--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], {encoding: 'utf8', timeout: 60_000})
      if (created.status !== 0) throw new Error(`cluster create failed (${String(created.status)}):\n${created.stdout}\n${created.stderr}`)
      cluster.primaryOrder.push(...ports.slice(0, primaries))
      await cluster.waitForHealthy()
      return cluster
    } catch (error) {
      await cluster.stop()
      throw error
    }
  }

  /** `redis://127.0.0.1:PORT` (`rediss://` with TLS) of the first primary. */
  get seedUrl(): string {
    return this.urls[0] as string
  }

  /** The URLs of the primaries (as created). */
  get urls(): string[] {
    return this.primaryOrder.map((port) => `${this.tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}`)
  }

  /** Primaries as created (index 0 is the seed), whatever they are now. */
  primaries(): Array<{port: number}> {
    return this.primaryOrder.map((port) => ({port}))
  }

  /** The pid of a node's process (to freeze or kill it from a test). */
  pidOf(port: number): number | undefined {
    return this.processes.get(port)?.process?.pid
  }

  /** An admin connection to one node. */
  async nodeClient(port: number): Promise<Redis> {
    const client = new Redis({host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1, enableReadyCheck: false, ...this.clientTls()})
    client.on('error', () => {})
    await client.connect()
    return client
  }

  /** An admin Cluster connection (closed by stop()). */
  async client(): Promise<Cluster> {
    const running = [...this.processes.values()].filter((node) => node.running).map((node) => ({host: '127.0.0.1', port: node.port}))
    const cluster = new Cluster(running, {lazyConnect: true, enableReadyCheck: false, retryDelayOnFailover: 200, retryDelayOnClusterDown: 200, maxRedirections: 100, redisOptions: {maxRetriesPerRequest: 1, ...this.clientTls()}})
    cluster.on('error', () => {})
    await cluster.connect()
    this.admins.push(cluster)
    return cluster
  }

  /** Ask one node something, then close. */
  private async ask<T>(port: number, ask: (node: Redis) => Promise<T>): Promise<T> {
    const node = await this.nodeClient(port)
    try {
      return await ask(node)
    } finally {
      node.disconnect()
    }
  }

  /** Read the topology (CLUSTER NODES) from a running node. */
  async refreshTopology(): Promise<ClusterNodeInfo[]> {
    const port = [...this.processes.values()].find((node) => node.running)?.port
    if (port === undefined) throw new Error('no cluster node is running')
    const text = await this.ask(port, async (node) => String(await node.call('CLUSTER', 'NODES')))
    this.nodes = text
      .trim()
      .split('\n')
      .map((line) => {
        const [id, address, flags, primaryId] = line.split(' ')
        const nodePort = Number(/:(\d+)@/.exec(address ?? '')?.[1])
        const role: ClusterNodeInfo['role'] = (flags ?? '').includes('master') ? 'primary' : 'replica'
        return {port: nodePort, id: id ?? '', role, primaryId: primaryId === '-' || primaryId === undefined ? null : primaryId}
      })
      .sort((a, b) => a.port - b.port)
    return this.nodes
  }

  /** The owner (port) of each slot, as one node sees it. */
  private async slotOwners(port: number): Promise<Array<number | undefined>> {
    const slots = (await this.ask(port, async (node) => node.call('CLUSTER', 'SLOTS'))) as Array<[number, number, [string, number, string]]>
    const owners = new Array<number | undefined>(SLOTS).fill(undefined)
    for (const [start, end, [, ownerPort]] of slots) for (let slot = start; slot <= end; slot++) owners[slot] = Number(ownerPort)
    return owners
  }

  /** The port of the primary that owns `key`'s slot now. */
  async ownerOf(key: string): Promise<number> {
    const port = [...this.processes.values()].find((node) => node.running)?.port as number
    const slot = await this.slotOf(key)
    const owner = (await this.slotOwners(port))[slot]
    if (owner === undefined) throw new Error(`slot ${slot} has no owner`)
    return owner
  }

  async slotOf(key: string): Promise<number> {
    const port = [...this.processes.values()].find((node) => node.running)?.port as number
    return this.ask(port, async (node) => Number(await node.call('CLUSTER', 'KEYSLOT', key)))
  }

  /**
   * Names `${prefix}-${n}` such that the i-th lives on the i-th primary (as created), one per primary,
   * read from the live slot map.
   */
  async namesOnEachPrimary(prefix: string): Promise<string[]> {
    const names: Array<string | undefined> = this.primaryOrder.map(() => undefined)
    const owners = await this.slotOwners(this.primaryOrder[0] as number)
    const {keySlot} = await import('../../src/core/redis/key-slot.js')
    for (let n = 0; names.includes(undefined) && n < 10_000; n++) {
      const name = `${prefix}-${n}`
      const index = this.primaryOrder.indexOf(owners[keySlot(name)] ?? -1)
      if (index !== -1 && names[index] === undefined) names[index] = name
    }
    if (names.includes(undefined)) throw new Error(`no names found for every primary with prefix ${prefix}`)
    return names as string[]
  }

  /** Wait until every running node says cluster_state:ok and they all agree on every slot's owner. */
  async waitForHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    for (;;) {
      try {
        const running = [...this.processes.values()].filter((node) => node.running).map((node) => node.port)
        const states = await Promise.all(running.map(async (port) => this.ask(port, async (node) => String(await node.call('CLUSTER', 'INFO')))))
        const ok = states.every((state) => state.includes('cluster_state:ok'))
        const maps = await Promise.all(running.map(async (port) => (await this.slotOwners(port)).join(',')))
        // Every slot owned, the same owner on every node, and that owner running (right after a kill -9 the map still names the dead).
        const owners = (maps[0] ?? '').split(',')
        const agreed = maps.every((map) => map === maps[0]) && !owners.includes('') && owners.every((owner) => running.includes(Number(owner)))
        const replicas = ok && agreed ? (await this.refreshTopology()).filter((node) => node.role === 'replica' && this.isRunning(node.port)).length : 0
        const expected = this.replicaCount - [...this.processes.values()].filter((node) => !node.running).length
        if (ok && agreed && replicas >= expected) return
        last = !ok ? 'cluster_state is not ok on every node' : !agreed ? 'nodes disagree on slot owners' : `${replicas} replicas of ${expected} have joined`
      } catch (error) {
        last = error instanceof Error ? error.message : String(error)
      }
      if (Date.now() > deadline) throw new Error(`the cluster did not become healthy in ${timeoutMs} ms: ${last}`)
      await sleep(100)
    }
  }

  private isRunning(port: number): boolean {
    return this.processes.get(port)?.running === true
  }

  private idOf(port: number): string {
    const id = this.nodes.find((node) => node.port === port)?.id
    if (id === undefined) throw new Error(`no node on port ${port}`)
    return id
  }

  /**
   * Move one slot to another primary by hand, as `redis-cli --cluster reshard` does: IMPORTING on the
   * target, MIGRATING on the source, MIGRATE the keys in batches, then SETSLOT NODE everywhere.
   * `onMigrating` runs while the slot is half-moved (keys split between the two nodes).
   */
  async migrateSlot(slot: number, toPort: number, options: {batch?: number; onMigrating?: () => Promise<void>} = {}): Promise<void> {
    await this.refreshTopology()
    const fromPort = (await this.slotOwners(toPort))[slot]
    if (fromPort === undefined) throw new Error(`slot ${slot} has no owner`)
    if (fromPort === toPort) return
    const from = await this.nodeClient(fromPort)
    const to = await this.nodeClient(toPort)
    try {
      await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', this.idOf(fromPort))
      await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', this.idOf(toPort))
      let first = true
      for (;;) {
        const keys = (await from.call('CLUSTER', 'GETKEYSINSLOT', slot, options.batch ?? 100)) as string[]
        if (keys.length === 0) break
        await from.call('MIGRATE', '127.0.0.1', toPort, '', 0, 5000, 'KEYS', ...keys)
        if (first && options.onMigrating !== undefined) await options.onMigrating()
        first = false
      }
      for (const node of this.nodes.filter((candidate) => candidate.role === 'primary')) {
        await this.ask(node.port, async (client) => client.call('CLUSTER', 'SETSLOT', slot, 'NODE', this.idOf(toPort)))
      }
    } finally {
      from.disconnect()
      to.disconnect()
    }
    await this.waitForHealthy()
  }

  /** `redis-cli --cluster reshard`: move `slots` slots from one primary to another. */
  async reshard(fromPort: number, toPort: number, slots: number): Promise<void> {
    await this.refreshTopology()
    const result = spawnSync(
      clusterCli(),
      [...this.cliTls(), '--cluster', 'reshard', `127.0.0.1:${fromPort}`, '--cluster-from', this.idOf(fromPort), '--cluster-to', this.idOf(toPort), '--cluster-slots', String(slots), '--cluster-yes'],
      {encoding: 'utf8', timeout: 120_000},
    )
    if (result.status !== 0) throw new Error(`reshard failed (${String(result.status)}):\n${result.stdout}\n${result.stderr}`)
    await this.waitForHealthy()
  }

  /** The replica of the primary on `primaryPort`. */
  replicaOf(primaryPort: number): number {
    const primaryId = this.idOf(primaryPort)
    const replica = this.nodes.find((node) => node.primaryId === primaryId)
    if (replica === undefined) throw new Error(`the primary on ${primaryPort} has no replica`)
    return replica.port
  }

  /** CLUSTER FAILOVER on a replica; resolves when it is a primary and the cluster is healthy. */
  async failover(replicaPort: number, mode?: 'FORCE' | 'TAKEOVER'): Promise<void> {
    await this.ask(replicaPort, async (node) => (mode === undefined ? node.call('CLUSTER', 'FAILOVER') : node.call('CLUSTER', 'FAILOVER', mode)))
    const deadline = Date.now() + 30_000
    for (;;) {
      const role = await this.ask(replicaPort, async (node) => (await node.call('ROLE')) as [string])
      if (role[0] === 'master') break
      if (Date.now() > deadline) throw new Error(`replica ${replicaPort} did not become a primary`)
      await sleep(50)
    }
    await this.waitForHealthy()
  }

  /** Signal a node (SIGKILL to crash it, SIGSTOP/SIGCONT to freeze it). */
  async kill(port: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.processes.get(port)?.kill(signal)
  }

  /** Start a killed node again on its port and dir: it rejoins from its nodes.conf. */
  async restart(port: number): Promise<void> {
    const node = this.processes.get(port)
    if (node === undefined) throw new Error(`no node on port ${port}`)
    await node.kill('SIGKILL')
    await node.launch()
  }

  async stop(): Promise<void> {
    for (const admin of this.admins.splice(0)) admin.disconnect()
    await Promise.all([...this.processes.values()].map(async (node) => node.kill('SIGKILL')))
    await Promise.all(this.dirs.splice(0).map(async (dir) => rm(dir, {recursive: true, force: true})))
  }
}

/** A cluster for the enclosing describe block (or file): started before its tests, stopped after. */
export function useRedisCluster(options: ClusterOptions = {}): {cluster: RedisCluster} {
  const context = {} as {cluster: RedisCluster}
  beforeAll(async () => {
    context.cluster = await RedisCluster.start(options)
  }, 90_000)
  afterAll(async () => {
    await context.cluster?.stop()
  })
  return context
}
