import {describe, expect, it} from 'vitest'

import {partitionStreamKey, waitingKeysKey} from '../../src/core/keys.js'
import {timeReplyMs} from '../../src/core/redis/redis-time.js'
import {readBusiestKeys} from '../../src/core/stats/busiest-keys.js'
import {KEY_REPORT_STALE_MS, writeKeyReports} from '../../src/core/worker/key-report.js'
import {useTestRedis} from '../helpers/test-redis.js'

// The waiting-keys reports of ordered workers (issue 17) against Redis: what writeKeyReports writes,
// readBusiestKeys (top --json) reads back merged; a write or read that fails says so.

let counter = 0

describe('key reports, written and read back', () => {
  const ctx = useTestRedis()
  const redisNow = async (): Promise<number> => timeReplyMs(await ctx.redis.time())

  it('two workers\' reports on two partitions merge into the group\'s busiest keys; a stale report does not count', async () => {
    const topic = `bk${++counter}`
    const streams = [partitionStreamKey(topic, 0, 'a'), partitionStreamKey(topic, 1, 'b')]
    const at = await redisNow()
    await writeKeyReports(ctx.redis, 'g', 'w-1', [
      {stream: streams[0]!, at, keys: [{key: 'k1', waiting: 4}, {key: 'k2', waiting: 1}]},
      {stream: streams[1]!, at, keys: [{key: 'k3', waiting: 2}]},
    ])
    await writeKeyReports(ctx.redis, 'g', 'w-2', [{stream: streams[0]!, at, keys: [{key: 'k2', waiting: 5}]}])
    await writeKeyReports(ctx.redis, 'g', 'w-old', [{stream: streams[1]!, at: at - KEY_REPORT_STALE_MS - 1000, keys: [{key: 'k9', waiting: 99}]}])
    expect(await ctx.redis.pttl(waitingKeysKey(streams[0]!, 'g'))).toBeGreaterThan(0)

    const [keys] = await readBusiestKeys(ctx.redis, [{group: 'g', streams: streams.map((stream, partition) => ({stream, partition}))}])
    expect(keys).toEqual([
      {key: 'k2', partition: 0, waiting: 6},
      {key: 'k1', partition: 0, waiting: 4},
      {key: 'k3', partition: 1, waiting: 2},
    ])
  })

  it('a report that cannot be written fails the write, whichever of the reports it is', async () => {
    const streams = [`bk${++counter}.a`, `bk${counter}.b`]
    // The second stream's waiting key is not a hash: its HSET fails (it was the reply left unread).
    await ctx.redis.set(waitingKeysKey(streams[1]!, 'g'), 'x')
    const at = await redisNow()
    await expect(writeKeyReports(ctx.redis, 'g', 'w-1', streams.map((stream) => ({stream, at, keys: [{key: 'k', waiting: 1}]})))).rejects.toThrow(/WRONGTYPE/)
  })

  it('a group whose reports cannot be read gets the error; the others their keys', async () => {
    const [good, bad] = [`bk${++counter}.good`, `bk${counter}.bad`]
    await ctx.redis.set(waitingKeysKey(bad, 'g'), 'x')
    await writeKeyReports(ctx.redis, 'g', 'w-1', [{stream: good, at: await redisNow(), keys: [{key: 'k', waiting: 3}]}])
    const [readGood, readBad, none] = await readBusiestKeys(ctx.redis, [
      {group: 'g', streams: [{stream: good, partition: null}]},
      {group: 'g', streams: [{stream: bad, partition: null}]},
      {group: 'h', streams: [{stream: good, partition: null}]},
    ])
    expect(readGood).toEqual([{key: 'k', partition: null, waiting: 3}])
    expect(readBad).toBeInstanceOf(Error)
    expect((readBad as Error).message).toMatch(/WRONGTYPE/)
    expect(none).toEqual([])
  })
})
