import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import type {TopResult} from '../../src/commands/top.js'
import {jsonOf, PROJECT_ROOT, runCli, startCli, waitFor, type CliResult} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

// `qctl top --once` / `--json`: the incident signals (issue 15, points 1, 5 and 6).

const RECORDER = join(PROJECT_ROOT, 'test/fixtures/work/recorder.mjs')
type Row = TopResult['rows'][number]

describe('qctl top: what an incident looks like', () => {
  const ctx = usePrivateRedis()
  const top = async (...args: string[]): Promise<CliResult> => runCli(['top', ...args, '-u', ctx.server.url, '--interval', '200ms'])
  const rowsOf = (result: CliResult): Row[] => {
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    return jsonOf<TopResult>(result).rows
  }

  it('a backlog no consumer reads is stalled, not "= steady": --json trend and stall, the human table\'s mark', async () => {
    const {redis} = ctx
    for (let i = 0; i < 12; i++) await redis.xadd('stall.orders', '*', 'data', JSON.stringify({i}))
    await redis.xgroup('CREATE', 'stall.orders', 'billing', '0')
    await redis.xgroup('CREATE', 'stall.orders', 'nobody', '0')
    await redis.xreadgroup('GROUP', 'billing', 'gone-1', 'COUNT', 2, 'STREAMS', 'stall.orders', '>')
    const [nobody] = rowsOf(await top('stall.orders', '--json')).filter((row) => row.group === 'nobody')
    expect(nobody).toMatchObject({trend: 'stalled', stall: 'no-active-consumer', lag: 12, inRate: 0, consumers: 0, activeConsumers: 0})

    const human = await top('stall.orders', '--once')
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/stall\.orders\/nobody +■ stalled/)
  })

  it('shows the dead letters of a deleted topic and the groups that read a dead-letter stream (an archiver), as lag does', async () => {
    const {redis} = ctx
    await redis.xadd('orph.gone', '*', 'data', '{}')
    await redis.xadd('{orph.gone}:dlq', '*', 'data', '{}')
    await redis.xadd('{orph.gone}:dlq', '*', 'data', '{}')
    await redis.del('orph.gone')
    await redis.xadd('orph.kept', '*', 'data', '{}')
    await redis.xadd('{orph.kept}:dlq', '*', 'data', '{}')
    await redis.xgroup('CREATE', '{orph.kept}:dlq', 'archiver', '0')
    // A dead-letter stream nobody reads stays the DLQ column of its topic.
    await redis.xadd('orph.plain', '*', 'data', '{}')
    await redis.xadd('{orph.plain}:dlq', '*', 'data', '{}')

    const rows = rowsOf(await top('--match', '*orph.*', '--json'))
    const brief = rows.map((row) => ({topic: row.topic, group: row.group, kind: row.kind, deadLetters: row.deadLetters, lag: row.lag}))
    expect(brief).toEqual([
      {topic: '{orph.kept}:dlq', group: 'archiver', kind: 'dead-letter-stream', deadLetters: 0, lag: 1},
      {topic: 'orph.gone', group: null, kind: 'orphaned-dead-letters', deadLetters: 2, lag: null},
      {topic: 'orph.kept', group: null, kind: 'topic', deadLetters: 1, lag: null},
      {topic: 'orph.plain', group: null, kind: 'topic', deadLetters: 1, lag: null},
    ])

    const human = await top('--match', '*orph.*', '--once')
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^orph\.gone \(deleted\) /m)
    expect(human.stdout).toMatch(/^\{orph\.kept\}:dlq\/archiver /m)
  })

  it('shows hostile group and consumer names escaped in the table, exact in --json', async () => {
    const {redis} = ctx
    const group = 'evil\u001b[31mred\u001b]0;pwned\u0007\nrow'
    await redis.xadd('hostile.t', '*', 'data', '{}')
    await redis.xgroup('CREATE', 'hostile.t', group, '0')
    const human = await top('hostile.t', '--once')
    expect(human.code).toBe(0)
    expect(human.stdout).not.toContain('\u001b')
    expect(human.stdout).not.toContain('\u0007')
    expect(human.stdout).toContain('hostile.t/evil\\u001b[31mred')
    expect(rowsOf(await top('hostile.t', '--json')).map((row) => row.group)).toEqual([group])
  })
})
