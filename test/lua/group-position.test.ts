import type {Redis} from 'ioredis'
import {beforeAll, describe, expect, it} from 'vitest'

import {applyGroupDelete, planGroupDelete} from '../../src/core/groups/delete.js'
import {COUNT_PER_CALL, dropPending, entriesAfter, setGroupPosition} from '../../src/core/groups/entries.js'
import {retryKey} from '../../src/core/keys.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * src/lua/count-entries-1.lua, group-position-1.lua, drop-pending-4.lua and group-delete-n.lua
 * through their callers in src/core/groups, against a private redis-server: counts over several
 * calls, a count made stale by a deletion, trimming past the position, batches of pending entries,
 * and a delete that finds entries delivered since it was planned.
 */

const context = usePrivateRedis()
let redis: Redis
let counter = 0

beforeAll(() => {
  redis = context.redis
})

/** A stream of `count` entries with IDs 1-0 … count-0. */
async function stream(count: number): Promise<string> {
  const key = `group-position-${++counter}`
  for (let start = 1; start <= count; start += 1000) {
    const pipeline = redis.pipeline()
    for (let n = start; n < start + 1000 && n <= count; n++) pipeline.xadd(key, `${n}-0`, 'd', 'x')
    await pipeline.exec()
  }
  return key
}

const countAfter = async (key: string, id: string): Promise<number> => (await redis.xrange(key, `(${id}`, '+')).length

/** How many script calls (EVAL and EVALSHA) the server has run. */
async function scriptCalls(): Promise<number> {
  const stats = await redis.info('commandstats')
  return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
}

type GroupInfo = Record<string, unknown>
async function groupInfo(key: string, group: string): Promise<GroupInfo | undefined> {
  const rows = (await redis.call('XINFO', 'GROUPS', key)) as unknown[][]
  return rows.map((row) => Object.fromEntries(Array.from({length: row.length / 2}, (_, i) => [String(row[2 * i]), row[2 * i + 1]]))).find((row) => row.name === group)
}

describe('entriesAfter (count-entries-1.lua)', () => {
  it('counts exactly over several calls, about twice the smaller side, with entries deleted in the stream', async () => {
    const total = 2.5 * COUNT_PER_CALL
    const key = await stream(total)
    const lastDeleted = `${total - 10}-0`
    await redis.xdel(key, '7-0', `${1.2 * COUNT_PER_CALL}-0`, lastDeleted)
    for (const [position, calls] of [
      ['10-0', 2],
      [`${1.25 * COUNT_PER_CALL}-0`, 3],
      [`${total - 5}-0`, 1],
      ['0-1', 1],
      [`${total}-0`, 1],
      [`${3 * COUNT_PER_CALL}-0`, 1],
    ] as const) {
      const before = await scriptCalls()
      const counted = await entriesAfter(redis, key, position)
      expect(counted.after, position).toBe(await countAfter(key, position))
      expect(counted.counters).toMatchObject({entriesAdded: total, length: total - 3, deleted: 3, maxDeletedId: lastDeleted, lastGeneratedId: `${total}-0`, firstId: '1-0'})
      expect((await scriptCalls()) - before, position).toBe(calls)
    }
  })

  it('a stream that does not exist has nothing after any position', async () => {
    expect(await entriesAfter(redis, 'group-position-none', '5-0')).toMatchObject({after: 0, counters: {exists: false}})
  })
})

describe('setGroupPosition (group-position-1.lua)', () => {
  it('uses a count while entries were only added since (they all come after the position), and lag is exact', async () => {
    const key = await stream(100)
    await redis.xgroup('CREATE', key, 'g', '0')
    const known = await entriesAfter(redis, key, '40-0')
    for (let n = 101; n <= 110; n++) await redis.xadd(key, `${n}-0`, 'd', 'x')
    const before = await scriptCalls()
    expect(await setGroupPosition(redis, key, 'g', 'setid', '40-0', known)).toEqual({done: true, position: '40-0', entriesRead: 40})
    expect((await scriptCalls()) - before).toBe(1)
    expect(await groupInfo(key, 'g')).toMatchObject({'entries-read': 40, lag: 70})
  })

  it('counts again when an entry was deleted since the count', async () => {
    const key = await stream(100)
    await redis.xgroup('CREATE', key, 'g', '0')
    const stale = await entriesAfter(redis, key, '40-0')
    await redis.xdel(key, '60-0')
    const outcome = await setGroupPosition(redis, key, 'g', 'setid', '40-0', stale)
    // As if the deleted entry had never been added: 100 added, 59 after the position.
    expect(outcome).toEqual({done: true, position: '40-0', entriesRead: 41})
    // Redis cannot know the lag while the deleted entry lies ahead, and a read of an entry before it
    // makes Redis estimate the counter again: unknown, until the group reaches the stream's last entry.
    expect(await groupInfo(key, 'g')).toMatchObject({lag: null})
    await redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', 20, 'STREAMS', key, '>')
    expect(await groupInfo(key, 'g')).toMatchObject({'last-delivered-id': '61-0', 'entries-read': null, lag: null})
    await redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', 100, 'STREAMS', key, '>')
    expect(await groupInfo(key, 'g')).toMatchObject({'last-delivered-id': '100-0', 'entries-read': 100, lag: 0})
  })

  it('needs no count once the stream was trimmed past the position, nor at either end', async () => {
    const key = await stream(50)
    await redis.xgroup('CREATE', key, 'g', '0')
    const stale = await entriesAfter(redis, key, '10-0')
    await redis.xtrim(key, 'MINID', '20-0')
    expect(await setGroupPosition(redis, key, 'g', 'setid', '10-0', stale)).toEqual({done: true, position: '10-0', entriesRead: 19})
    expect(await groupInfo(key, 'g')).toMatchObject({lag: 31})
    expect(await setGroupPosition(redis, key, 'g', 'setid', '$')).toEqual({done: true, position: '50-0', entriesRead: 50})
    expect(await setGroupPosition(redis, key, 'g', 'setid', '0-0')).toEqual({done: true, position: '0-0', entriesRead: 19})
    expect(await groupInfo(key, 'g')).toMatchObject({lag: 31})
  })

  it('refuses a position past the last ID, a group or stream that does not exist, and reports a group that exists', async () => {
    const key = await stream(5)
    await redis.xgroup('CREATE', key, 'g', '0')
    expect(await setGroupPosition(redis, key, 'g', 'setid', '6-0')).toEqual({done: false, reason: 'past-end', lastGeneratedId: '5-0'})
    expect(await setGroupPosition(redis, key, 'nobody', 'setid', '2-0')).toEqual({done: false, reason: 'no-group'})
    expect(await setGroupPosition(redis, 'group-position-none', 'g', 'create', '0-0')).toEqual({done: false, reason: 'no-stream'})
    expect(await setGroupPosition(redis, key, 'g', 'create', '0-0')).toEqual({done: false, reason: 'exists'})
    expect(await setGroupPosition(redis, 'group-position-new', 'g', 'create-mkstream', '$')).toEqual({done: true, position: '0-0', entriesRead: 0})
    expect(await groupInfo(key, 'g')).toMatchObject({'last-delivered-id': '0-0'})
  })
})

describe('dropPending (drop-pending-4.lua)', () => {
  it('acknowledges every pending entry, in batches, with its attempt records', async () => {
    const key = await stream(2500)
    await redis.xgroup('CREATE', key, 'g', '0')
    await redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', 2500, 'STREAMS', key, '>')
    await redis.hset(retryKey(key, 'g'), '1-0', '1:1', '2500-0', '1:1', '2500-0+', 'x')
    expect(await dropPending(redis, key, 'g')).toBe(2500)
    expect(await redis.xpending(key, 'g')).toEqual([0, null, null, null])
    expect(await redis.exists(retryKey(key, 'g'))).toBe(0)
    expect(await dropPending(redis, key, 'g')).toBe(0)
  })
})

describe('applyGroupDelete (group-delete-n.lua)', () => {
  it('checks again in the same step: entries delivered since the plan stop it, and nothing is deleted', async () => {
    const key = await stream(5)
    await redis.xgroup('CREATE', key, 'g', '0')
    await redis.hset(retryKey(key, 'g'), 'x', '1')
    const plan = await planGroupDelete(redis, key, 'g')
    expect(plan.pending).toBe(0)
    await redis.xreadgroup('GROUP', 'g', 'late', 'COUNT', 2, 'STREAMS', key, '>')
    await expect(applyGroupDelete(redis, plan, false)).rejects.toThrow(/has 2 pending entries and 0 replayed entries on its stream, got since qctl looked: nothing was deleted/)
    expect(await groupInfo(key, 'g')).toMatchObject({pending: 2})
    expect(await redis.exists(retryKey(key, 'g'))).toBe(1)
    expect(await applyGroupDelete(redis, plan, true)).toMatchObject({groupsDestroyed: 1, keysDeleted: 1})
    expect(await groupInfo(key, 'g')).toBeUndefined()
  })
})
