// A private, throwaway Redis Cluster for benchmarks: N primaries, no replicas, no persistence, each
// node a `redis-server --cluster-enabled yes` child of this process on loopback, with its own temp
// dir and a free port P below 55536 whose cluster bus port P + 10000 is free too. Never touches a
// Redis or a cluster it did not start (6379, or the nodes of anyone else's local cluster).
//
// The cluster is formed the way `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`
// forms it (slots split evenly in ranges, one config epoch per node, CLUSTER MEET), but with
// commands sent here, because redis-cli refuses fewer than 3 primaries ("Redis Cluster requires at
// least 3 master nodes") and a cluster of 1 or 2 primaries is what the scaling runs need. Ready when
// every node reports cluster_state:ok, knows all N nodes and sees all 16384 slots assigned. Every
// node announces 127.0.0.1 (--cluster-announce-ip): without it a lone primary reports its address as
// "" in CLUSTER SLOTS, which ioredis ignores, and qctl then finds no node at all (publish fails,
// work keeps reconnecting).
//
// Nodes are killed and their dirs removed by stop(), on a failed start, and synchronously at the
// process's exit (so also on Ctrl-C through bench/run.mjs, whose signal handlers exit the process;
// a process without SIGINT/SIGTERM handlers gets ones that stop the nodes and re-raise the signal).
import {spawn} from 'node:child_process'
import {rmSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {Redis} from 'ioredis'

import {keySlot, SLOT_COUNT} from '../../dist/core/redis/key-slot.js'
import {REDIS_SERVER_BIN, freePort} from './redis-server.mjs'

/** The cluster bus listens on the client port + 10000, so client ports must stay below 65536 - 10000. */
const BUS_OFFSET = 10_000
const MAX_PORT = 65_536 - BUS_OFFSET

/** Clusters not stopped yet, for the exit handler. */
const live = new Set()
let exitHandlerInstalled = false
const stopAllSync = () => {
  for (const cluster of live) cluster.stopSync()
}
/**
 * Exit handler, and for a process that has no handler of its own for SIGINT or SIGTERM (Node then
 * dies without running exit handlers), one that stops the nodes and re-raises the signal.
 * bench/run.mjs has its own (they exit the process, which runs the exit handler).
 */
function installCleanup() {
  if (exitHandlerInstalled) return
  exitHandlerInstalled = true
  process.on('exit', stopAllSync)
  for (const signal of ['SIGINT', 'SIGTERM']) {
    if (process.listenerCount(signal) > 0) continue
    process.once(signal, () => {
      stopAllSync()
      process.kill(process.pid, signal)
    })
  }
}

/** Whether `port` can be bound on loopback right now. */
async function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A loopback port below 55536, not in `taken`, free together with its bus port (a lost race is retried by the caller). */
async function freeClusterPort(taken) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = await freePort()
    if (port >= MAX_PORT || taken.has(port) || taken.has(port + BUS_OFFSET) || taken.has(port - BUS_OFFSET)) continue
    if (await portFree(port + BUS_OFFSET)) return port
  }
  throw new Error(`redis-cluster: found no free loopback port below ${MAX_PORT} with a free bus port`)
}

/** Start one cluster-enabled node; resolves the child once it accepts connections, rejects if it exits first. */
async function launchNode(port, dir, readyTimeoutMs) {
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes',
    '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000',
    // A node that never met another does not know its own address: its CLUSTER SLOTS names it "",
    // and ioredis (qctl's client) skips such an entry, leaving a one-primary cluster with no node.
    '--cluster-announce-ip', '127.0.0.1',
    '--appendonly', 'no', '--save', '', '--dir', dir, '--daemonize', 'no', '--logfile', '',
  ]
  const child = spawn(REDIS_SERVER_BIN, args, {stdio: ['ignore', 'pipe', 'pipe']})
  let log = ''
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server (cluster node, port ${port}) not ready after ${readyTimeoutMs} ms:\n${log}`)), readyTimeoutMs)
      child.stdout.on('data', (chunk) => {
        log += chunk
        if (log.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.stderr.on('data', (chunk) => (log += chunk))
      child.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`redis-server (cluster node, port ${port}) exited early (code ${code}, signal ${signal}):\n${log}`))
      })
    })
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    throw error
  }
  child.removeAllListeners('exit')
  // Keep draining its output so a chatty node never blocks on a full pipe.
  child.stdout.resume()
  child.stderr.resume()
  return child
}

/** CLUSTER INFO of one node as {field: value}. */
async function clusterInfo(client) {
  const text = await client.cluster('INFO')
  return Object.fromEntries(text.split('\r\n').filter((line) => line.includes(':')).map((line) => line.split(':')))
}

/**
 * Start a cluster of `primaries` nodes (no replicas). Resolves {nodes, ports, pids, urls, url,
 * admins, slotOwner(slot), ownerOf(key), topicsByPrimary(prefix), stop(), stopSync()}:
 * `nodes[i]` is {port, pid, url, dir, slots: [first, last]} in slot order, `admins[i]` a plain
 * ioredis client connected to node i (for setup, checks, INFO and cleanup of the keys it owns),
 * `url` the first node's (a seed). stop() is idempotent; stopSync() is for exit handlers.
 */
export async function startRedisCluster({primaries, readyTimeoutMs = 10_000, stateTimeoutMs = 30_000} = {}) {
  if (!Number.isInteger(primaries) || primaries < 1 || primaries > 100) throw new Error(`redis-cluster: primaries must be 1..100, got ${primaries}`)
  installCleanup()
  const nodes = []
  const admins = []
  let stopped = false
  const cluster = {
    nodes,
    admins,
    stopSync() {
      if (stopped) return
      stopped = true
      live.delete(cluster)
      for (const admin of admins) admin.disconnect()
      for (const node of nodes) {
        if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL')
        rmSync(node.dir, {recursive: true, force: true})
      }
    },
    async stop() {
      if (stopped) return
      stopped = true
      live.delete(cluster)
      for (const admin of admins) admin.disconnect()
      await Promise.all(
        nodes.map(async (node) => {
          const {child} = node
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((resolve) => child.once('exit', resolve))
            child.kill('SIGTERM')
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
            await exited
            clearTimeout(timer)
          }
          await rm(node.dir, {recursive: true, force: true})
        }),
      )
    },
  }
  live.add(cluster)

  try {
    // The nodes: a fresh port (and a fresh dir) when one loses the race for its port.
    const taken = new Set()
    for (let index = 0; index < primaries; index++) {
      let lastError
      for (let attempt = 0; attempt < 5; attempt++) {
        const port = await freeClusterPort(taken)
        const dir = await mkdtemp(join(tmpdir(), `qctl-bench-cluster-${port}-`))
        try {
          const child = await launchNode(port, dir, readyTimeoutMs)
          taken.add(port)
          nodes.push({port, pid: child.pid, url: `redis://127.0.0.1:${port}`, dir, child, slots: undefined})
          lastError = undefined
          break
        } catch (error) {
          lastError = error
          await rm(dir, {recursive: true, force: true})
        }
      }
      if (lastError !== undefined) throw lastError
    }
    for (const node of nodes) {
      const admin = new Redis({host: '127.0.0.1', port: node.port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false})
      admins.push(admin)
      await admin.connect()
    }

    // As `redis-cli --cluster create`: even slot ranges, distinct config epochs, then every node meets the first.
    for (const [index, node] of nodes.entries()) {
      const first = Math.floor((index * SLOT_COUNT) / primaries)
      const last = Math.floor(((index + 1) * SLOT_COUNT) / primaries) - 1
      node.slots = [first, last]
      await admins[index].cluster('ADDSLOTSRANGE', first, last)
      await admins[index].cluster('SET-CONFIG-EPOCH', index + 1)
    }
    for (const node of nodes.slice(1)) await admins[0].cluster('MEET', '127.0.0.1', node.port)

    const deadline = Date.now() + stateTimeoutMs
    for (;;) {
      const infos = await Promise.all(admins.map(clusterInfo))
      const ready = infos.every((info) => info.cluster_state === 'ok' && Number(info.cluster_known_nodes) === primaries && Number(info.cluster_slots_assigned) === SLOT_COUNT)
      if (ready) break
      if (Date.now() > deadline) {
        throw new Error(`redis-cluster: not ok after ${stateTimeoutMs} ms: ${infos.map((info, i) => `${nodes[i].port}: state ${info.cluster_state}, ${info.cluster_known_nodes} nodes known, ${info.cluster_slots_assigned} slots assigned`).join('; ')}`)
      }
      await sleep(100)
    }
  } catch (error) {
    await cluster.stop()
    throw error
  }

  /** The index (into nodes) of the primary serving `slot`. */
  const slotOwner = (slot) => nodes.findIndex((node) => slot >= node.slots[0] && slot <= node.slots[1])
  Object.assign(cluster, {
    ports: nodes.map((node) => node.port),
    pids: nodes.map((node) => node.pid),
    urls: nodes.map((node) => node.url),
    url: nodes[0].url,
    slotOwner,
    /** The index of the primary owning `key` (qctl's derived keys `{key}:...` are on the same one). */
    ownerOf: (key) => slotOwner(keySlot(key)),
    /**
     * One topic name per primary, `${prefix}${n}` with the smallest n whose slot that primary
     * serves (`[i]` is owned by nodes[i]); each checked with CLUSTER KEYSLOT on its own node.
     */
    async topicsByPrimary(prefix) {
      const topics = []
      for (const [index] of nodes.entries()) {
        let n = 0
        while (slotOwner(keySlot(`${prefix}${n}`)) !== index || topics.includes(`${prefix}${n}`)) n++
        const topic = `${prefix}${n}`
        const serverSlot = await admins[index].cluster('KEYSLOT', topic)
        if (serverSlot !== keySlot(topic) || slotOwner(serverSlot) !== index) throw new Error(`redis-cluster: ${topic} hashes to slot ${serverSlot} by the server, ${keySlot(topic)} here`)
        topics.push(topic)
      }
      return topics
    },
  })
  return cluster
}
