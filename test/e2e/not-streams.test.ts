import {describe, expect, it} from 'vitest'

import type {TopResult} from '../../src/commands/top.js'
import type {LagRow} from '../../src/core/lag/lag.js'
import type {InspectResult} from '../../src/core/stats/inspect.js'
import {jsonOf, runCli, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

// Keys that are not streams where qctl reads streams (issue 14): listings skip them with a
// warning, a named TOPIC that is not a stream is a usage error (exit 2) naming the key and its type.

const expectOneLineError = (result: CliResult, {hint = false} = {}): void => {
  expect(result.stderr).toMatch(hint ? /^Error: [^\n]+\n(Hint: [^\n]+\n)?$/ : /^Error: [^\n]+\n$/)
  expect(result.stderr).not.toContain('    at ')
}

const DLQ_WARNING = 'warning: "{ns.a}:dlq" is a string, not a stream: not counted as the dead letters of "ns.a"\n'

describe('keys that are not streams', () => {
  const ctx = usePrivateRedis()
  const qctl = async (...args: string[]): Promise<CliResult> => runCli([...args, '-u', ctx.server.url])

  it('lag and top over the whole database skip a stray dead-letter key and a string named like a topic, with a warning', async () => {
    const {redis} = ctx
    await redis.xadd('ns.a', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'ns.a', 'g', '0')
    await redis.xadd('ns.b', '*', 'data', '{}')
    await redis.xadd('{ns.b}:dlq', '*', 'data', '{}')
    // A stray non-stream key named like a DLQ, and a string key named like a topic.
    await redis.set('{ns.a}:dlq', '1')
    await redis.set('ns.string', '1')

    const lag = await qctl('lag', '--json')
    expect(lag.code).toBe(0)
    expect(lag.stderr).toBe(DLQ_WARNING)
    const rows = jsonOf<LagRow[]>(lag)
    expect(rows.map((row) => [row.topic, row.group, row.deadLetters, row.warnings])).toEqual([
      ['ns.a', 'g', 0, ['"{ns.a}:dlq" is a string, not a stream: not counted as the dead letters of "ns.a"']],
      ['ns.b', null, 1, []],
    ])

    const table = await qctl('lag')
    expect(table.code).toBe(0)
    expect(table.stderr).toBe(DLQ_WARNING)
    expect(table.stdout).toMatch(/^ns\.a +g +/m)

    const top = await qctl('top', '--once', '--interval', '100ms', '--json')
    expect(top.code).toBe(0)
    expect(top.stderr).toBe(DLQ_WARNING)
    const snapshot = jsonOf<TopResult>(top)
    expect(snapshot.rows.map((row) => [row.topic, row.group, row.deadLetters])).toEqual([
      ['ns.a', 'g', 0],
      ['ns.b', null, 1],
    ])
    expect(snapshot.warnings).toEqual(['"{ns.a}:dlq" is a string, not a stream: not counted as the dead letters of "ns.a"'])

    const plainTop = await qctl('top', '--once', '--interval', '100ms')
    expect(plainTop.code).toBe(0)
    expect(plainTop.stderr).toBe(DLQ_WARNING)
    expect(plainTop.stdout).toMatch(/^ns\.a\/g +/m)

    // inspect of the topic itself works too, the dead-letter key skipped with the same warning.
    const inspect = await qctl('inspect', 'ns.a', '--json')
    expect(inspect.code).toBe(0)
    expect(inspect.stderr).toBe(DLQ_WARNING)
    expect(jsonOf<InspectResult>(inspect)).toMatchObject({topic: 'ns.a', deadLetters: {key: '{ns.a}:dlq', length: 0, newest: []}, warnings: [DLQ_WARNING.slice(9, -1)]})
  })

  it.each([
    ['lag', ['lag', 'ns.hash']],
    ['lag --json', ['lag', 'ns.hash', '--json']],
    ['inspect', ['inspect', 'ns.hash']],
    ['top --once', ['top', 'ns.hash', '--once', '--interval', '100ms']],
  ])('%s of a named TOPIC that is not a stream: exit 2 naming the key and its type', async (_name, args) => {
    await ctx.redis.hset('ns.hash', 'field', 'value')
    const result = await qctl(...args)
    expect(result.code).toBe(2)
    if (args.includes('--json')) {
      expect(jsonOf(result)).toEqual({error: {code: 'USAGE', exitCode: 2, message: 'topic "ns.hash" is a hash, not a stream', details: {key: 'ns.hash', type: 'hash'}}})
    } else {
      expectOneLineError(result)
      expect(result.stderr).toBe('Error: topic "ns.hash" is a hash, not a stream\n')
    }
  })

  it('dlq list of a topic whose dead-letter key is not a stream: exit 2 naming the key and its type', async () => {
    await ctx.redis.xadd('ns.c', '*', 'data', '{}')
    await ctx.redis.rpush('{ns.c}:dlq', 'x')
    const result = await qctl('dlq', 'list', 'ns.c')
    expect(result.code).toBe(2)
    expectOneLineError(result, {hint: true})
    expect(result.stderr).toBe('Error: "{ns.c}:dlq" is a list, not a stream, so it is not a dead-letter stream\nHint: name the dead-letter stream with --dlq KEY\n')
  })

  it('inspect of a topic that does not exist: exit 6', async () => {
    const result = await qctl('inspect', 'ns.missing')
    expect(result.code).toBe(6)
    expect(result.stderr).toBe('Error: topic "ns.missing" does not exist\n')
  })
})
