import {describe, expect, it} from 'vitest'

import type {JsonError} from '../../src/base-command.js'
import type {DlqListJson, DlqShowJson} from '../../src/core/dlq/list.js'
import type {PurgeResult} from '../../src/core/dlq/purge.js'
import type {ReplayResult} from '../../src/core/dlq/replay.js'
import {jsonOf, runCli} from '../helpers/cli.js'
import {dlqKeyOf, writeDeadLetters} from '../helpers/dead-letters.js'
import {useTestRedis} from '../helpers/test-redis.js'

// Issue 15, point 7: the DLQ at 3 a.m. (list filters, time forms, show by origin ID, parsed data, show's separator).

const ctx = useTestRedis()
let counter = 0
const unique = (name: string): string => `${name}-${++counter}`
const dlq = (...args: string[]): string[] => ['dlq', ...args, '-u', ctx.server.url]
const HOUR = 3_600_000
const ACCEPTED_FORMS = 'use a duration ago (30m, 1h, 7d, 1w), an ISO time (2026-11-28T10:00:00Z, 2026-11-28) or a stream ID (1700000000000-0)'

describe('qctl dlq list filters', () => {
  it('--error, --group, --since/--until (durations ago or times) and --older-than narrow the list, in JSON and for people', async () => {
    const topic = unique('list-filters')
    const now = Date.now()
    const ids = await writeDeadLetters(ctx.redis, topic, [
      {errorName: 'TimeoutError', errorMessage: 'upstream timed out', at: now - 3 * 24 * HOUR},
      {errorName: 'PermanentError', errorMessage: 'bad total', at: now - 2 * HOUR},
      {errorName: 'TimeoutError', errorMessage: 'again', group: 'shipping', at: now - 90 * 60_000},
      {errorName: 'TimeoutError', errorMessage: 'once more', at: now - 10 * 60_000},
    ])
    const listed = async (...args: string[]): Promise<DlqListJson> => {
      const result = await runCli(dlq('list', topic, '--json', ...args))
      expect(result.code, result.stderr).toBe(0)
      return jsonOf<DlqListJson>(result)
    }
    const idsOf = (json: DlqListJson): string[] => json.entries.map((entry) => entry.dlqId)

    expect(idsOf(await listed('--error', '^Timeout'))).toEqual([ids[3], ids[2], ids[0]])
    expect(idsOf(await listed('--error', 'Timeout', '--group', 'billing'))).toEqual([ids[3], ids[0]])
    expect(idsOf(await listed('--since', '1h'))).toEqual([ids[3]])
    expect(idsOf(await listed('--since', '1w', '--until', '1h', '--oldest'))).toEqual([ids[0], ids[1], ids[2]])
    expect(idsOf(await listed('--older-than', '1d'))).toEqual([ids[0]])
    expect(idsOf(await listed('--until', new Date(now - HOUR).toISOString(), '--error', 'Permanent'))).toEqual([ids[1]])

    const limited = await listed('--error', 'Timeout', '--limit', '2')
    expect(limited).toMatchObject({total: 4, filtered: true, more: true})
    expect(idsOf(limited)).toEqual([ids[3], ids[2]])
    expect(await listed('--error', 'Timeout', '--limit', '3')).toMatchObject({filtered: true, more: false})
    expect(await listed()).toMatchObject({total: 4, filtered: false, more: false})

    const human = await runCli(dlq('list', topic, '--error', 'Timeout', '--since', '2h'))
    expect(human.code).toBe(0)
    const lines = human.stdout.trimEnd().split('\n')
    expect(lines.slice(1, -2).map((line) => line.split(/\s+/)[0])).toEqual([ids[3], ids[2]])
    expect(lines.at(-1)).toBe(`Showing all 2 entries that match the filters, of the 4 entries in ${dlqKeyOf(topic)}.`)
    const none = await runCli(dlq('list', topic, '--group', 'nobody'))
    expect(none.stdout).toBe(`None of the 4 entries in ${dlqKeyOf(topic)} matches the filters.\n`)
  })

  it('a bad time or duration exits 2 in one line that lists the accepted forms, in every dlq command', async () => {
    const topic = unique('bad-time')
    await writeDeadLetters(ctx.redis, topic, [{}])
    for (const args of [
      ['list', topic, '--since', 'yesterday'],
      ['list', topic, '--until', '2 hours'],
      ['replay', topic, '--dry-run', '--since', '1y'],
      ['purge', topic, '--dry-run', '--older-than', 'a week'],
    ]) {
      const result = await runCli(dlq(...args))
      expect(result.code, args.join(' ')).toBe(2)
      const flag = args[args.length - 2] as string
      expect(result.stderr.split('\n')[0]).toBe(`Error: invalid ${flag} "${args.at(-1)}": ${ACCEPTED_FORMS}`)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    }
  })

  it('--older-than and --since take weeks, and --older-than takes a time too', async () => {
    const topic = unique('weeks')
    const now = Date.now()
    const ids = await writeDeadLetters(ctx.redis, topic, [{at: now - 10 * 24 * HOUR}, {at: now - 3 * 24 * HOUR}, {}])
    const purge = jsonOf<PurgeResult>(await runCli(dlq('purge', topic, '--dry-run', '--older-than', '1w', '--json')))
    expect(purge.ids).toEqual([ids[0]])
    const at = jsonOf<PurgeResult>(await runCli(dlq('purge', topic, '--dry-run', '--older-than', new Date(now - HOUR).toISOString(), '--json')))
    expect(at.ids).toEqual([ids[0], ids[1]])
    const replay = jsonOf<ReplayResult>(await runCli(dlq('replay', topic, '--dry-run', '--since', '1w', '--json')))
    expect(replay.ids).toEqual([ids[1], ids[2]])
  })
})

describe('qctl dlq show by origin ID', () => {
  it('finds the entry by the ID the message had on its topic, and says which ID matched', async () => {
    const topic = unique('show-origin')
    const [dlqId] = await writeDeadLetters(ctx.redis, topic, [{originId: '1700000000000-7', errorName: 'PermanentError', errorMessage: 'bad total'}])
    const human = await runCli(dlq('show', topic, '1700000000000-7'))
    expect(human.code, human.stderr).toBe(0)
    const lines = human.stdout.split('\n')
    expect(lines[0]).toBe(`1700000000000-7 is an origin ID: showing the dead-letter entry ${dlqId}.`)
    expect(human.stdout).toContain(`DLQ entry      ${dlqId}, dead-lettered `)

    expect(jsonOf<DlqShowJson>(await runCli(dlq('show', topic, '1700000000000-7', '--json')))).toMatchObject({dlqId, originId: '1700000000000-7', matchedBy: 'originId', otherMatches: []})
    expect(jsonOf<DlqShowJson>(await runCli(dlq('show', topic, dlqId as string, '--json')))).toMatchObject({dlqId, matchedBy: 'dlqId', otherMatches: []})
    const direct = await runCli(dlq('show', topic, dlqId as string))
    expect(direct.stdout.split('\n')[0]).toMatch(/^DLQ entry {6}/)
  })

  it('a message dead-lettered several times: the latest entry, the others named; other topics of a shared DLQ do not match', async () => {
    const topic = unique('show-again')
    const shared = unique('shared-dlq')
    await writeDeadLetters(ctx.redis, 'another-topic', [{originId: '1700000000000-1'}], shared)
    const ids = await writeDeadLetters(ctx.redis, topic, [{originId: '1700000000000-1'}, {originId: '1700000000000-2'}, {originId: '1700000000000-1'}, {originId: '1700000000000-1'}], shared)
    await writeDeadLetters(ctx.redis, 'another-topic', [{originId: '1700000000000-1'}], shared)

    const json = jsonOf<DlqShowJson>(await runCli(dlq('show', topic, '1700000000000-1', '--dlq', shared, '--json')))
    expect(json).toMatchObject({dlqId: ids[3], originTopic: topic, matchedBy: 'originId', otherMatches: [ids[0], ids[2]]})
    const human = await runCli(dlq('show', topic, '1700000000000-1', '--dlq', shared))
    expect(human.stdout.split('\n')[1]).toBe(`It was dead-lettered 3 times; this is the latest. Earlier entries (${ids[0]}, ${ids[2]}) show with their own ID.`)

    const missing = await runCli(dlq('show', topic, '1700000000000-9', '--dlq', shared))
    expect(missing.code).toBe(6)
    expect(missing.stderr.split('\n')[0]).toBe(`Error: no entry 1700000000000-9 in the dead-letter stream ${shared} (as a dead-letter ID or the origin ID of a message of ${topic})`)
  })

  it('finds an origin ID newer than its dead-letter entry (a producer clock ahead of the server)', async () => {
    const topic = unique('show-future')
    const future = `${Date.now() + 24 * HOUR}-0`
    const [dlqId] = await writeDeadLetters(ctx.redis, topic, [{originId: future}, {}])
    expect(jsonOf<DlqShowJson>(await runCli(dlq('show', topic, future, '--json')))).toMatchObject({dlqId, matchedBy: 'originId'})
  })
})

describe('qctl dlq list/show --json: data parsed when it is JSON', () => {
  it('data is the parsed payload (jq .entries[].data.orderId works), dataText the exact stored text', async () => {
    const topic = unique('json-data')
    const exact = '{"orderId":42,"total":1.50,"big":12345678901234567890}'
    const [jsonId, textId, rawId] = await writeDeadLetters(ctx.redis, topic, [
      {data: exact},
      {data: 'plain text, not JSON'},
      {data: '{"looks":"like json"}', fields: [['enc', 'raw']]},
    ])
    const list = jsonOf<DlqListJson>(await runCli(dlq('list', topic, '--oldest', '--json')))
    expect(list.entries.map((entry) => (entry.data as {orderId?: number} | string | null) !== null && typeof entry.data === 'object' ? (entry.data as {orderId: number}).orderId : null)).toEqual([42, null, null])
    const [json, text, raw] = list.entries
    expect(json).toMatchObject({dlqId: jsonId, data: {orderId: 42, total: 1.5}, dataText: exact, dataIsJson: true})
    expect(text).toMatchObject({dlqId: textId, data: 'plain text, not JSON', dataText: 'plain text, not JSON', dataIsJson: false})
    expect(raw).toMatchObject({dlqId: rawId, data: '{"looks":"like json"}', dataIsJson: false})
    expect(Object.keys(json ?? {}).slice(-4)).toEqual(['fields', 'data', 'dataText', 'dataIsJson'])

    const shown = jsonOf<DlqShowJson>(await runCli(dlq('show', topic, jsonId as string, '--json')))
    expect(shown).toMatchObject({data: {orderId: 42}, dataText: exact, dataIsJson: true})
  })
})

describe('qctl dlq show field names', () => {
  it('puts two spaces between a field name and its value, however long the name', async () => {
    const topic = unique('long-field')
    const [id] = await writeDeadLetters(ctx.redis, topic, [{fields: [['correlation-identifier', 'abc'], ['k', 'v']]}])
    const human = await runCli(dlq('show', topic, id as string))
    expect(human.stdout).toContain('\nfield correlation-identifier  abc\n')
    expect(human.stdout).toContain('\nfield k        v\n')
  })
})

it('a missing entry ID is still exit 6 with --json', async () => {
  const json = jsonOf<JsonError>(await runCli(dlq('show', unique('nothing'), '1-1', '--json')))
  expect(json.error).toMatchObject({code: 'NOT_FOUND', exitCode: 6})
})

// Issue 15, point 9: a dry run over a large selection summarises it for people; --json lists every ID.
describe('qctl dlq replay/purge --dry-run over a large selection', () => {
  it('people get counts by error name, group and hour and the first and last entries, not a row per entry', async () => {
    const topic = unique('dry-summary')
    const now = Date.now()
    const earlier = now - 3 * HOUR
    const ids = await writeDeadLetters(ctx.redis, topic, [
      ...Array.from({length: 80}, (_, n) => ({errorName: 'TimeoutError', group: n % 4 === 0 ? 'shipping' : 'billing', at: earlier})),
      ...Array.from({length: 40}, () => ({errorName: 'PermanentError', group: 'billing\u001b[31m', at: now})),
    ])
    const hourOf = (ms: number): string => `${new Date(ms).toISOString().slice(0, 13).replace('T', ' ')}:00`
    for (const [command, last] of [
      ['replay', `Dry run: would replay 120 entries (${ids[0]} … ${ids[119]}) from ${dlqKeyOf(topic)} to the groups of ${topic} that failed them; nothing changed.`],
      ['purge', `Dry run: would delete 120 entries (${ids[0]} … ${ids[119]}) from ${dlqKeyOf(topic)}; nothing changed.`],
    ] as const) {
      const human = await runCli(dlq(command, topic, '--dry-run'))
      expect(human.code, human.stderr).toBe(0)
      const lines = human.stdout.trimEnd().split('\n')
      expect(lines.length).toBeLessThan(30)
      expect(lines.slice(0, 9)).toEqual([
        '120 entries selected (a summary; --json lists every ID):',
        'By error name:',
        '  80  TimeoutError',
        '  40  PermanentError',
        'By group:',
        '  60  billing',
        '  40  billing\\u001b[31m',
        '  20  shipping',
        'By hour dead-lettered (UTC):',
      ])
      expect(lines).toContain(`  ${hourOf(earlier)}  80`)
      expect(lines).toContain(`  ${hourOf(now)}  40`)
      expect(lines).toContain('First and last selected:')
      expect(lines.filter((line) => /^\d+-\d+\s/.test(line)).map((line) => line.split(/\s+/)[0])).toEqual([ids[0], ids[119]])
      expect(lines.at(-1)).toBe(last)

      const json = jsonOf<ReplayResult | PurgeResult>(await runCli(dlq(command, topic, '--dry-run', '--json')))
      expect(json).toMatchObject({dryRun: true, selected: 120, ids})
      // Where a replay would send them counts every selected entry, not only those a listing keeps.
      if ('targets' in json) {
        expect(json.targets.map((target) => [target.group, target.entries])).toEqual([
          ['billing', 60],
          ['billing\u001b[31m', 40],
          ['shipping', 20],
        ])
      }
      // 50 entries or fewer: a row each, as before.
      const filtered = await runCli(dlq(command, topic, '--dry-run', '--error', '^Permanent'))
      const rows = filtered.stdout.split('\n').filter((line) => /^\d+-\d+\s/.test(line))
      expect(rows.map((line) => line.split(/\s+/)[0])).toEqual(ids.slice(80))
    }
    expect(await ctx.redis.xlen(dlqKeyOf(topic))).toBe(120)
    expect(await ctx.redis.exists(topic)).toBe(0)
  })
})
