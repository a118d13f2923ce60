import {afterEach, describe, expect, it} from 'vitest'

import {waitFor} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {WorkerFleet} from './lib/fleet.js'
import {readLedger} from './lib/ledger.js'
import {CHAOS_TIMEOUT, recordRow, scaled} from './lib/results.js'
import {jsonError, newScenario, publishAll, workSummary} from './lib/scenario.js'

// Chaos scenarios 10 and 11 of issue 7: the stream or its group changed under running workers.

/** Order of two stream IDs (`ms-seq`), numerically. */
function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number) as [number, number]
  const [bMs, bSeq] = b.split('-').map(Number) as [number, number]
  return aMs === bMs ? aSeq - bSeq : aMs - bMs
}

describe('chaos: the stream changes under the workers', {timeout: CHAOS_TIMEOUT}, () => {
  const redis = usePrivateRedis()
  let fleet: WorkerFleet | undefined

  afterEach(async () => {
    await fleet?.killAll()
    fleet = undefined
  })

  for (const [variant, change] of [
    ['the stream deleted (DEL)', async (topic: string) => redis.redis.del(topic)],
    ['the group destroyed (XGROUP DESTROY)', async (topic: string, group: string) => redis.redis.xgroup('DESTROY', topic, group)],
  ] as const) {
    it(`10. ${variant} while workers run: each exits 6 with a clear error, and nothing is recreated`, async () => {
      const {started, topic, group, ledger, ndjson} = newScenario('vanish', 2_000)
      fleet = new WorkerFleet({redisUrl: redis.server.url, topic, group, ledger, args: ['--concurrency', '4'], env: {CHAOS_SLEEP_MS: '5'}})
      fleet.start()
      fleet.start()
      await publishAll(redis.server.url, topic, ndjson)
      await waitFor(() => readLedger(ledger).length >= 200, 20_000, 'the workers to be busy')
      await change(topic, group)

      const results = await Promise.all(fleet.workers.map(async (worker) => worker.cli.done))
      for (const result of results) {
        expect(result.code, result.stdout).toBe(6)
        expect(jsonError(result)).toEqual({code: 'NOT_FOUND', exitCode: 6, message: `consumer group "${group}" of topic "${topic}" no longer exists (the stream was deleted or the group destroyed); stopping rather than starting over`})
        expect(`${result.stdout}${result.stderr}`).not.toMatch(/\n\s+at /)
      }
      // Never a silent restart from the end: no group was created again (nor the stream, after DEL).
      const groups = (await redis.redis.exists(topic)) === 1 ? ((await redis.redis.xinfo('GROUPS', topic)) as unknown[]) : []
      expect(groups).toEqual([])
      recordRow({scenario: `10 ${variant} under 2 workers`, messages: 2_000, faults: variant.split(' (')[0] as string, lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
    })
  }

  it('11. entries XDELed and trimmed while pending: reported lost with their IDs, no reclaim loop, pending back to 0', async () => {
    const {started, topic, group, ledger, count, ndjson} = newScenario('trimmed', scaled(500, 5_000))
    await publishAll(redis.server.url, topic, ndjson)
    // A worker takes entries and is frozen before acknowledging them, so they sit in its pending list.
    // It holds what runs plus ~20 ms of read-ahead: 100 running handlers, so at least 100.
    fleet = new WorkerFleet({redisUrl: redis.server.url, topic, group, ledger, args: ['--concurrency', '100', '--visibility-timeout', '500ms'], env: {CHAOS_SLEEP_MS: '10'}})
    const holder = fleet.start([], 'holder')
    await waitFor(async () => Number(((await redis.redis.xpending(topic, group).catch(() => [0])) as [number])[0]) >= 100, 20_000, 'entries pending')
    holder.cli.child.kill('SIGSTOP')
    const pending = (await redis.redis.xpending(topic, group, '-', '+', 1000)) as Array<[string, string, number, number]>
    const pendingIds = pending.map(([id]) => id)
    // Delete some pending entries one by one, and trim away the oldest ones below another.
    const deleted = pendingIds.filter((_, i) => i % 7 === 3)
    await redis.redis.xdel(topic, ...deleted)
    const trimBelow = pendingIds[10] as string
    await redis.redis.xtrim(topic, 'MINID', trimBelow)
    const gone = new Set([...deleted, ...pendingIds.filter((id) => compareIds(id, trimBelow) < 0)])
    expect(gone.size).toBeLessThanOrEqual(100)
    holder.cli.child.kill('SIGKILL')
    await holder.cli.done

    const taker = fleet.start(['--until-empty'], 'taker')
    const result = await taker.cli.done
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0)
    const summary = workSummary(result)
    // Each reported once, by ID (the summary lists up to 100).
    expect(summary?.['lost']).toBe(gone.size)
    expect(new Set(summary?.['lostIds'] as string[])).toEqual(gone)
    expect(Number(((await redis.redis.xpending(topic, group)) as [number])[0])).toBe(0)
    // Everything not deleted was handled.
    const handledIds = new Set(readLedger(ledger).map((line) => line.id))
    const remaining = (await redis.redis.xrange(topic, '-', '+')) as Array<[string, string[]]>
    expect(remaining.every(([id]) => handledIds.has(id))).toBe(true)
    recordRow({scenario: '11 entries XDELed / trimmed while pending (each reported lost by ID)', messages: count, faults: `${gone.size} pending entries deleted`, lost: 0, duplicated: 0, deadLettered: 0, timeMs: Date.now() - started})
  })
})
