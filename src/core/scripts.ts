import {readFileSync} from 'node:fs'

import type {RedisClient} from './redis/client.js'

/**
 * Lua scripts live as documented files in src/lua (copied to dist/lua by the build), named
 * `name-<numberOfKeys>.lua`. They are registered on a client with ioredis's defineCommand,
 * which sends EVALSHA and falls back to EVAL when the server does not have the script yet.
 * A line `--- @include "name.lua"` is replaced by src/lua/includes/name.lua (a helper that more
 * than one script needs, e.g. spread.lua), so the server receives one self-contained script.
 */
export interface ScriptSpec {
  /** Command name on the client. */
  name: string
  file: string
  /** How many of the arguments are keys; `'n'`: it varies, and the call gives the count first (`name-n.lua`). */
  keys: number | 'n'
}

const sources = new Map<string, string>()

const INCLUDE = /^--- @include "([\w.-]+\.lua)"$/gm

/** A script's text with its includes in place. */
export function scriptSource(file: string): string {
  let source = sources.get(file)
  if (source === undefined) {
    const read = (path: string): string => readFileSync(new URL(`../lua/${path}`, import.meta.url), 'utf8')
    source = read(file).replace(INCLUDE, (_line, name: string) => read(`includes/${name}`).trimEnd())
    sources.set(file, source)
  }
  return source
}

/** Define the script on the client once; later calls are no-ops. */
export function defineScript(client: RedisClient, spec: ScriptSpec): void {
  if (typeof (client as unknown as Record<string, unknown>)[spec.name] === 'function') return
  client.defineCommand(spec.name, {...(spec.keys === 'n' ? {} : {numberOfKeys: spec.keys}), lua: scriptSource(spec.file)})
}

/** Call a script defined with `defineScript`. */
export async function callScript(client: RedisClient, spec: ScriptSpec, args: Array<string | Buffer | number>): Promise<unknown> {
  defineScript(client, spec)
  const command = (client as unknown as Record<string, (...args: Array<string | Buffer | number>) => Promise<unknown>>)[spec.name]
  if (command === undefined) throw new Error(`script ${spec.name} is not defined`)
  return command.apply(client, args)
}

export const XADD_BATCH: ScriptSpec = {name: 'qctlXaddBatch', file: 'xadd-batch-1.lua', keys: 1}
export const XADD_DEDUPE: ScriptSpec = {name: 'qctlXaddDedupe', file: 'xadd-dedupe-2.lua', keys: 2}
export const SCHEDULE_ADD: ScriptSpec = {name: 'qctlScheduleAdd', file: 'schedule-add-1.lua', keys: 1}
export const SCHEDULE_ADD_DEDUPE: ScriptSpec = {name: 'qctlScheduleAddDedupe', file: 'schedule-add-dedupe-2.lua', keys: 2}
export const SCHEDULE_MOVE: ScriptSpec = {name: 'qctlScheduleMove', file: 'schedule-move-2.lua', keys: 2}

/** Remove a consumer only if it holds nothing and is idle long enough: the worker's pruning and `qctl doctor --fix`. */
export const DELETE_CONSUMER_IF_IDLE: ScriptSpec = {name: 'qctlDeleteConsumerIfIdle', file: 'delete-consumer-if-idle-1.lua', keys: 1}

export const XADD_ENTRIES: ScriptSpec = {name: 'qctlXaddEntries', file: 'xadd-entries-1.lua', keys: 1}
