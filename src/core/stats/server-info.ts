import type {RedisClient} from '../redis/client.js'
import {infoObject, stringOf} from './xinfo.js'

/**
 * The server's product and version ("redis 7.0.15", "valkey 8.0.1"), from HELLO without a
 * protocol version: a @fast @connection command, so it works for least-privilege users that may
 * not run INFO. Null when the server will not say.
 */
export async function serverVersion(redis: RedisClient): Promise<string | null> {
  try {
    const hello = infoObject(await redis.call('HELLO'))
    const version = stringOf(hello.version)
    if (version === null) return null
    return `${stringOf(hello.server) ?? 'redis'} ${version}`
  } catch {
    return null
  }
}
