import {isCluster, type RedisClient} from './client.js'
import {scanEachPrimary} from './cluster-nodes.js'

/**
 * Every key SCAN finds with these arguments (`MATCH … COUNT … TYPE …`): one cursor on a single
 * server, one per primary on a cluster (in parallel, restarted over a fresh slot map when a node
 * leaves: scanEachPrimary).
 */
export async function scanKeys(redis: RedisClient, scanArgs: ReadonlyArray<string | number>): Promise<Set<string>> {
  const keys = new Set<string>()
  if (isCluster(redis)) {
    for (const found of (await scanEachPrimary(redis, scanArgs)).values()) for (const key of found) keys.add(key)
    return keys
  }
  let cursor = '0'
  do {
    const [next, batch] = (await redis.call('SCAN', cursor, ...scanArgs)) as [string, string[]]
    cursor = next
    for (const key of batch) keys.add(key)
  } while (cursor !== '0')
  return keys
}

/** `text` as a glob that matches exactly it (SCAN MATCH): `*`, `?`, `[`, `]` and `\` escaped. */
export const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, (char) => `\\${char}`)
