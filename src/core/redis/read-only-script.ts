import {createHash} from 'node:crypto'

import type {Pipeline} from 'ioredis'

import {scriptSource} from '../scripts.js'
import {Command, type Redis} from './ioredis.js'
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

/** Per connection and script: whether the server has it cached, and how many times its text was sent. */
interface Cached {
  cached: boolean
  textSends: number
}
const loaded = new WeakMap<Redis, Map<string, Cached>>()

/**
 * Send calls of a read-only Lua script (a file in src/lua, starting `#!lua flags=no-writes`) in ONE
 * pipeline (one write, one round trip): EVALSHA_RO, the first call on a connection EVAL_RO with the
 * text (which caches it on the server for the EVALSHA_RO calls behind it). Returns a promise per
 * call, which settles as that call's reply arrives (errors as values), so a caller can decode each
 * reply while Redis still runs the calls after it: over 10,000 topics that takes the decoding off
 * the wait.
 *
 * A call answered NOSCRIPT (the server restarted or its scripts were flushed) is sent once more: the
 * first such resend carries the text again, the ones behind it on the connection find it cached.
 */
export function sendReadOnlyScript(redis: Redis, file: string, calls: readonly ScriptCall[]): Array<Promise<Reply>> {
  const source = scriptSource(file)
  let sha = shas.get(file)
  if (sha === undefined) {
    sha = createHash('sha1').update(source).digest('hex')
    shas.set(file, sha)
  }
  const scriptSha = sha
  const scripts = loaded.get(redis) ?? new Map<string, Cached>()
  loaded.set(redis, scripts)
  const state = scripts.get(scriptSha) ?? {cached: false, textSends: 0}
  scripts.set(scriptSha, state)
  /** One call's command, and how many text sends had gone when it went (all of them ahead of it on the connection). */
  const commandFor = ({keys, args}: ScriptCall): {command: Command; sentAfter: number} => {
    if (!state.cached) {
      state.cached = true
      state.textSends++
      return {command: new Command('EVAL_RO', [source, keys.length, ...keys, ...args], TEXT_REPLIES), sentAfter: state.textSends}
    }
    return {command: new Command('EVALSHA_RO', [scriptSha, keys.length, ...keys, ...args], TEXT_REPLIES), sentAfter: state.textSends}
  }
  // A pipeline takes Command objects as they are (ioredis's typings show it only as chainable).
  const pipeline = redis.pipeline() as unknown as Pipeline
  const sent = calls.map((call) => {
    const {command, sentAfter} = commandFor(call)
    pipeline.sendCommand(command)
    return {call, command, sentAfter}
  })
  // Each command's own promise carries its reply or error; the pipeline's is not needed.
  pipeline.exec().catch(() => undefined)
  return sent.map(async ({call, command, sentAfter}) => {
    const reply = await settle(command.promise)
    if (!isNoScript(reply[0])) return reply
    // Lost since the last text went (no resend with the text is already ahead of this one): send it again.
    if (state.textSends === sentAfter) state.cached = false
    const again = commandFor(call).command
    redis.sendCommand(again)
    return settle(again.promise)
  })
}

/** Replies decoded as UTF-8 text, as ioredis's own command methods do (a bare Command returns Buffers). */
const TEXT_REPLIES = {replyEncoding: 'utf8'} as const

const settle = async (promise: Promise<unknown>): Promise<Reply> =>
  promise.then(
    (value): Reply => [null, value],
    (error: unknown): Reply => [error instanceof Error ? error : new Error(String(error)), null],
  )
