import type {Redis} from 'ioredis'
import {afterAll, beforeAll} from 'vitest'

import {RedisServer, type RedisServerOptions} from './redis-server.js'

/** A private Redis for the enclosing describe block (or file), and an admin connection to it. */
export interface PrivateRedis {
  server: RedisServer
  /** Reassign after restarting the server. */
  redis: Redis
}

/** Start a private redis-server before the tests of the enclosing block, stop it after them. */
export function usePrivateRedis(options: RedisServerOptions = {}): PrivateRedis {
  const context = {} as PrivateRedis
  beforeAll(async () => {
    context.server = await RedisServer.start(options)
    context.redis = await context.server.client()
  })
  afterAll(async () => {
    context.redis?.disconnect()
    await context.server?.stop()
  })
  return context
}
