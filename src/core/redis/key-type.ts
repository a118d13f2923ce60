import type {RedisClient} from './client.js'
import {pipelineByKey} from './keyed-pipeline.js'

import {usageError, type QctlError} from '../errors.js'

/**
 * What a key holds (TYPE), to name it when a command finds the wrong kind of value. Best effort:
 * a user whose ACL has no TYPE (the least-privilege roles do not), or a connection that is gone,
 * gives undefined and the message names the key alone.
 */
export async function keyTypes(redis: RedisClient, keys: readonly string[]): Promise<Map<string, string | undefined>> {
  const types = new Map<string, string | undefined>()
  if (keys.length === 0) return types
  try {
    const replies = await pipelineByKey(redis, keys, (key) => key, (pipeline, key) => pipeline.type(key))
    keys.forEach((key, index) => {
      const [error, type] = replies[index] ?? [new Error('no reply'), undefined]
      types.set(key, error === null && typeof type === 'string' ? type : undefined)
    })
  } catch {
    for (const key of keys) types.set(key, undefined)
  }
  return types
}

export async function keyTypeOf(redis: RedisClient, key: string): Promise<string | undefined> {
  return (await keyTypes(redis, [key])).get(key)
}

const NOUNS: Readonly<Record<string, string>> = {string: 'a string', list: 'a list', set: 'a set', zset: 'a sorted set', hash: 'a hash', stream: 'a stream'}

/** A TYPE reply for people: `a string`, `a sorted set`, `a ReJSON-RL` (module types by name). */
export const typeNoun = (type: string): string => NOUNS[type] ?? `a ${type}`

/** `"k" is a string, not a stream` (or `"k" is not a stream` when the type is unknown or just changed). */
export function notAStreamText(key: string, type: string | undefined): string {
  return type === undefined || type === 'stream' || type === 'none' ? `"${key}" is not a stream` : `"${key}" is ${typeNoun(type)}, not a stream`
}

/** A topic (a key named as one) that is not a stream: a usage error (exit 2) naming the key and its type. */
export function topicNotAStream(topic: string, type: string | undefined, cause?: unknown): QctlError {
  return usageError(`topic ${notAStreamText(topic, type)}`, {cause, details: {key: topic, type: type ?? null}})
}

/** The same, reading the key's type first. */
export async function topicNotAStreamIn(redis: RedisClient, topic: string, cause?: unknown): Promise<QctlError> {
  return topicNotAStream(topic, await keyTypeOf(redis, topic), cause)
}
