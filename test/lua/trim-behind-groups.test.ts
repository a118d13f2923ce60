import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {retryDueKey} from '../../src/core/keys.js'
import {trimBehindGroups, type TrimCall} from '../../src/core/trim/line.js'
import {PARKED_CONSUMER} from '../../src/core/worker/group-ops.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * src/lua/trim-behind-groups-n.lua through trimBehindGroups (what `qctl trim` and `qctl work
 * --trim-acked` call), against a private redis-server: the line is the first entry some group has
 * not been delivered or still holds pending (parked retries too), whatever lag Redis reports, and a
 * trim never passes it unless forced.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

/** A stream of `count` entries with IDs 1-1 … 1-count (readable in assertions). */
async function stream(count: number): Promise<{name: string; ids: string[]}> {
  const name = `trim-lua-${++counter}`
  const ids: string[] = []
  for (let n = 1; n <= count; n++) ids.push(String(await redis.xadd(name, `1-${n}`, 'n', String(n))))
  return {name, ids}
}

const read = async (name: string, group: string, consumer: string, count: number): Promise<string[]> => {
  const reply = (await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', name, '>')) as Array<[string, Array<[string, string[]]>]> | null
  return (reply?.[0]?.[1] ?? []).map(([id]) => id)
}

const remaining = async (name: string): Promise<string[]> => (await redis.xrange(name, '-', '+')).map(([id]) => id)

/** A stream of 6 entries, all delivered to billing and acknowledged but the one at `parked`, parked as park-retry-3.lua leaves one: claimed by the parked consumer, its due time in the due set. */
async function withParkedRetry(parked: number): Promise<{name: string; ids: string[]}> {
  const made = await stream(6)
  await redis.xgroup('CREATE', made.name, 'billing', '0')
  await read(made.name, 'billing', 'w1', 6)
  await redis.xclaim(made.name, 'billing', PARKED_CONSUMER, 0, made.ids[parked]!)
  await redis.zadd(retryDueKey(made.name, 'billing'), Date.now() + 3_600_000, made.ids[parked]!)
  await redis.xack(made.name, 'billing', ...made.ids.filter((id) => id !== made.ids[parked]))
  return made
}

const trim = async (name: string, call: Partial<TrimCall> = {}) => trimBehindGroups(redis, name, {mode: 'trim', rule: '+', whenNoGroups: 'keep', ...call})

/** XINFO GROUPS as objects. */
async function groupInfo(name: string): Promise<Array<Record<string, unknown>>> {
  const groups = (await redis.call('XINFO', 'GROUPS', name)) as unknown[][]
  return groups.map((group) => Object.fromEntries(Array.from({length: group.length / 2}, (_, i) => [String(group[2 * i]), group[2 * i + 1]])))
}

describe('trim-behind-groups-n.lua', () => {
  it('a group that never reads holds the line at the start: nothing is removed, whatever the rule', async () => {
    const {name} = await stream(10)
    await redis.xgroup('CREATE', name, 'idle', '0')
    const state = await trim(name, {rule: '1-11'})
    expect(state).toMatchObject({exists: true, removed: 0, trimAt: '0-1', groups: 1, acked: false})
    expect(state.line).toEqual({minId: '0-1', group: 'idle', reason: 'undelivered', entryId: null, consumer: null, idleMs: null})
    expect(await redis.xlen(name)).toBe(10)
  })

  it('removes what every group has been delivered and acknowledged, up to the slowest group', async () => {
    const {name, ids} = await stream(10)
    await redis.xgroup('CREATE', name, 'fast', '0')
    await redis.xgroup('CREATE', name, 'slow', '0')
    await redis.xack(name, 'fast', ...(await read(name, 'fast', 'f', 10)))
    await redis.xack(name, 'slow', ...(await read(name, 'slow', 's', 4)))
    const state = await trim(name)
    expect(state).toMatchObject({removed: 4, trimAt: '1-5', line: {minId: '1-5', group: 'slow', reason: 'undelivered'}})
    expect(await remaining(name)).toEqual(ids.slice(4))
    // Run again: nothing more to remove.
    expect((await trim(name)).removed).toBe(0)
  })

  it('a consumer of another program holding old pending entries holds the line at its oldest', async () => {
    const {name, ids} = await stream(10)
    await redis.xgroup('CREATE', name, 'billing', '0')
    await read(name, 'billing', 'other-tool', 3)
    // Entries 1-1..1-3 pending to the other tool; a qctl worker acknowledged the rest.
    await redis.xack(name, 'billing', ...(await read(name, 'billing', 'qctl-worker', 7)))
    await redis.xack(name, 'billing', ids[0]!)
    const state = await trim(name)
    expect(state.line).toMatchObject({minId: '1-2', group: 'billing', reason: 'pending', entryId: '1-2', consumer: 'other-tool'})
    expect(state.line?.idleMs).toBeTypeOf('number')
    expect(await remaining(name)).toEqual(ids.slice(1))
  })

  it("parked retries are pending to qctl's parked pseudo-consumer: they hold the line", async () => {
    const {name, ids} = await withParkedRetry(2)
    const state = await trim(name, {dueGroups: ['billing']})
    expect(state.line).toMatchObject({minId: ids[2], reason: 'pending', consumer: PARKED_CONSUMER})
    expect(await remaining(name)).toEqual(ids.slice(2))
  })

  it('a parked retry whose pseudo-consumer was deleted (pending nowhere, still due) holds the line when its due set is named', async () => {
    const {name, ids} = await withParkedRetry(3)
    await redis.xgroup('DELCONSUMER', name, 'billing', PARKED_CONSUMER)
    const plan = await trimBehindGroups(redis, name, {mode: 'plan', rule: '+', whenNoGroups: 'keep', dueGroups: ['billing']})
    expect(plan.line).toMatchObject({minId: ids[3], group: 'billing', reason: 'parked', entryId: ids[3]})
    // Without the due set the orphan is invisible to the line: that is why the callers name it.
    const blind = await trimBehindGroups(redis, name, {mode: 'plan', rule: '+', whenNoGroups: 'keep'})
    expect(blind.line).toMatchObject({minId: '1-7', reason: 'undelivered'})
    await trim(name, {dueGroups: ['billing']})
    expect(await remaining(name)).toEqual(ids.slice(3))
  })

  it('entries deleted by XDEL, one of them pending: the deleted pending ID still holds the line; a group with unknown lag holds at its position', async () => {
    const {name, ids} = await stream(10)
    await redis.xgroup('CREATE', name, 'a', '0')
    await redis.xgroup('CREATE', name, 'b', '0')
    await read(name, 'a', 'c', 5)
    await redis.xack(name, 'a', ids[0]!, ids[1]!, ids[3]!, ids[4]!)
    await redis.xack(name, 'b', ...(await read(name, 'b', 'c', 8)))
    // 1-3 is pending in a and deleted; 1-10 (not yet delivered to b) deleted: b's lag becomes unknown.
    await redis.xdel(name, ids[2]!, ids[9]!)
    const lags = Object.fromEntries((await groupInfo(name)).map((group) => [group.name, group.lag]))
    expect(lags.b).toBeNull()
    const state = await trim(name)
    expect(state.line).toMatchObject({minId: '1-3', group: 'a', reason: 'pending'})
    expect(state.removed).toBe(2)
    expect(await remaining(name)).toEqual([ids[3], ids[4], ids[5], ids[6], ids[7], ids[8]])
    // a acknowledges; now b (lag unknown) holds at 1-9, the first entry it has not had.
    await redis.xack(name, 'a', ids[2]!, ...(await read(name, 'a', 'c', 10)))
    const next = await trim(name)
    expect(next.line).toMatchObject({minId: '1-9', group: 'b', reason: 'undelivered'})
    expect(await remaining(name)).toEqual([ids[8]])
  })

  it('trimming behind every group keeps each group\'s lag and entries-read exact', async () => {
    const {name} = await stream(20)
    await redis.xgroup('CREATE', name, 'a', '0')
    await redis.xgroup('CREATE', name, 'b', '0')
    await redis.xack(name, 'a', ...(await read(name, 'a', 'c', 15)))
    await redis.xack(name, 'b', ...(await read(name, 'b', 'c', 8)))
    const before = await groupInfo(name)
    expect((await trim(name)).removed).toBe(8)
    const after = await groupInfo(name)
    expect(after.map((group) => [group.name, group.lag, group['entries-read']])).toEqual(before.map((group) => [group.name, group.lag, group['entries-read']]))
    expect(after.map((group) => group.lag)).toEqual([5, 12])
  })

  it('a rule below the line trims at the rule', async () => {
    const {name, ids} = await stream(10)
    await redis.xgroup('CREATE', name, 'g', '$')
    const state = await trim(name, {rule: '1-4'})
    expect(state).toMatchObject({removed: 3, trimAt: '1-4', line: {minId: '1-11', reason: 'undelivered'}})
    expect(await remaining(name)).toEqual(ids.slice(3))
  })

  it('without groups: the rule applies as given, or nothing (the worker\'s choice)', async () => {
    const {name, ids} = await stream(5)
    expect(await trim(name, {rule: '1-3'})).toMatchObject({removed: 0, trimAt: null, line: null, groups: 0})
    expect(await trim(name, {rule: '+', whenNoGroups: 'rule'})).toMatchObject({removed: 0, trimAt: null})
    expect(await trim(name, {rule: '1-3', whenNoGroups: 'rule'})).toMatchObject({removed: 2, trimAt: '1-3', line: null})
    expect(await remaining(name)).toEqual(ids.slice(2))
  })

  it('a group of the topic missing on this stream holds the line at its start', async () => {
    const {name} = await stream(5)
    await redis.xgroup('CREATE', name, 'here', '$')
    const state = await trim(name, {rule: '1-5', expectedGroups: ['here', 'elsewhere']})
    expect(state).toMatchObject({removed: 0, trimAt: '0-0', line: {minId: '0-0', group: 'elsewhere', reason: 'missing'}})
    expect(await redis.xlen(name)).toBe(5)
  })

  it('force trims at the rule, past pending and undelivered entries, and still says where the line was', async () => {
    const {name, ids} = await stream(8)
    await redis.xgroup('CREATE', name, 'g', '0')
    await read(name, 'g', 'c', 2)
    const state = await trim(name, {mode: 'force', rule: '1-6'})
    expect(state).toMatchObject({removed: 5, trimAt: '1-6', line: {minId: '1-1', reason: 'pending'}, acked: false})
    expect(await remaining(name)).toEqual(ids.slice(5))
  })

  it('plan changes nothing and names the same line and MINID a trim would use', async () => {
    const {name} = await stream(6)
    await redis.xgroup('CREATE', name, 'g', '0')
    await redis.xack(name, 'g', ...(await read(name, 'g', 'c', 3)))
    const plan = await trimBehindGroups(redis, name, {mode: 'plan', rule: '1-6', whenNoGroups: 'rule'})
    expect(plan).toMatchObject({removed: 0, trimAt: '1-4', line: {minId: '1-4'}})
    expect(await redis.xlen(name)).toBe(6)
    expect(await trim(name, {rule: '1-6', whenNoGroups: 'rule'})).toMatchObject({removed: 3, trimAt: '1-4'})
  })

  it('IDs are compared and stepped as text: the last sequence of a millisecond, 10 after 9, and the largest ID', async () => {
    const name = `trim-lua-${++counter}`
    for (const id of ['5-18446744073709551615', '6-0', '9-0', '10-0']) await redis.xadd(name, id, 'n', '1')
    await redis.xgroup('CREATE', name, 'behind', '0')
    await redis.xgroup('CREATE', name, 'ahead', '0')
    await redis.xack(name, 'behind', ...(await read(name, 'behind', 'c', 1)))
    await redis.xack(name, 'ahead', ...(await read(name, 'ahead', 'c', 4)))
    // behind holds at 6-0 (after 5-<last sequence>); ahead at 10-1, which sorts before 6-0 as plain text.
    expect(await trim(name)).toMatchObject({removed: 1, line: {minId: '6-0', group: 'behind', reason: 'undelivered'}})
    await redis.xadd(name, '18446744073709551615-18446744073709551615', 'n', '4')
    await redis.xack(name, 'behind', ...(await read(name, 'behind', 'c', 4)))
    await redis.xack(name, 'ahead', ...(await read(name, 'ahead', 'c', 4)))
    // Nothing comes after the largest ID: the line stays on it, and it is kept.
    expect(await trim(name)).toMatchObject({removed: 3, line: {minId: '18446744073709551615-18446744073709551615'}})
    expect(await remaining(name)).toEqual(['18446744073709551615-18446744073709551615'])
  })

  it('a stream that does not exist: nothing to do; a key that is not a stream: WRONGTYPE', async () => {
    expect(await trim(`trim-lua-missing-${++counter}`, {rule: '1-1', whenNoGroups: 'rule'})).toMatchObject({exists: false, length: 0, removed: 0, line: null, acked: null})
    const key = `trim-lua-string-${++counter}`
    await redis.set(key, 'x')
    await expect(trim(key)).rejects.toThrow(/WRONGTYPE/)
  })

  it('ACKED trimming (Redis 8.2+) is probed on the server: this one does not take it, and the trim falls back to MINID alone', async () => {
    const {name} = await stream(3)
    await redis.xgroup('CREATE', name, 'g', '$')
    const version = String(((await redis.call('HELLO')) as unknown[])[3])
    const [major, minor] = version.split('.').map(Number)
    const takesAcked = major! > 8 || (major === 8 && minor! >= 2)
    const state = await trim(name, {rule: '1-3'})
    expect(state.acked).toBe(takesAcked)
    expect(state.removed).toBe(2)
  })

  it('a user who may not XTRIM: refused before anything changes (NOPERM naming xtrim); a plan still works, unprobed', async () => {
    const {name} = await stream(4)
    await redis.xgroup('CREATE', name, 'g', '$')
    await redis.call('ACL', 'SETUSER', 'no-xtrim', 'on', '>pw', '~*', '+@all', '-xtrim')
    const limited = await context.server.client({username: 'no-xtrim', password: 'pw'})
    try {
      await expect(trimBehindGroups(limited, name, {mode: 'trim', rule: '1-3', whenNoGroups: 'rule'})).rejects.toThrow(/NOPERM .*'xtrim' command on key/)
      expect(await redis.xlen(name)).toBe(4)
      expect(await trimBehindGroups(limited, name, {mode: 'plan', rule: '1-3', whenNoGroups: 'rule'})).toMatchObject({trimAt: '1-3', acked: null})
      const log = (await redis.call('ACL', 'LOG')) as unknown[]
      expect(log).toEqual([])
    } finally {
      limited.disconnect()
    }
  })
})
