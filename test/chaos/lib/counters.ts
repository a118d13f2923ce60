import type {Redis} from 'ioredis'
import {expect} from 'vitest'

import type {CliResult} from '../../helpers/cli.js'
import {readLedger} from './ledger.js'
import {workSummary} from './scenario.js'

/**
 * A worker's summary counters held against the ledger (issue 14: "what qctl reports is true").
 * The ledger handler appends one line per successful call with its process ID, so each worker's
 * `processed` is checkable on its own; lost, duplicates and unacknowledged are checked over the fleet.
 */
export interface Counters {
  processed: number
  retried: number
  lost: number
  lostIds: string[]
  duplicates: number
  unacknowledged: number
  released: number
  unfinished: number
}

/** The counters of a `qctl work --json` run's `summary` event; fails the test if it printed none. */
export function countersOf(result: CliResult): Counters {
  const summary = workSummary(result)
  if (summary === undefined) throw new Error(`no summary (exit ${String(result.code)}, signal ${String(result.signal)}):\n${result.stdout}\n${result.stderr}`)
  return {
    processed: Number(summary['processed']),
    retried: Number(summary['retried']),
    lost: Number(summary['lost']),
    lostIds: summary['lostIds'] as string[],
    duplicates: Number(summary['duplicates']),
    unacknowledged: Number(summary['unacknowledged']),
    released: Number(summary['released']),
    unfinished: Number(summary['unfinished']),
  }
}

/** Successful handler calls per process ID, from the ledger. */
export function callsByPid(ledger: string): Map<number, number> {
  const calls = new Map<number, number>()
  for (const line of readLedger(ledger)) calls.set(line.pid, (calls.get(line.pid) ?? 0) + 1)
  return calls
}

/**
 * Each worker's `processed` equals its successful calls in the ledger; the fleet's lost,
 * duplicates and unacknowledged add up to what the ledger (and the test) shows.
 */
export function expectCountersMatchLedger(
  workers: ReadonlyArray<{pid: number | undefined; result: CliResult}>,
  ledger: string,
  expected: {lost: number; duplicates: number; unacknowledged: number},
): Counters[] {
  const calls = callsByPid(ledger)
  const counters = workers.map(({result}) => countersOf(result))
  workers.forEach(({pid}, i) => {
    expect(counters[i]?.processed, `processed of worker ${i} (pid ${String(pid)}) against its ledger lines`).toBe(calls.get(pid ?? -1) ?? 0)
  })
  const sum = (key: 'lost' | 'duplicates' | 'unacknowledged'): number => counters.reduce((total, counter) => total + counter[key], 0)
  expect({lost: sum('lost'), duplicates: sum('duplicates'), unacknowledged: sum('unacknowledged')}, 'summary counters against the ledger').toEqual(expected)
  return counters
}

/** This consumer's pending entry IDs, oldest first. */
export async function pendingIdsOf(redis: Redis, topic: string, group: string, consumer: string): Promise<string[]> {
  const rows = (await redis.xpending(topic, group, '-', '+', 100_000, consumer)) as Array<[string, string, number, number]>
  return rows.map(([id]) => id)
}

/** The group's consumers by name, with what each holds. */
export async function consumersOf(redis: Redis, topic: string, group: string): Promise<Map<string, {pending: number; idleMs: number}>> {
  const rows = (await redis.call('XINFO', 'CONSUMERS', topic, group)) as unknown[][]
  const consumers = new Map<string, {pending: number; idleMs: number}>()
  for (const row of rows) {
    const fields: Record<string, unknown> = {}
    for (let i = 0; i + 1 < row.length; i += 2) fields[String(row[i])] = row[i + 1]
    consumers.set(String(fields['name']), {pending: Number(fields['pending']), idleMs: Number(fields['idle'])})
  }
  return consumers
}

/** The entry IDs of a stream mapped to their messages' mids (read before some are deleted). */
export async function midsById(redis: Redis, topic: string): Promise<Map<string, string>> {
  const mids = new Map<string, string>()
  for (const [id, fields] of (await redis.xrange(topic, '-', '+')) as Array<[string, string[]]>) {
    const index = fields.indexOf('data')
    const data = index >= 0 ? fields[index + 1] : undefined
    if (data !== undefined) mids.set(id, (JSON.parse(data) as {mid: string}).mid)
  }
  return mids
}

export const sleep = async (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
