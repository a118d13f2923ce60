import {spawn, spawnSync} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {QctlError} from '../errors.js'

/** A private, non-persistent redis-server for `qctl demo` when no Redis answers. */
export interface ThrowawayServer {
  url: string
  stop(): Promise<void>
}

export const redisServerAvailable = (): boolean => spawnSync('redis-server', ['--version'], {stdio: 'ignore'}).status === 0

/** A free loopback port right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no free port'))))
    })
  })
}

/** Start redis-server on a free loopback port with its own temp dir; resolves once it accepts connections. */
export async function startThrowawayServer(): Promise<ThrowawayServer> {
  const dir = await mkdtemp(join(tmpdir(), 'qctl-demo-redis-'))
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', ''], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new QctlError('REDIS_UNAVAILABLE', 'the throwaway redis-server did not start within 10s')), 10_000)
    const onData = (chunk: Buffer): void => {
      log += chunk.toString()
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new QctlError('REDIS_UNAVAILABLE', `the throwaway redis-server exited with code ${code}: ${log.split('\n').at(-2) ?? ''}`))
    })
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      await rm(dir, {recursive: true, force: true})
    },
  }
}
