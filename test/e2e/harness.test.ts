import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {RedisServer} from '../helpers/redis-server.js'

describe('test harness: private redis-server', () => {
  let server: RedisServer

  beforeAll(async () => {
    server = await RedisServer.start({args: ['--appendonly', 'yes', '--appendfsync', 'always']})
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('runs on its own loopback port, never the shared 6379', () => {
    expect(server.port).not.toBe(6379)
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`)
  })

  it('survives SIGKILL and restart with its data when persistence is on', async () => {
    const before = await server.client()
    await before.xadd('harness', '*', 'data', '{}')
    before.disconnect()
    const pid = server.pid
    await server.restart()
    expect(server.pid).not.toBe(pid)
    const after = await server.client()
    expect(await after.xlen('harness')).toBe(1)
    after.disconnect()
  })

  it('can be reconfigured (restarted with other arguments)', async () => {
    await server.reconfigure(['--appendonly', 'yes', '--requirepass', 'harness-secret'])
    const anonymous = await server.client()
    await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/)
    anonymous.disconnect()
    const admin = await server.client({password: 'harness-secret'})
    expect(await admin.ping()).toBe('PONG')
    admin.disconnect()
  })
})
