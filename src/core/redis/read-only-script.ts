import {createHash} from 'node:crypto'

import type {Redis} from 'ioredis'

import {scriptSource} from '../scripts.js'
import {asErrorLike, isPermissionDenied} from './reply-errors.js'

/** One call of a read-only script: its keys and its other arguments. */
export interface ScriptCall {
  keys: readonly string[]
  args: ReadonlyArray<string | number>
}

type Reply = [Error | null, unknown]

const isNoScript = (error: Error | null): boolean => error !== null && String(asErrorLike(error).message).startsWith('NOSCRIPT')

/**
 * Whether a script's failure means this server or user cannot run read-only scripts at all (a
 * user without EVAL_RO, or a command inside the script it may not run; a server or proxy without
 * EVAL_RO): the caller reads with plain commands instead.
 */
export function scriptsUnavailable(error: unknown): boolean {
  return isPermissionDenied(error) || /^ERR unknown command/i.test(String(asErrorLike(error).message))
}

/** Each script's SHA1, worked out once (a refresh of `top` runs the script again). */
const shas = new Map<string, string>()

/** Connections that have sent a script's text with EVAL_RO: the server has it cached. */
const loaded = new WeakMap<Redis, Set<string>>()

/**
 * Run calls of a read-only Lua script (a file in src/lua, starting `#!lua flags=no-writes`) in ONE
 * pipeline: EVALSHA_RO, the first call on a connection EVAL_RO with the text (which caches it on
 * the server for the EVALSHA_RO calls after it in the same pipeline). Calls answered NOSCRIPT (the
 * server restarted or its scripts were flushed) are sent once more the same way. Replies come in
 * call order, errors as values.
 */
export async function runReadOnlyScript(redis: Redis, file: string, calls: readonly ScriptCall[]): Promise<Reply[]> {
  const source = scriptSource(file)
  let sha = shas.get(file)
  if (sha === undefined) {
    sha = createHash('sha1').update(source).digest('hex')
    shas.set(file, sha)
  }
  const send = async (batch: readonly ScriptCall[]): Promise<Reply[]> => {
    const sent = loaded.get(redis) ?? new Set<string>()
    loaded.set(redis, sent)
    const pipeline = redis.pipeline()
    for (const {keys, args} of batch) {
      const first = !sent.has(sha)
      sent.add(sha)
      pipeline.call(first ? 'EVAL_RO' : 'EVALSHA_RO', first ? source : sha, keys.length, ...keys, ...args)
    }
    return ((await pipeline.exec()) ?? []) as Reply[]
  }
  const replies = await send(calls)
  const unknown = replies.flatMap((reply, index) => (isNoScript(reply[0]) ? [index] : []))
  if (unknown.length === 0) return replies
  loaded.get(redis)?.delete(sha)
  const again = await send(unknown.map((index) => calls[index] as ScriptCall))
  unknown.forEach((index, n) => {
    replies[index] = again[n] ?? [new Error('missing reply'), null]
  })
  return replies
}
