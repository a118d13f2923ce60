import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DlqListJson as DlqListResult, DlqShowJson} from '../../src/core/dlq/list.js'
import {planSelection} from '../../src/core/dlq/plan.js'
import type {PurgeResult} from '../../src/core/dlq/purge.js'
import {replayPlan, type ReplayResult} from '../../src/core/dlq/replay.js'
import {buildSelection} from '../../src/core/dlq/selection.js'
import type {JsonError} from '../../src/base-command.js'
import {jsonOf, runCli, runInTerminal, startCli, waitFor} from '../helpers/cli.js'
import {dlqKeyOf, writeDeadLetters, type DeadLetterSpec} from '../helpers/dead-letters.js'
import {startTestRedis, TEST_TARGET, type AdminClient, type TestRedis} from '../helpers/test-redis.js'

let server: TestRedis
let redis: AdminClient
let dir: string
let counter = 0

const unique = (name: string): string => `${name}-${++counter}`
/** Where `qctl dlq replay` puts what a group dead-lettered (README, qctl dlq). */
const replayed = (topic: string, group = 'billing'): string => `{${topic}}:replay:${group}`
const dlq = (...args: string[]): string[] => ['dlq', ...args, '-u', server.url]

/** Write dead-letter entries directly, in the format qctl work writes (README, "qctl work"). Returns their IDs. */
const deadLetter = async (topic: string, specs: DeadLetterSpec[], key = dlqKeyOf(topic)): Promise<string[]> => writeDeadLetters(redis, topic, specs, key)

const many = (count: number, spec: (n: number) => DeadLetterSpec = () => ({})): DeadLetterSpec[] => Array.from({length: count}, (_, n) => spec(n))

/** A stream's entries as [id, fields object]. */
async function entriesOf(key: string): Promise<Array<[string, Record<string, string>]>> {
  const rows = (await redis.xrange(key, '-', '+')) as Array<[string, string[]]>
  return rows.map(([id, pairs]) => [id, Object.fromEntries(Array.from({length: pairs.length / 2}, (_, i) => [pairs[2 * i], pairs[2 * i + 1]]))])
}

const payloadNumbers = async (key: string): Promise<number[]> => (await entriesOf(key)).map(([, fields]) => (JSON.parse(fields.data ?? '{}') as {n: number}).n)

const ENTRY_KEYS = [
  'dlqId', 'partition', 'deadLetteredAt', 'originTopic', 'originId', 'group', 'consumer', 'attempts', 'errorName', 'errorMessage', 'firstFailureAt', 'lastFailureAt', 'fields', 'data', 'dataText', 'dataIsJson',
]

beforeAll(async () => {
  server = await startTestRedis()
  redis = await server.client()
  dir = await mkdtemp(join(tmpdir(), 'qctl-dlq-'))
})

afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
  await rm(dir, {recursive: true, force: true})
})

describe('qctl dlq list', () => {
  it('lists newest first as a table, and --json gives the entries in full', async () => {
    const topic = unique('list')
    const ids = await deadLetter(topic, [
      {data: '{"orderId":1}', key: 'k1', headers: '{"source":"checkout"}', errorName: 'PermanentError', errorMessage: 'non-positive total', attempts: 1},
      {data: '{"orderId":2}', errorName: 'TimeoutError', errorMessage: 'upstream timed out\nafter 30s'},
      {data: '{"orderId":3}', group: 'shipping'},
    ])
    const human = await runCli(dlq('list', topic))
    expect(human.code).toBe(0)
    expect(human.stderr).toBe('')
    const lines = human.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^DLQ ID\s+ORIGIN ID\s+GROUP\s+ATTEMPTS\s+ERROR\s+FAILED\s+PAYLOAD$/)
    expect(lines.slice(1, 4).map((line) => line.split(/\s+/)[0])).toEqual([...ids].reverse())
    expect(lines[1]).toMatch(/\sshipping\s+5\s+Error: failed 2\s+4\ds ago\s+\{"orderId":3\}$/)
    // A line break in an error is shown escaped: the row stays one line (issue 15, point 5).
    expect(lines[2]).toContain('TimeoutError: upstream timed out\\nafter 30s')
    expect(lines[3]).toMatch(/\sbilling\s+1\s+PermanentError: non-positive total\s/)
    expect(lines.at(-1)).toBe(`Showing all 3 entries in ${dlqKeyOf(topic)}, newest first.`)

    const json = jsonOf<DlqListResult>(await runCli(dlq('list', topic, '--json', '--oldest', '--limit', '2')))
    expect(json).toMatchObject({dlq: dlqKeyOf(topic), total: 3, order: 'oldest'})
    expect(json.entries.map((entry) => entry.dlqId)).toEqual(ids.slice(0, 2))
    const [first] = json.entries
    expect(Object.keys(first ?? {})).toEqual(ENTRY_KEYS)
    expect(first).toMatchObject({
      originTopic: topic,
      group: 'billing',
      consumer: 'host-1',
      attempts: 1,
      errorName: 'PermanentError',
      errorMessage: 'non-positive total',
      fields: {data: '{"orderId":1}', key: 'k1', headers: '{"source":"checkout"}'},
      data: {orderId: 1},
      dataText: '{"orderId":1}',
    })
    expect(first?.deadLetteredAt).toBe(new Date(Number(ids[0]?.split('-')[0])).toISOString())
  })

  it('an empty or missing dead-letter stream lists nothing, says so, and exits 0', async () => {
    const topic = unique('empty')
    const human = await runCli(dlq('list', topic))
    expect(human.code).toBe(0)
    expect(human.stdout).toBe(`No dead-lettered entries in ${dlqKeyOf(topic)}.\n`)
    expect(jsonOf(await runCli(dlq('list', topic, '--json')))).toEqual({topic, partitioned: false, dlq: dlqKeyOf(topic), partitions: null, total: 0, order: 'newest', filtered: false, more: false, entries: []})
  })

  it('--dlq reads another key; a key that is not a stream is a usage error (exit 2)', async () => {
    const topic = unique('custom-key')
    await deadLetter(topic, many(2), 'custom:dead')
    expect(jsonOf<DlqListResult>(await runCli(dlq('list', topic, '--dlq', 'custom:dead', '--json'))).total).toBe(2)
    await redis.set('not-a-stream', 'x')
    const wrong = await runCli(dlq('list', topic, '--dlq', 'not-a-stream'))
    expect(wrong.code).toBe(2)
    expect(wrong.stderr.split('\n')[0]).toBe('Error: "not-a-stream" is a string, not a stream, so it is not a dead-letter stream')
  })
})

describe('qctl dlq show', () => {
  it('shows one entry in full with the payload pretty-printed; --json is the list entry shape', async () => {
    const topic = unique('show')
    const [id] = await deadLetter(topic, [{data: '{"orderId":7,"total":0.00,"items":[1,2]}', key: '7', errorName: 'PermanentError', errorMessage: 'bad total'}])
    const human = await runCli(dlq('show', topic, id as string))
    expect(human.code).toBe(0)
    expect(human.stdout).toContain(`DLQ entry      ${id}, dead-lettered `)
    expect(human.stdout).toContain('error          PermanentError: bad total\n')
    expect(human.stdout).toContain('field key      7\n')
    expect(human.stdout).toContain('payload (JSON):\n{\n  "orderId": 7,\n  "total": 0.00,\n  "items": [\n    1,\n    2\n  ]\n}\n')
    const json = jsonOf<DlqShowJson>(await runCli(dlq('show', topic, id as string, '--json')))
    expect(Object.keys(json)).toEqual([...ENTRY_KEYS, 'matchedBy', 'otherMatches', 'dlq'])
    expect(json).toMatchObject({dlqId: id, errorName: 'PermanentError', dataText: '{"orderId":7,"total":0.00,"items":[1,2]}', matchedBy: 'dlqId'})
  })

  it('exits 6 when the entry does not exist, 2 when the ID is malformed', async () => {
    const topic = unique('show-missing')
    await deadLetter(topic, many(1))
    const missing = await runCli(dlq('show', topic, '1-1'))
    expect(missing.code).toBe(6)
    expect(missing.stderr.split('\n')[0]).toBe(`Error: no entry 1-1 in the dead-letter stream ${dlqKeyOf(topic)} (as a dead-letter ID or the origin ID of a message of ${topic})`)
    const json = jsonOf<JsonError>(await runCli(dlq('show', unique('nothing'), '1-1', '--json')))
    expect(json.error).toMatchObject({code: 'NOT_FOUND', exitCode: 6})
    expect(json.error.message).toMatch(/does not exist$/)
    expect((await runCli(dlq('show', topic, 'latest'))).code).toBe(2)
  })
})

describe('qctl dlq replay', () => {
  it('moves every entry back: original fields without dlq.*, a replay record in the headers, the DLQ emptied', async () => {
    const topic = unique('replay-all')
    const dlqIds = await deadLetter(topic, [
      {data: '{"n":0}', key: 'k0', headers: '{"source":"checkout"}'},
      {data: '{"n":1}'},
      {data: 'not json', headers: 'not an object'},
    ])
    const result = await runCli(dlq('replay', topic, '--yes', '--json'))
    expect(result.code).toBe(0)
    const json = jsonOf<ReplayResult>(result)
    const onTopic = await entriesOf(replayed(topic))
    expect(json).toEqual({
      dlq: dlqKeyOf(topic),
      topic,
      toTopic: false,
      targets: [{group: 'billing', key: replayed(topic), entries: 3, partition: null}],
      withoutGroup: 0,
      dryRun: false,
      cancelled: false,
      selected: 3,
      replayed: 3,
      skipped: 0,
      remaining: 0,
      ids: onTopic.map(([id]) => id),
      notFound: [],
      durationMs: expect.any(Number) as number,
      partitioned: false,
      partitions: null,
    })
    const [first, second, third] = onTopic.map(([, fields]) => fields)
    expect(Object.keys(first ?? {})).toEqual(['data', 'key', 'headers'])
    expect(first).toMatchObject({data: '{"n":0}', key: 'k0'})
    const headers = JSON.parse(first?.headers ?? '') as Record<string, string>
    expect(headers).toEqual({source: 'checkout', 'qctl-replayed-from': dlqIds[0], 'qctl-replayed-at': expect.any(String) as string, 'qctl-original-id': expect.stringMatching(/-0$/) as string})
    expect(Math.abs(Date.parse(headers['qctl-replayed-at'] ?? '') - Date.now())).toBeLessThan(60_000)
    expect(second).toEqual({data: '{"n":1}', headers: expect.stringContaining(`"qctl-replayed-from":"${dlqIds[1]}"`) as string})
    // Headers that are not a JSON object are kept as they are.
    expect(third).toEqual({data: 'not json', headers: 'not an object'})
    expect(await redis.xlen(dlqKeyOf(topic))).toBe(0)
  })

  it('--id replays just those entries (warning about IDs not found); exit 6 when none exists', async () => {
    const topic = unique('replay-id')
    const ids = await deadLetter(topic, many(5))
    const result = await runCli(dlq('replay', topic, '--yes', '--id', ids[1] as string, '--id', ids[3] as string, '--id', '1-1', '--json'))
    expect(result.code).toBe(0)
    expect(jsonOf<ReplayResult>(result)).toMatchObject({selected: 2, replayed: 2, remaining: 3, notFound: ['1-1']})
    expect(result.stderr).toContain(`warning: not in ${dlqKeyOf(topic)} (already replayed or purged?): 1-1`)
    expect(await payloadNumbers(replayed(topic))).toEqual([1, 3])
    expect((await entriesOf(dlqKeyOf(topic))).map(([id]) => id)).toEqual([ids[0], ids[2], ids[4]])

    const none = await runCli(dlq('replay', topic, '--yes', '--id', ids[1] as string))
    expect(none.code).toBe(6)
    expect(none.stderr.split('\n')[0]).toBe(`Error: no entry ${ids[1]} in the dead-letter stream ${dlqKeyOf(topic)}`)
  })

  it('--error selects by a regular expression on the error name or message; --group and --limit narrow it', async () => {
    const topic = unique('replay-error')
    await deadLetter(topic, [
      {errorName: 'TimeoutError', errorMessage: 'upstream timed out'},
      {errorName: 'PermanentError', errorMessage: 'bad total'},
      {errorName: 'Error', errorMessage: 'socket timeout', group: 'shipping'},
      {errorName: 'TimeoutError', errorMessage: 'again'},
    ])
    const result = await runCli(dlq('replay', topic, '--yes', '--error', '[Tt]ime(d )?out', '--group', 'billing', '--json'))
    expect(jsonOf<ReplayResult>(result)).toMatchObject({selected: 2, replayed: 2, remaining: 2})
    expect(await payloadNumbers(replayed(topic))).toEqual([0, 3])
    const limited = await runCli(dlq('replay', topic, '--yes', '--limit', '1', '--json'))
    expect(jsonOf<ReplayResult>(limited)).toMatchObject({selected: 1, replayed: 1, remaining: 1})
    expect(await payloadNumbers(replayed(topic))).toEqual([0, 3, 1])
  })

  it('--since/--until select by when entries were dead-lettered (stream IDs or ISO times)', async () => {
    const topic = unique('replay-time')
    const ids = await deadLetter(topic, many(4))
    const json = jsonOf<ReplayResult>(await runCli(dlq('replay', topic, '--dry-run', '--since', ids[1] as string, '--until', ids[2] as string, '--json')))
    expect(json.ids).toEqual([ids[1], ids[2]])
    const future = new Date(Date.now() + 3_600_000).toISOString()
    expect(jsonOf<ReplayResult>(await runCli(dlq('replay', topic, '--dry-run', '--since', future, '--json'))).selected).toBe(0)
    const bad = await runCli(dlq('replay', topic, '--dry-run', '--since', 'yesterday'))
    expect(bad.code).toBe(2)
    expect(bad.stderr.split('\n')[0]).toMatch(/^Error: invalid --since "yesterday"/)
  })

  it('--dry-run lists exactly what would move and changes nothing (no --yes needed)', async () => {
    const topic = unique('replay-dry')
    const ids = await deadLetter(topic, [{errorName: 'A'}, {errorName: 'B'}, {errorName: 'A'}])
    const human = await runCli(dlq('replay', topic, '--dry-run', '--error', '^A$'))
    expect(human.code).toBe(0)
    const lines = human.stdout.trimEnd().split('\n')
    expect(lines.slice(1, -2).map((line) => line.split(/\s+/)[0])).toEqual([ids[0], ids[2]])
    expect(lines.at(-2)).toBe(`2 entries would go to group billing only, through its replay stream ${replayed(topic)}`)
    expect(lines.at(-1)).toBe(`Dry run: would replay 2 entries (${ids[0]} … ${ids[2]}) from ${dlqKeyOf(topic)} to group billing of ${topic} only; nothing changed.`)
    const json = jsonOf<ReplayResult>(await runCli(dlq('replay', topic, '--dry-run', '--json')))
    expect(json).toMatchObject({dryRun: true, selected: 3, replayed: 0, remaining: 3, ids, targets: [{group: 'billing', key: replayed(topic), entries: 3}]})
    expect(await redis.exists(topic)).toBe(0)
    expect(await redis.exists(replayed(topic))).toBe(0)
    expect(await redis.xlen(dlqKeyOf(topic))).toBe(3)
  })

  it('without a terminal, refuses to change anything unless --yes is given (exit 2, one line naming --yes)', async () => {
    const topic = unique('replay-no-yes')
    await deadLetter(topic, many(2))
    const result = await runCli(dlq('replay', topic))
    expect(result.code).toBe(2)
    expect(result.stderr.split('\n')[0]).toMatch(/^Error: refusing to replay .*--yes/)
    expect(result.stderr.trimEnd().split('\n').filter((line) => !line.startsWith('Hint:'))).toHaveLength(1)
    expect(await redis.xlen(dlqKeyOf(topic))).toBe(2)
    expect(await redis.exists(topic)).toBe(0)
  })

  it('--rate caps entries per second: 10 entries at --rate 5 take at least 1.8 s', async () => {
    const topic = unique('replay-rate')
    await deadLetter(topic, many(10))
    const result = await runCli(dlq('replay', topic, '--yes', '--rate', '5', '--json'))
    expect(result.code).toBe(0)
    const json = jsonOf<ReplayResult>(result)
    expect(json.replayed).toBe(10)
    expect(json.durationMs).toBeGreaterThanOrEqual(1790)
    expect(result.durationMs).toBeGreaterThanOrEqual(1800)
    // Each entry after the first waited its turn: their IDs (times) are spread over ~1.8 s.
    const times = json.ids.map((id) => Number(id.split('-')[0]))
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1750)
  })

  it('on a terminal, shows progress (moved / total, rate) while it replays', async () => {
    const topic = unique('replay-tty')
    await deadLetter(topic, many(10))
    const run = await runInTerminal(dlq('replay', topic, '--yes', '--rate', '10'), '')
    expect(run.code).toBe(0)
    expect(run.output).toMatch(new RegExp(`replaying to the groups of ${topic} that failed them: \\d+ / 10 \\(\\d+ msg/s\\)`))
    expect(run.output).toContain('Replayed 10 entries from')
    expect(await redis.xlen(replayed(topic))).toBe(10)
  })

  it('replays only entries dead-lettered from TOPIC when --dlq names a stream shared by several topics', async () => {
    const a = unique('shared-a')
    const b = unique('shared-b')
    const shared = unique('shared-dlq')
    await deadLetter(a, many(2), shared)
    await deadLetter(b, many(3), shared)
    if (TEST_TARGET === 'cluster') {
      // A stream shared by topics of several slots cannot take part in one-slot moves: refused, nothing moved.
      const refused = await runCli(dlq('replay', a, '--dlq', shared, '--yes'))
      expect(refused.code).toBe(2)
      expect(refused.stderr).toMatch(new RegExp(`--dlq "${shared}" is in hash slot \\d+, topic "${a}" in slot \\d+`))
      expect(await redis.xlen(shared)).toBe(5)
      return
    }
    const json = jsonOf<ReplayResult>(await runCli(dlq('replay', a, '--dlq', shared, '--yes', '--json')))
    expect(json).toMatchObject({replayed: 2, remaining: 3})
    expect(await redis.xlen(replayed(a))).toBe(2)
    expect(await redis.exists(b)).toBe(0)
    expect(await redis.exists(replayed(b))).toBe(0)
  })

  it('SIGKILLed halfway through 10,000 entries and run again: every entry exactly once, in the replay stream or in the DLQ', async () => {
    const topic = unique('replay-kill')
    await deadLetter(topic, many(10_000))
    const running = startCli(dlq('replay', topic, '--yes', '--rate', '4000'))
    await waitFor(async () => (await redis.xlen(replayed(topic))) >= 3000, 20_000, '3,000 entries replayed')
    running.child.kill('SIGKILL')
    expect((await running.done).signal).toBe('SIGKILL')

    const onTopic = await payloadNumbers(replayed(topic))
    const inDlq = await payloadNumbers(dlqKeyOf(topic))
    expect(onTopic.length).toBeGreaterThanOrEqual(3000)
    expect(onTopic.length).toBeLessThan(10_000)
    expect([...onTopic, ...inDlq].sort((x, y) => x - y)).toEqual(Array.from({length: 10_000}, (_, n) => n))

    const rerun = await runCli(dlq('replay', topic, '--yes', '--json'))
    expect(rerun.code).toBe(0)
    expect(jsonOf<ReplayResult>(rerun)).toMatchObject({replayed: 10_000 - onTopic.length, skipped: 0, remaining: 0})
    const after = await payloadNumbers(replayed(topic))
    // Order is kept: the rerun continues where the first run stopped.
    expect(after).toEqual(Array.from({length: 10_000}, (_, n) => n))
  })

  it('the replay script moves an entry once: running the same plan twice replays nothing the second time', async () => {
    const topic = unique('replay-twice')
    const ids = await deadLetter(topic, many(3))
    const key = dlqKeyOf(topic)
    const plan = await planSelection(redis, {key, selection: buildSelection({topic}, Date.now())})
    const first = await replayPlan(redis, plan, {topic})
    const second = await replayPlan(redis, plan, {topic})
    expect(first).toMatchObject({replayed: 3, skipped: 0, remaining: 0})
    expect(second).toMatchObject({replayed: 0, skipped: 3, remaining: 0, ids: []})
    expect(plan.ids).toEqual(ids)
    expect(await redis.xlen(replayed(topic))).toBe(3)
  })

  it('a message replayed before and dead-lettered again gets its replay record replaced, not duplicated', async () => {
    const topic = unique('replay-again')
    const [id] = await deadLetter(topic, [{headers: '{"qctl-replayed-from":"1-0","qctl-replayed-at":"2020-01-01T00:00:00.000Z","source":"x"}'}])
    await runCli(dlq('replay', topic, '--yes'))
    const [[, fields]] = (await entriesOf(replayed(topic))) as [[string, Record<string, string>]]
    const headers = JSON.parse(fields.headers ?? '') as Record<string, string>
    expect(headers).toMatchObject({source: 'x', 'qctl-replayed-from': id})
    expect(headers['qctl-replayed-at']).not.toBe('2020-01-01T00:00:00.000Z')
    expect(fields.headers?.match(/qctl-replayed-from/g)).toHaveLength(1)
  })
})

describe('qctl dlq purge', () => {
  it('without a terminal and without --yes: exit 2 naming --yes, nothing deleted; with --yes: deleted', async () => {
    const topic = unique('purge')
    const ids = await deadLetter(topic, many(4))
    const refused = await runCli(dlq('purge', topic))
    expect(refused.code).toBe(2)
    expect(refused.stderr.split('\n')[0]).toMatch(/^Error: refusing to purge .*--yes/)
    const refusedJson = jsonOf<JsonError>(await runCli(dlq('purge', topic, '--json')))
    expect(refusedJson.error).toMatchObject({code: 'USAGE', exitCode: 2})
    expect(await redis.xlen(dlqKeyOf(topic))).toBe(4)

    const human = await runCli(dlq('purge', topic, '--yes'))
    expect(human.code).toBe(0)
    expect(human.stdout).toBe(`Purged 4 entries from ${dlqKeyOf(topic)}; 0 left.\n`)
    expect(await redis.xlen(dlqKeyOf(topic))).toBe(0)

    await deadLetter(topic, many(2))
    const json = jsonOf<PurgeResult>(await runCli(dlq('purge', topic, '--yes', '--json')))
    expect(json).toMatchObject({dlq: dlqKeyOf(topic), dryRun: false, cancelled: false, selected: 2, purged: 2, remaining: 0, notFound: []})
    expect(json.ids).toHaveLength(2)
    expect(json.ids).not.toContain(ids[0])
  })

  it('--dry-run and --older-than: lists what would go, deletes only entries dead-lettered long enough ago', async () => {
    const topic = unique('purge-old')
    const old = await deadLetter(topic, many(3, () => ({at: Date.now() - 2 * 3_600_000})))
    const fresh = await deadLetter(topic, many(2))
    const dry = jsonOf<PurgeResult>(await runCli(dlq('purge', topic, '--older-than', '1h', '--dry-run', '--json')))
    expect(dry).toMatchObject({dryRun: true, selected: 3, purged: 0, remaining: 5, ids: old})
    const done = jsonOf<PurgeResult>(await runCli(dlq('purge', topic, '--older-than', '1h', '--yes', '--json')))
    expect(done).toMatchObject({purged: 3, remaining: 2, ids: old})
    expect((await entriesOf(dlqKeyOf(topic))).map(([id]) => id)).toEqual(fresh)
  })

  it('on a terminal it asks; answering "n" changes nothing and exits 0; "y" deletes', async () => {
    const topic = unique('purge-tty')
    const ids = await deadLetter(topic, many(3))
    const no = await runInTerminal(dlq('purge', topic), 'n\n')
    expect(no.code).toBe(0)
    expect(no.output).toContain(`Delete 3 entries (${ids[0]} … ${ids[2]}) from ${dlqKeyOf(topic)} for good? [y/N] `)
    expect(no.output).toContain('Not confirmed: nothing changed.')
    expect(await redis.xlen(dlqKeyOf(topic))).toBe(3)

    const yes = await runInTerminal(dlq('purge', topic), 'y\n')
    expect(yes.code).toBe(0)
    expect(yes.output).toContain('Purged 3 entries from')
    expect(await redis.xlen(dlqKeyOf(topic))).toBe(0)
  })

  it('deletes only what was selected when it started: entries dead-lettered during the purge survive', async () => {
    const topic = unique('purge-live')
    const key = dlqKeyOf(topic)
    const before = await deadLetter(topic, many(30_000))
    const running = startCli(dlq('purge', topic, '--yes', '--json'))
    let exited = false
    void running.done.then(() => (exited = true))
    const added: string[] = []
    while (!exited) {
      added.push((await redis.xadd(key, '*', 'data', '{"late":true}', 'dlq.topic', topic)) as string)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    const result = await running.done
    expect(result.code).toBe(0)
    const json = jsonOf<PurgeResult>(result)
    const captured = new Set(json.ids)
    // Everything there at the start is gone; everything that arrived after the capture is still there.
    expect(before.every((id) => captured.has(id))).toBe(true)
    const arrivedLater = added.filter((id) => !captured.has(id))
    expect(arrivedLater.length).toBeGreaterThan(0)
    const left = (await entriesOf(key)).map(([id]) => id)
    expect(left).toEqual(arrivedLater)
    expect(json.purged).toBe(json.ids.length)
    expect(json.remaining).toBeLessThanOrEqual(arrivedLater.length)
  })
})

describe('a poison message, end to end', () => {
  it('publish, dead-lettered by a handler that throws PermanentError, replayed after the fix, processed; the DLQ ends empty', async () => {
    const topic = unique('poison')
    const seen = join(dir, `${topic}.seen`)
    const broken = join(dir, 'broken.mjs')
    const fixed = join(dir, 'fixed.mjs')
    await writeFile(
      broken,
      `export default async function handle(message) {
  if (!(message.data.total > 0)) throw Object.assign(new Error('non-positive total'), {name: 'PermanentError'})
}
`,
    )
    await writeFile(
      fixed,
      `import {appendFileSync} from 'node:fs'
export default async function handle(message) {
  appendFileSync(${JSON.stringify(seen)}, JSON.stringify({id: message.id, data: message.data, headers: message.headers, attempt: message.attempt}) + '\\n')
}
`,
    )
    const published = await runCli(['publish', topic, '--data', '{"orderId":42,"total":0}', '--key', '42', '-u', server.url, '--json'])
    expect(published.code).toBe(0)
    const originId = jsonOf<{id: string}>(published).id

    const first = await runCli(['work', broken, '--topic', topic, '--group', 'billing', '--until-empty', '-u', server.url])
    expect(first.code).toBe(0)
    expect(first.stdout).toContain(`dead-lettered ${originId} after 1 attempt`)
    const [entry] = jsonOf<DlqListResult>(await runCli(dlq('list', topic, '--json'))).entries
    expect(entry).toMatchObject({originTopic: topic, originId, group: 'billing', attempts: 1, errorName: 'PermanentError', errorMessage: 'non-positive total'})
    expect(entry?.fields).toEqual({data: '{"orderId":42,"total":0}', key: '42'})

    const replay = await runCli(dlq('replay', topic, '--yes'))
    expect(replay.code).toBe(0)
    expect(replay.stdout).toMatch(/^1 entry went to group billing only, through its replay stream .*\nReplayed 1 entry from /)

    const second = await runCli(['work', fixed, '--topic', topic, '--group', 'billing', '--until-empty', '-u', server.url, '--json'])
    expect(second.code).toBe(0)
    const handled = (await readFile(seen, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as {id: string; data: unknown; headers: Record<string, string>; attempt: number})
    expect(handled).toHaveLength(1)
    expect(handled[0]).toMatchObject({data: {orderId: 42, total: 0}, attempt: 1, headers: {'qctl-replayed-from': entry?.dlqId, 'qctl-original-id': originId}})
    expect(handled[0]?.id).not.toBe(originId)
    expect(await redis.xlen(dlqKeyOf(topic))).toBe(0)
    expect((await runCli(dlq('list', topic))).stdout).toBe(`No dead-lettered entries in ${dlqKeyOf(topic)}.\n`)
  })
})
