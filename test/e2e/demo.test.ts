import {describe, expect, it} from 'vitest'

import {jsonOf, runCli} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {freePort} from '../helpers/redis-server.js'

interface DemoJson {
  throwawayServer: boolean
  topic: string
  deadLetterKey: string
  published: {published: number}
  worker: {processed: number; retried: number; deadLettered: number; lost: number; stopReason: string}
  lag: unknown[]
  deadLetters: {entries: Array<{errorMessage: string}>}
}

describe('qctl demo', () => {
  const ctx = usePrivateRedis()

  it('publishes sample events and works through them with the example handler: most succeed, some retried, a few dead-lettered', async () => {
    const result = await runCli(['demo', '--count', '80', '--json', '-u', ctx.server.url], {timeoutMs: 60_000})
    expect(result.code).toBe(0)
    const json = jsonOf<DemoJson>(result)
    // Orders 40 and 80 have a zero total (permanent); every 7th fails twice, then succeeds.
    expect(json).toMatchObject({
      throwawayServer: false,
      topic: 'qctl-demo:order.processed',
      published: {published: 80},
      worker: {processed: 78, retried: 22, deadLettered: 2, lost: 0, stopReason: 'until-empty'},
    })
    expect(await ctx.redis.xlen(json.deadLetterKey)).toBe(2)
    // It ends with the lag table and the dead-letter listing.
    expect(json.lag).toMatchObject([{topic: 'qctl-demo:order.processed', group: 'billing', length: 80, lag: 0, pending: 0, deadLetters: 2}])
    expect(json.deadLetters.entries.map((entry) => entry.errorMessage)).toEqual(['order 80 has a non-positive total 0', 'order 40 has a non-positive total 0'])
  })

  it('starts and removes a throwaway redis-server when no Redis answers, and says so', async () => {
    const result = await runCli(['demo', '--count', '20', '-u', `redis://127.0.0.1:${await freePort()}`], {timeoutMs: 60_000})
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/No Redis answers \(cannot connect to 127\.0\.0\.1:\d+: connection refused\); starting a throwaway redis-server/)
    expect(result.stdout).toMatch(/Stopped \(until-empty\) after .*: processed 20, retried 4, dead-lettered 0/)
    expect(result.stdout).toContain('qctl lag qctl-demo:order.processed')
    expect(result.stdout).toContain('No dead-lettered entries')
  })
})
