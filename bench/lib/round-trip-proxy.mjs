// A loopback TCP proxy between one program and Redis that counts round trips: a round trip is a
// turn of the conversation, i.e. a burst of client→server bytes that starts after the server has
// replied since the client's last send (the first send of a connection counts too). A pipeline of
// 500 commands written at once is one round trip; 500 awaited commands are 500. It also counts the
// commands the client sends (RESP arrays, as every Redis client sends them) and the bytes each way.
// Counters are cumulative; take `stats()` before and after a window and subtract.
import {createServer, connect} from 'node:net'

/**
 * Counts the commands in a client→server RESP byte stream (arrays of bulk strings, the form every
 * client library uses), across chunk boundaries. Inline commands (plain text lines) count as one
 * each.
 */
class CommandCounter {
  commands = 0
  #buffer = Buffer.alloc(0)
  /** Bulk strings still to read in the current array, and bytes still to skip in the current bulk. */
  #bulksLeft = 0
  #skip = 0

  push(chunk) {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    let at = 0
    const buffer = this.#buffer
    while (at < buffer.length) {
      if (this.#skip > 0) {
        const step = Math.min(this.#skip, buffer.length - at)
        this.#skip -= step
        at += step
        continue
      }
      const end = buffer.indexOf('\r\n', at)
      if (end === -1) break
      const line = buffer.toString('latin1', at, end)
      at = end + 2
      if (this.#bulksLeft > 0) {
        // `$<len>`: the bulk's bytes and its CRLF follow.
        this.#bulksLeft--
        const length = Number(line.slice(1))
        if (length > 0) this.#skip = length + 2
        else if (length === 0) this.#skip = 2
        if (this.#bulksLeft === 0) this.commands++
      } else if (line.startsWith('*')) {
        this.#bulksLeft = Number(line.slice(1))
        if (!(this.#bulksLeft > 0)) this.#bulksLeft = 0
      } else if (line.length > 0) {
        this.commands++
      }
    }
    this.#buffer = buffer.subarray(at)
  }
}

/**
 * Start a proxy on a free loopback port forwarding to `target` ({host, port}). Returns
 * {port, url, stats(), onRoundTrip(listener), close()}; `stats()` is
 * {connections, roundTrips, commands, bytesUp, bytesDown} summed over every connection so far;
 * a listener gets the time (ms, performance.now()) of each new round trip.
 */
export async function startRoundTripProxy(target) {
  const totals = {connections: 0, roundTrips: 0, commands: 0, bytesUp: 0, bytesDown: 0}
  const counters = new Set()
  const listeners = new Set()
  const sockets = new Set()

  const server = createServer({noDelay: true}, (client) => {
    totals.connections++
    const upstream = connect({host: target.host, port: target.port, noDelay: true})
    const counter = new CommandCounter()
    counters.add(counter)
    sockets.add(client).add(upstream)
    /** Who sent last on this connection: a client send after a server reply starts a round trip. */
    let lastSender
    client.on('data', (chunk) => {
      if (lastSender !== 'client') {
        totals.roundTrips++
        const at = performance.now()
        for (const listener of listeners) listener(at)
      }
      lastSender = 'client'
      totals.bytesUp += chunk.length
      counter.push(chunk)
      if (!upstream.write(chunk)) client.pause()
    })
    upstream.on('drain', () => client.resume())
    upstream.on('data', (chunk) => {
      lastSender = 'server'
      totals.bytesDown += chunk.length
      if (!client.write(chunk)) upstream.pause()
    })
    client.on('drain', () => upstream.resume())
    const closeBoth = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
      totals.commands += counter.commands
      counter.commands = 0
      counters.delete(counter)
    }
    client.on('close', closeBoth).on('error', closeBoth)
    upstream.on('close', closeBoth).on('error', closeBoth)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const {port} = server.address()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stats() {
      let commands = totals.commands
      for (const counter of counters) commands += counter.commands
      return {...totals, commands}
    },
    onRoundTrip(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
