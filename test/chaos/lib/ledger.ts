import type {Cluster, Redis} from 'ioredis'

import {deadLetterKey} from '../../../src/core/keys.js'
import {readJsonLines} from '../../helpers/json-lines.js'

/**
 * The chaos suite's oracle. Every message carries a unique `mid`; the handler (handlers/ledger.mjs)
 * records each successful call; the checker compares what was published with what was handled and
 * what sits in the dead-letter stream. lost must be 0; duplicates are at-least-once at work and
 * are reported, not failed.
 */

/** ~200-byte JSON messages with mids `${prefix}-0 …`, as NDJSON (one per line, trailing newline). */
export function chaosMessages(count: number, options: {prefix?: string; poisonEvery?: number} = {}): {ndjson: string; mids: string[]} {
  const prefix = options.prefix ?? 'm'
  const mids: string[] = []
  const lines: string[] = []
  for (let i = 0; i < count; i++) {
    const mid = `${prefix}-${i}`
    mids.push(mid)
    const poison = options.poisonEvery !== undefined && i % options.poisonEvery === 0
    lines.push(JSON.stringify({mid, ...(poison ? {poison: true} : {}), order: {id: 100_000 + i, sku: `SKU-${i % 97}`, qty: (i % 5) + 1}, note: 'x'.repeat(120)}))
  }
  return {ndjson: `${lines.join('\n')}\n`, mids}
}

export interface LedgerLine {
  mid: string
  id: string
  pid: number
  attempt: number
}

/** The ledger lines written so far (a line cut by a SIGKILL mid-write is skipped). */
export const readLedger = (file: string): LedgerLine[] => readJsonLines<LedgerLine>(file)

export interface LedgerReport {
  published: number
  /** Distinct mids handled successfully at least once. */
  handled: number
  /** Extra successful calls beyond the first, over all mids. */
  duplicated: number
  /** Distinct mids in the dead-letter stream. */
  deadLettered: number
  /** Dead-letter entries beyond one per mid. */
  deadLetterDuplicates: number
  /** Published, never handled, not dead-lettered: must be empty. */
  lost: string[]
  /** Handled or dead-lettered, but never published: must be empty. */
  unexpected: string[]
  /** The group's pending entries at the time of the check. */
  pending: number
}

/** mids in a dead-letter stream (from each entry's `data` field). */
export async function deadLetteredMids(redis: Redis | Cluster, dlqKey: string): Promise<string[]> {
  const entries = (await redis.xrange(dlqKey, '-', '+')) as Array<[string, string[]]>
  const mids: string[] = []
  for (const [, fields] of entries) {
    const index = fields.indexOf('data')
    const data = index >= 0 && index % 2 === 0 ? fields[index + 1] : undefined
    if (data === undefined) continue
    try {
      const mid = (JSON.parse(data) as {mid?: unknown}).mid
      if (typeof mid === 'string') mids.push(mid)
    } catch {
      // not one of ours
    }
  }
  return mids
}

export async function checkLedger(options: {redis: Redis | Cluster; topic: string; group: string; dlqKey?: string; mids: readonly string[]; ledger: string}): Promise<LedgerReport> {
  const {redis, topic, group, mids, ledger} = options
  const expected = new Set(mids)
  const calls = new Map<string, number>()
  for (const line of readLedger(ledger)) calls.set(line.mid, (calls.get(line.mid) ?? 0) + 1)
  const dlqCounts = new Map<string, number>()
  for (const mid of await deadLetteredMids(redis, options.dlqKey ?? deadLetterKey(topic))) dlqCounts.set(mid, (dlqCounts.get(mid) ?? 0) + 1)
  const pendingSummary = (await redis.xpending(topic, group).catch(() => [0])) as [number, ...unknown[]]
  let duplicated = 0
  for (const count of calls.values()) duplicated += count - 1
  let deadLetterDuplicates = 0
  for (const count of dlqCounts.values()) deadLetterDuplicates += count - 1
  return {
    published: expected.size,
    handled: [...calls.keys()].filter((mid) => expected.has(mid)).length,
    duplicated,
    deadLettered: dlqCounts.size,
    deadLetterDuplicates,
    lost: mids.filter((mid) => !calls.has(mid) && !dlqCounts.has(mid)),
    unexpected: [...new Set([...calls.keys(), ...dlqCounts.keys()])].filter((mid) => !expected.has(mid)),
    pending: Number(pendingSummary[0]),
  }
}
