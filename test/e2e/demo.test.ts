import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {jsonOf, PROJECT_ROOT, runCli} from '../helpers/cli.js'
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

  it('its "Next:" hints are commands that work as printed: the same server, a real dead-letter ID, files that exist', async () => {
    const result = await runCli(['demo', '--count', '40', '-u', ctx.server.url], {timeoutMs: 60_000})
    expect(result.code).toBe(0)
    const next = result.stdout.split('\n').find((line) => line.startsWith('Next: ')) ?? ''
    const show = /qctl (dlq show \S+ \S+) -u '([^']+)'/.exec(next)
    expect(show, next).not.toBeNull()
    const [, command = '', url = ''] = show ?? []
    expect(url).toBe(ctx.server.url)
    const shown = await runCli([...command.split(' '), '-u', url])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain('order 40 has a non-positive total 0')
    const own = result.stdout.split('\n').find((line) => line.startsWith('Try it on your own topic: ')) ?? ''
    for (const file of own.match(/examples\/\S+/g) ?? []) expect(existsSync(join(PROJECT_ROOT, file)), file).toBe(true)
    expect(own).toContain('examples/orders.ndjson')
  })

  it('starts and removes a throwaway redis-server when no Redis answers, and says so', async () => {
    const result = await runCli(['demo', '--count', '20', '-u', `redis://127.0.0.1:${await freePort()}`], {timeoutMs: 60_000})
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(/No Redis answers \(cannot connect to 127\.0\.0\.1:\d+: connection refused\); starting a throwaway redis-server/)
    expect(result.stdout).toMatch(/Stopped \(until-empty\) after .*: processed 20, retried 4, dead-lettered 0/)
    expect(result.stdout).toContain('qctl lag qctl-demo:order.processed')
    expect(result.stdout).toContain('No dead-lettered entries')
    // Its data went with it: the hints say so instead of naming commands that would fail.
    expect(result.stdout).toContain('The throwaway redis-server has stopped and its data is gone')
    expect(result.stdout).not.toContain('Next: ')
  })
})
