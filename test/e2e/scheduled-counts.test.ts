import {describe, expect, it} from 'vitest'

import type {LagRow} from '../../src/core/lag/lag.js'
import type {InspectResult} from '../../src/core/stats/inspect.js'
import type {RateRow} from '../../src/core/stats/rates.js'
import {jsonOf, runCli} from '../helpers/cli.js'
import {useTestRedis} from '../helpers/test-redis.js'

/**
 * Scheduled messages (publish --delay / --at) are in no stream until due, so in no length and no
 * lag: `lag`, `inspect` and `top` show them beside those figures (SCHEDULED; `scheduled` and
 * `scheduledDue` in --json), with how many are past their time and not appended (nothing moves
 * them). Plain topics, a topic that exists only as scheduled messages, and partitioned topics; on one
 * server and on a 3-primary cluster.
 */

const ctx = useTestRedis()
let counter = 0

const qctl = async (args: string[], input?: string) => runCli([...args, '-u', ctx.server.url], input === undefined ? {} : {input})
const ndjson = (count: number, keyed = false): string => `${Array.from({length: count}, (_, n) => JSON.stringify({n, ...(keyed ? {k: `key-${n}`} : {})})).join('\n')}\n`
const PAST = '2020-01-01T00:00:00Z'

/** A topic with group `g`, 4 entries, 5 messages due in an hour and 3 due in 2020 (past their time: nothing appended them). */
async function topicWithSchedule(): Promise<string> {
  const topic = `counted-${++counter}`
  expect((await qctl(['publish', topic, '--ndjson'], ndjson(4))).code).toBe(0)
  expect((await qctl(['group', 'create', topic, 'g', '--from', 'start'])).code).toBe(0)
  expect((await qctl(['publish', topic, '--ndjson', '--delay', '1h'], ndjson(5))).code).toBe(0)
  expect((await qctl(['publish', topic, '--ndjson', '--at', PAST], ndjson(3))).code).toBe(0)
  return topic
}

describe('scheduled messages in lag, inspect and top', () => {
  it('lag: SCHEDULED beside LENGTH and LAG, which do not count them; the due ones marked', async () => {
    const topic = await topicWithSchedule()
    const json = await qctl(['lag', topic, '--json'])
    expect(json.code, json.stderr).toBe(0)
    const [row] = jsonOf<LagRow[]>(json)
    expect(row).toMatchObject({topic, group: 'g', length: 4, lag: 4, scheduled: 8, scheduledDue: 3})
    const table = await qctl(['lag', topic])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/SCHEDULED/)
    expect(table.stdout).toContain('8 (3 due)')
    // A topic with nothing scheduled keeps its table as it was: no SCHEDULED column.
    const plain = `plain-${++counter}`
    expect((await qctl(['publish', plain, '--data', '{}'])).code).toBe(0)
    const plainTable = await qctl(['lag', plain])
    expect(plainTable.stdout).not.toMatch(/SCHED/)
    expect(jsonOf<LagRow[]>(await qctl(['lag', plain, '--json']))[0]).toMatchObject({scheduled: 0, scheduledDue: 0})
  })

  it('inspect: how many, how many due and not appended, and the next due time', async () => {
    const topic = await topicWithSchedule()
    const json = await qctl(['inspect', topic, '--json'])
    expect(json.code, json.stderr).toBe(0)
    const result = jsonOf<InspectResult>(json)
    expect(result.scheduled).toEqual({key: `{${topic}}:scheduled`, messages: 8, due: 3, nextDueAt: '2020-01-01T00:00:00.000Z'})
    const human = await qctl(['inspect', topic])
    expect(human.stdout).toContain(`Scheduled ({${topic}}:scheduled): 8, 3 of them due and not appended yet`)
    expect(human.stdout).toContain('next due 2020-01-01T00:00:00.000Z')
  })

  it('top --once: the SCHEDULED column and the figures in --json', async () => {
    const topic = await topicWithSchedule()
    const json = await qctl(['top', topic, '--once', '--interval', '200ms', '--json'])
    expect(json.code, json.stderr).toBe(0)
    const [row] = jsonOf<{rows: RateRow[]}>(json).rows
    expect(row).toMatchObject({topic, group: 'g', depth: 4, scheduled: 8, scheduledDue: 3})
    const table = await qctl(['top', topic, '--once', '--interval', '200ms'])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/SCHEDULED/)
    expect(table.stdout).toContain('8 (3 due)')
  })

  it('a topic that exists only as scheduled messages is shown (length 0), not "does not exist"', async () => {
    const topic = `only-scheduled-${++counter}`
    expect((await qctl(['publish', topic, '--ndjson', '--delay', '1h'], ndjson(2))).code).toBe(0)
    expect(await ctx.redis.exists(topic)).toBe(0)
    const lag = await qctl(['lag', topic, '--json'])
    expect(lag.code, lag.stderr).toBe(0)
    expect(jsonOf<LagRow[]>(lag)).toEqual([expect.objectContaining({topic, group: null, length: 0, scheduled: 2, scheduledDue: 0})])
    const top = await qctl(['top', topic, '--once', '--interval', '200ms', '--json'])
    expect(top.code, top.stderr).toBe(0)
    expect(jsonOf<{rows: RateRow[]}>(top).rows).toEqual([expect.objectContaining({topic, depth: 0, scheduled: 2})])
    // Once appended, the stream exists and the schedule is empty.
    expect((await qctl(['publish', topic, '--data', '{}', '--at', PAST])).code).toBe(0)
    expect((await qctl(['schedule', 'run', topic])).code).toBe(0)
    const after = jsonOf<LagRow[]>(await qctl(['lag', topic, '--json']))
    expect(after).toEqual([expect.objectContaining({length: 1, scheduled: 2, scheduledDue: 0})])
  })

  it('a partitioned topic: the sum over its partitions, and each partition with --partitions', async () => {
    const topic = `counted-parts-${++counter}`
    expect((await qctl(['topic', 'create', topic, '--partitions', '3'])).code).toBe(0)
    expect((await qctl(['publish', topic, '--ndjson', '--key-field', 'k', '--delay', '1h'], ndjson(30, true))).code).toBe(0)
    expect((await qctl(['publish', topic, '--ndjson', '--key-field', 'k', '--at', PAST], ndjson(6, true))).code).toBe(0)
    const whole = jsonOf<LagRow[]>(await qctl(['lag', topic, '--json']))
    expect(whole).toEqual([expect.objectContaining({topic, partitions: 3, scheduled: 36, scheduledDue: 6})])
    const parts = jsonOf<LagRow[]>(await qctl(['lag', topic, '--partitions', '--json']))
    expect(parts.map((row) => row.partition)).toEqual([0, 1, 2])
    expect(parts.reduce((sum, row) => sum + (row.scheduled ?? 0), 0)).toBe(36)
    expect(parts.filter((row) => (row.scheduled ?? 0) > 0).length).toBeGreaterThan(1)
    const inspect = jsonOf<InspectResult>(await qctl(['inspect', topic, '--json']))
    expect(inspect.scheduled).toEqual({key: null, messages: 36, due: 6, nextDueAt: '2020-01-01T00:00:00.000Z'})
    expect(inspect.partitions?.reduce((sum, part) => sum + (part.scheduled ?? 0), 0)).toBe(36)
    const top = jsonOf<{rows: RateRow[]}>(await qctl(['top', topic, '--once', '--interval', '200ms', '--json'])).rows
    expect(top).toEqual([expect.objectContaining({topic, scheduled: 36, scheduledDue: 6})])
  })

  it('a schedule key that is not a sorted set: unknown (null, "?"), and the rest is read', async () => {
    const topic = await topicWithSchedule()
    await ctx.redis.del(`{${topic}}:scheduled`)
    await ctx.redis.set(`{${topic}}:scheduled`, 'not a schedule')
    const lag = await qctl(['lag', topic, '--json'])
    expect(lag.code, lag.stderr).toBe(0)
    expect(jsonOf<LagRow[]>(lag)[0]).toMatchObject({length: 4, lag: 4, scheduled: null, scheduledDue: null})
    const inspect = await qctl(['inspect', topic])
    expect(inspect.code, inspect.stderr).toBe(0)
    expect(inspect.stdout).toContain('Scheduled')
    expect(inspect.stdout).toContain('unknown')
  })
})
