import {describe, expect, it} from 'vitest'

import type {TopResult} from '../../src/commands/top.js'
import {jsonOf, runCli, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'
import {useTestRedis} from '../helpers/test-redis.js'
import {freePort} from '../helpers/redis-server.js'

// `qctl top` off a terminal (runCli uses pipes): one snapshot, rates measured over one interval.

const ESC = '\u001b'
const CANARY = 'canary-secret-42'
const output = (result: CliResult): string => result.stdout + result.stderr

/** stderr is exactly one line starting `Error:` (plus a `Hint:` line only where allowed), with no stack trace. */
const expectOneLineError = (result: CliResult, {hint = false} = {}): void => {
  expect(result.stderr).toMatch(hint ? /^Error: [^\n]+\n(Hint: [^\n]+\n)?$/ : /^Error: [^\n]+\n$/)
  expect(output(result)).not.toContain('    at ')
}

describe('qctl top off a terminal', () => {
  const ctx = useTestRedis()
  const top = async (...args: string[]): Promise<CliResult> => runCli(['top', ...args, '-u', ctx.server.url])

  it('--json measures rates over one interval while a producer publishes: depth, lag, trend and dead letters per group', async () => {
    const {redis} = ctx
    for (let i = 0; i < 20; i++) await redis.xadd('live.orders', '*', 'data', JSON.stringify({i}))
    // unread: a group that has read nothing; reader: 5 delivered, 2 of them acknowledged.
    await redis.xgroup('CREATE', 'live.orders', 'unread', '0')
    await redis.xgroup('CREATE', 'live.orders', 'reader', '0')
    const read = (await redis.xreadgroup('GROUP', 'reader', 'c1', 'COUNT', 5, 'STREAMS', 'live.orders', '>')) as Array<[string, Array<[string, string[]]>]>
    const delivered = read[0]![1].map(([id]) => id)
    expect(delivered).toHaveLength(5)
    await redis.xack('live.orders', 'reader', delivered[0]!, delivered[1]!)
    await redis.xadd('{live.orders}:dlq', '*', 'data', '{}')
    await redis.xadd('{live.orders}:dlq', '*', 'data', '{}')

    // A steady producer meanwhile: one entry every 10ms from the test's own connection.
    const producer = setInterval(() => void redis.xadd('live.orders', '*', 'data', '{}').catch(() => {}), 10)
    let before: number
    let after: number
    let result: CliResult
    try {
      await new Promise((resolve) => setTimeout(resolve, 200))
      before = await redis.xlen('live.orders')
      result = await top('live.orders', '--json', '--interval', '300ms')
      after = await redis.xlen('live.orders')
    } finally {
      clearInterval(producer)
    }

    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const json = jsonOf<TopResult>(result)
    expect(new Date(json.at).toISOString()).toBe(json.at)
    expect(json.intervalMs).toBeGreaterThanOrEqual(250)
    expect(json.intervalMs).toBeLessThanOrEqual(1000)
    expect(json.server).toMatch(/^(redis|valkey) \d/)
    expect(json.rows.map((row) => `${row.topic}/${row.group}`)).toEqual(['live.orders/reader', 'live.orders/unread'])

    const [reader, unread] = json.rows as [TopResult['rows'][number], TopResult['rows'][number]]
    for (const row of [reader, unread]) {
      expect(row.depth).toBeGreaterThan(before)
      expect(row.depth).toBeLessThanOrEqual(after)
      expect(row.inRate).toBeGreaterThan(0)
      expect(row.lagGrowing).toBe(true)
      expect(row).toMatchObject({deadLetters: 2, deadLetterInRate: 0, deadLettersGrowing: false})
    }
    // Both rows come from the same reading of the stream.
    expect(reader.depth).toBe(unread.depth)
    expect(unread).toMatchObject({lag: unread.depth, pending: 0, oldestPendingAgeMs: null, consumers: 0})
    // No ordered worker reports its keys: an empty list, not null (null: a row without a group, or keys not read).
    expect(reader).toMatchObject({lag: reader.depth - 5, pending: 3, consumers: 1, activeConsumers: 1, outRate: 0, trend: 'growing', stall: null, kind: 'topic', partitions: 1, perPartition: null, busiestKeys: []})
    // A group nobody reads while entries wait is stalled, whatever the rates say.
    expect(unread).toMatchObject({trend: 'stalled', stall: 'no-active-consumer', activeConsumers: 0})
    expect(reader.oldestPendingAgeMs).toBeGreaterThanOrEqual(0)
    expect(Object.keys(reader).sort()).toEqual(
      ['activeConsumers', 'busiestKeys', 'consumers', 'deadLetterInRate', 'deadLetters', 'deadLettersGrowing', 'depth', 'group', 'inRate', 'kind', 'lag', 'lagGrowing', 'node', 'oldestPendingAgeMs', 'outRate', 'partitions', 'pending', 'perPartition', 'scheduled', 'scheduledDue', 'stall', 'topic', 'trend'].sort(),
    )
  })

  it('prints a plain table with the interval the rates were measured over (no colour, no sparklines)', async () => {
    await ctx.redis.xadd('plain.t', '*', 'data', '{}')
    await ctx.redis.xgroup('CREATE', 'plain.t', 'billing', '0')
    const result = await top('--interval', '200ms')
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(/^Rates measured over \d+ms:\n/)
    expect(result.stdout).toMatch(/^TOPIC\/GROUP +TREND +DEPTH +IN\/s +OUT\/s /m)
    expect(result.stdout).toMatch(/^plain\.t\/billing {2,}\S+ \S+ {2,}1 /m)
    expect(result.stdout).not.toContain('IN (1m)')
    expect(result.stdout).not.toContain(ESC)
  })

  it('TOPIC arguments and --match restrict the rows; a dead-letter stream is never a row of its own', async () => {
    const {redis} = ctx
    await redis.xadd('sel.a', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'sel.a', 'g', '0')
    await redis.xadd('sel.b', '*', 'data', '{}')
    await redis.xadd('other.c', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'other.c', 'h', '0')
    await redis.xadd('{sel.a}:dlq', '*', 'data', '{}')
    const names = (result: CliResult): string[] => {
      expect(result.code).toBe(0)
      return jsonOf<TopResult>(result).rows.map((row) => (row.group === null ? row.topic : `${row.topic}/${row.group}`))
    }

    expect(names(await top('sel.a', 'other.c', '--json', '--interval', '100ms'))).toEqual(['other.c/h', 'sel.a/g'])
    expect(names(await top('--match', 'sel.*', '--json', '--interval', '100ms'))).toEqual(['sel.a/g', 'sel.b'])

    const everything = jsonOf<TopResult>(await top('--json', '--interval', '100ms')).rows
    expect(everything.map((row) => row.topic)).toEqual(expect.arrayContaining(['sel.a', 'sel.b', 'other.c']))
    expect(everything.filter((row) => row.topic.endsWith(':dlq'))).toEqual([])
    expect(everything.find((row) => row.topic === 'sel.a')?.deadLetters).toBe(1)

    // A --match that takes in the dead-letter stream too still shows only the topic.
    expect(names(await top('--match', '*sel.a*', '--json', '--interval', '100ms'))).toEqual(['sel.a/g'])
    const none = await top('--match', 'nothing-*', '--interval', '100ms')
    expect(none.code).toBe(0)
    expect(none.stdout).toBe('No streams found.\n')
  })

  it('a named TOPIC that does not exist exits 6 naming it; --allow-missing shows the others', async () => {
    await ctx.redis.xadd('sel.here', '*', 'data', '{}')
    const missing = await top('sel.here', 'sel.typo', '--once', '--interval', '100ms')
    expect(missing.code).toBe(6)
    expect(missing.stderr).toBe('Error: topic "sel.typo" does not exist (no stream at that key)\n')
    expect(missing.stdout).toBe('')
    const allowed = await top('sel.here', 'sel.typo', '--json', '--interval', '100ms', '--allow-missing')
    expect(allowed.code).toBe(0)
    expect(jsonOf<TopResult>(allowed).rows.map((row) => row.topic)).toEqual(['sel.here'])
  })

  it('--help shows the --interval default in a form --interval accepts', async () => {
    const help = await runCli(['top', '--help'])
    const shown = /--interval=<duration>\s+\[default: (\S+)\]/.exec(help.stdout)?.[1]
    expect(shown).toBe('1s')
    expect((await top('--interval', shown as string, '--json')).code).toBe(0)
  })

  it('rejects a too-short --interval, and TOPIC with --match, with exit 2 and one line', async () => {
    const short = await top('--interval', '50ms')
    expect(short.code).toBe(2)
    expectOneLineError(short)
    expect(short.stderr).toContain('--interval must be at least 100ms')
    expect(short.stdout).toBe('')

    const both = await top('sel.a', '--match', 'sel.*')
    expect(both.code).toBe(2)
    expectOneLineError(both)
    expect(both.stdout).toBe('')
  })
})

describe('qctl top without a Redis to talk to', () => {
  it('exits 3 with one line, no stack and no password when nothing listens', async () => {
    const port = await freePort()
    const url = `redis://:${CANARY}@127.0.0.1:${port}`
    const plain = await runCli(['top', '-u', url, '--connect-timeout', '1s'])
    expect(plain.code).toBe(3)
    expectOneLineError(plain)
    expect(plain.stderr).toContain(`127.0.0.1:${port}`)
    expect(plain.stdout).toBe('')
    expect(output(plain)).not.toContain(CANARY)

    const json = await runCli(['top', '-u', url, '--connect-timeout', '1s', '--json'])
    expect(json.code).toBe(3)
    expect(jsonOf<{error: {code: string; exitCode: number}}>(json).error).toMatchObject({code: 'REDIS_UNAVAILABLE', exitCode: 3})
    expect(output(json)).not.toContain(CANARY)
  })
})

describe('qctl top with the wrong password', () => {
  const ctx = usePrivateRedis({args: ['--requirepass', 'the-right-one']})

  it('exits 4 with one error line (and a hint) and never prints the password it was given', async () => {
    const result = await runCli(['top', '-u', `redis://:${CANARY}@127.0.0.1:${ctx.server.port}`])
    expect(result.code).toBe(4)
    expectOneLineError(result, {hint: true})
    expect(result.stderr).toContain('authentication failed')
    expect(output(result)).not.toContain(CANARY)
  })
})
