import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Cluster, Redis} from 'ioredis'
import {expect} from 'vitest'

import {retryDueKey, retryKey} from '../../../src/core/keys.js'
import {runCli, type CliResult} from '../../helpers/cli.js'
import {chaosMessages, checkLedger, type LedgerReport} from './ledger.js'

/** A fresh directory for one scenario's ledger and files. */
export const scratchDir = (name: string): string => mkdtempSync(join(tmpdir(), `qctl-chaos-${name}-`))

let topics = 0
/** A topic name no other scenario in this process uses. */
export const uniqueTopic = (name: string): string => `chaos.${name}.${process.pid}.${++topics}`

/** What most scenarios start from: a fresh topic and group named after it, a ledger file, and its messages. */
export interface Scenario {
  started: number
  topic: string
  group: string
  ledger: string
  count: number
  ndjson: string
  mids: string[]
}

export function newScenario(name: string, count: number, messages: Parameters<typeof chaosMessages>[1] = {}): Scenario {
  return {started: Date.now(), topic: uniqueTopic(name), group: name, ledger: join(scratchDir(name), 'ledger.jsonl'), count, ...chaosMessages(count, messages)}
}

/** Publish NDJSON with `qctl publish` (the whole CLI); fails the test unless it exits 0. */
export async function publishAll(redisUrl: string, topic: string, ndjson: string, args: string[] = []): Promise<CliResult> {
  const result = await runCli(['publish', topic, '--ndjson', '--json', '-u', redisUrl, ...args], {input: ndjson, timeoutMs: 120_000})
  expect(result.code, result.stderr).toBe(0)
  return result
}

/** Wait until every mid was handled or dead-lettered and nothing is pending; returns the report. */
export async function settle(options: {redis: Redis | Cluster; topic: string; group: string; mids: readonly string[]; ledger: string; timeoutMs: number}): Promise<LedgerReport> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const report = await checkLedger(options)
    if (report.lost.length === 0 && report.pending === 0) return report
    if (Date.now() > deadline) {
      // Who holds what is still pending, and what the group's retry state says of it: the first thing to look at.
      const held = (await options.redis.xpending(options.topic, options.group, '-', '+', 5).catch(() => [])) as Array<[string, string, number, number]>
      const states = await Promise.all(
        held.map(async ([id, owner]) => `${id} held by ${owner} (record ${String(await options.redis.hget(retryKey(options.topic, options.group), id))}, due ${String(await options.redis.zscore(retryDueKey(options.topic, options.group), id))})`),
      )
      throw new Error(
        `not settled within ${options.timeoutMs} ms: lost ${report.lost.length} (first ${report.lost.slice(0, 5).join(', ')}), pending ${report.pending}, handled ${report.handled}/${report.published}; ${states.join('; ')}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** The one `summary` event a `qctl work --json` process printed (undefined if it printed none). */
export function workSummary(result: CliResult): Record<string, unknown> | undefined {
  for (const line of result.stdout.split('\n').reverse()) {
    if (!line.startsWith('{')) continue
    const event = JSON.parse(line) as Record<string, unknown>
    if (event['event'] === 'summary') return event
  }
  return undefined
}

/** The error a `--json` command printed (on stdout, as `{"error": {code, message, exitCode}}`), if any. */
export function jsonError(result: CliResult): {code: string; message: string; exitCode: number} | undefined {
  for (const line of result.stdout.split('\n').reverse()) {
    if (!line.startsWith('{')) continue
    const parsed = JSON.parse(line) as {error?: {code: string; message: string; exitCode: number}}
    if (parsed.error !== undefined) return parsed.error
  }
  return undefined
}

/** The `--json` error of any command: a whole pretty-printed document, or (for `work`) one JSON line. */
export function jsonErrorOf(result: CliResult): {code: string; message: string; exitCode: number} | undefined {
  try {
    return (JSON.parse(result.stdout) as {error?: {code: string; message: string; exitCode: number}}).error
  } catch {
    return jsonError(result)
  }
}
