// A private, throwaway redis-server for benchmarks: loopback only, a free port, its own temp dir,
// no persistence. Never touches the machine's Redis (6379 or any other instance it did not start).
import {spawn} from 'node:child_process'
import {rmSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export const REDIS_SERVER_BIN = process.env.QCTL_BENCH_REDIS_SERVER ?? 'redis-server'

/** A loopback port that was free a moment ago (the OS picks it; a lost race is retried by start). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** `redis-server --version` as one line. */
export async function redisServerVersion() {
  return new Promise((resolve) => {
    const child = spawn(REDIS_SERVER_BIN, ['--version'], {stdio: ['ignore', 'pipe', 'ignore']})
    let out = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.on('error', () => resolve('redis-server: not found'))
    child.on('close', () => resolve(out.trim()))
  })
}

async function launch(port, dir, extraArgs, readyTimeoutMs) {
  const args = [
    '--bind', '127.0.0.1', '--port', String(port), '--protected-mode', 'yes',
    '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', '', '--daemonize', 'no',
    ...extraArgs,
  ]
  const child = spawn(REDIS_SERVER_BIN, args, {stdio: ['ignore', 'pipe', 'pipe']})
  let log = ''
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`redis-server not ready after ${readyTimeoutMs} ms:\n${log}`)), readyTimeoutMs)
    const onData = (chunk) => {
      log += chunk
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    }
    const fail = (error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(error)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk) => (log += chunk))
    child.once('error', fail)
    child.once('exit', (code, signal) => fail(new Error(`redis-server exited early (code ${code}, signal ${signal}):\n${log}`)))
  })
  child.removeAllListeners('exit')
  // Keep draining its output so a chatty server never blocks on a full pipe.
  child.stdout.resume()
  child.stderr.resume()
  return child
}

/**
 * Start a private redis-server. Returns {port, url, pid, dir, stop()}; stop() is idempotent and
 * also removes the temp dir. `stopSync()` is for exit/signal handlers.
 */
export async function startRedisServer({args = [], readyTimeoutMs = 10_000} = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'qctl-bench-redis-'))
  let lastError
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    try {
      const child = await launch(port, dir, args, readyTimeoutMs)
      let stopped = false
      const exited = new Promise((resolve) => child.once('exit', resolve))
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        pid: child.pid,
        dir,
        async stop() {
          if (stopped) return
          stopped = true
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM')
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
            await exited
            clearTimeout(timer)
          }
          await rm(dir, {recursive: true, force: true})
        },
        /** For process 'exit' handlers: no awaiting, just make sure it dies. */
        stopSync() {
          if (stopped) return
          stopped = true
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
          rmSync(dir, {recursive: true, force: true})
        },
      }
    } catch (error) {
      lastError = error
    }
  }
  await rm(dir, {recursive: true, force: true})
  throw lastError
}
