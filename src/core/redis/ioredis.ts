import {createRequire} from 'node:module'

import type * as IORedis from 'ioredis'

/**
 * ioredis, loaded with require() rather than import. ioredis is a CommonJS package, and on Node 20 an
 * ES module importing it pays for Node's translation of it (its exports lexed, its modules wrapped for
 * the ES loader): about 40 ms more CPU and 15 ms more on the main thread than require() in a one-shot
 * command's start-up, a sixth of a one-message `qctl publish` (measured on 2026-12-04, bench `startup`).
 * require() and import share Node's CommonJS cache, so code that imports ioredis still gets these classes.
 */
const ioredis = createRequire(import.meta.url)('ioredis') as typeof IORedis

export const Redis = ioredis.Redis
export type Redis = IORedis.Redis
export const Cluster = ioredis.Cluster
export type Cluster = IORedis.Cluster
export const Command = ioredis.Command
export type Command = IORedis.Command
