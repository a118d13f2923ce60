import type {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {deadLetterKey, replayKey, scheduleKey} from '../../src/core/keys.js'
import {readTopics, type RawTopic, type TopicRead} from '../../src/core/stats/topic-reading.js'
import {PARKED_CONSUMER} from '../../src/core/worker/group-ops.js'
import {jsonOf, runCli} from '../helpers/cli.js'
import {usePrivateRedis} from '../helpers/private-redis.js'

/**
 * readTopics, the one reading behind lag, inspect and top: the script read-topics-n.lua and the
 * plain commands it falls back to (a user who may not run EVAL_RO) must say the same thing about
 * every kind of key qctl meets, and both must say what the fixtures are.
 */

const context = usePrivateRedis()
let admin: Redis
/** A user with the monitor role's commands but not EVAL_RO: the command path. */
let plain: Redis
/** A user who may run EVAL_RO but not XINFO CONSUMERS: refused inside the script. */
let noConsumers: Redis

const READS: TopicRead[] = [
  {topic: 'read.busy'},
  {topic: 'read.quiet'},
  {topic: 'read.gone'},
  {topic: 'read.hash'},
  {topic: 'read.bad-dlq'},
  {topic: 'read.unknown-lag'},
  {topic: 'read.never'},
  {topic: 'read.soon'},
  {topic: deadLetterKey('read.archived'), deadLetterStream: true},
]

beforeAll(async () => {
  admin = context.redis
  const {server} = context
  const monitor = ['on', 'nopass', 'resetkeys', '-@all', '+ping', '+client|setname', '+xinfo|stream', '+xinfo|groups', '+xinfo|consumers', '+xpending', '+xlen', '+xrange', '+exists', '+zcard', '+zcount', '+time', '~read.*', '~{read.*}:*']
  await admin.call('ACL', 'SETUSER', 'plain', ...monitor)
  await admin.call('ACL', 'SETUSER', 'no-consumers', ...monitor, '+eval_ro', '+evalsha_ro', '-xinfo|consumers')
  plain = await server.client({username: 'plain', password: 'x'})
  noConsumers = await server.client({username: 'no-consumers', password: 'x'})

  // read.busy: 5 entries; group g read 3 (two by c1, one parked by a worker for a retry), acked 0;
  // group h read nothing; a dead letter; g has a replay stream with one entry delivered, one not.
  for (let i = 0; i < 5; i++) await admin.xadd('read.busy', `${1000 + i}-0`, 'data', `{"n":${i}}`)
  await admin.xgroup('CREATE', 'read.busy', 'g', '0')
  await admin.xgroup('CREATE', 'read.busy', 'h', '0')
  await admin.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 2, 'STREAMS', 'read.busy', '>')
  await admin.xreadgroup('GROUP', 'g', PARKED_CONSUMER, 'COUNT', 1, 'STREAMS', 'read.busy', '>')
  await admin.xadd(deadLetterKey('read.busy'), '*', 'data', '{}', 'dlq.group', 'g')
  const replay = replayKey('read.busy', 'g')
  await admin.xadd(replay, '*', 'data', '{}')
  await admin.xadd(replay, '*', 'data', '{}')
  await admin.xgroup('CREATE', replay, 'g', '0')
  await admin.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 1, 'STREAMS', replay, '>')
  // read.busy's schedule: one message due long ago (nothing appended it), one due in a day.
  await admin.zadd(scheduleKey('read.busy'), 1, 'due', Date.now() + 86_400_000, 'later')
  // read.quiet: entries, no group; its schedule key holds something else.
  await admin.xadd('read.quiet', '*', 'data', '{}')
  await admin.set(scheduleKey('read.quiet'), 'not a schedule')
  // read.soon: no stream yet, a message scheduled for it.
  await admin.zadd(scheduleKey('read.soon'), Date.now() + 86_400_000, 'first')
  // read.gone: deleted, its dead letters left behind.
  for (let i = 0; i < 3; i++) await admin.xadd(deadLetterKey('read.gone'), '*', 'data', '{}')
  // read.hash: not a stream. read.bad-dlq: a stream whose dead-letter key is a string.
  await admin.hset('read.hash', 'a', '1')
  await admin.xadd('read.bad-dlq', '*', 'data', '{}')
  await admin.set(deadLetterKey('read.bad-dlq'), 'oops')
  // read.unknown-lag: an undelivered entry deleted, so Redis cannot tell the lag.
  const ids: string[] = []
  for (let i = 0; i < 4; i++) ids.push((await admin.xadd('read.unknown-lag', '*', 'data', '{}')) as string)
  await admin.xgroup('CREATE', 'read.unknown-lag', 'g', '0')
  await admin.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 1, 'STREAMS', 'read.unknown-lag', '>')
  await admin.xdel('read.unknown-lag', ids[2] as string)
  // The dead-letter stream of read.archived, read by an archiver group.
  await admin.xadd(deadLetterKey('read.archived'), '*', 'data', '{}')
  await admin.xgroup('CREATE', deadLetterKey('read.archived'), 'archiver', '0')
})

afterAll(() => {
  plain?.disconnect()
  noConsumers?.disconnect()
})

/** Idle times tick between two readings: compared as "some number" (they are checked on their own). */
const settled = (topics: RawTopic[]): RawTopic[] =>
  topics.map((topic) => (topic.kind !== 'stream' ? topic : {...topic, groups: topic.groups.map((group) => ({...group, oldestPendingIdleMs: group.oldestPendingIdleMs === null ? null : -1}))}))

const byTopic = (topics: RawTopic[]): Map<string, RawTopic> => new Map(settled(topics).map((topic) => [topic.topic, topic]))

describe('readTopics', () => {
  it('reads every kind of key right, with the script and with plain commands alike', async () => {
    const scripted = await readTopics(admin, READS)
    const commands = await readTopics(plain, READS)
    // The plain user was refused EVAL_RO once, and read with commands.
    const log = (await admin.call('ACL', 'LOG')) as unknown[][]
    expect(log.map((entry) => String(entry[entry.indexOf('object') + 1]))).toContain('eval_ro')
    expect(settled(commands)).toEqual(settled(scripted))
    const idle = scripted.flatMap((topic) => (topic.kind === 'stream' ? topic.groups.map((group) => group.oldestPendingIdleMs) : [])).filter((ms) => ms !== null)
    expect(idle.length).toBe(2)
    for (const ms of idle) expect(ms).toBeGreaterThanOrEqual(0)
    for (const ms of idle) expect(ms).toBeLessThan(60_000)

    const topics = byTopic(scripted)
    expect([...topics.keys()]).toEqual(READS.map((read) => read.topic))
    expect(topics.get('read.busy')).toEqual({
      topic: 'read.busy',
      kind: 'stream',
      length: 5,
      firstId: '1000-0',
      lastId: '1004-0',
      lastGeneratedId: '1004-0',
      entriesAdded: 5,
      deadLetters: {state: 'stream', length: 1, entriesAdded: 1},
      groups: [
        {name: 'g', lastDeliveredId: '1002-0', entriesRead: 3, lag: 2, pending: 3, consumers: 2, activeConsumers: 2, parkedPending: 1, oldestPendingId: '1000-0', oldestPendingIdleMs: -1, replay: {lag: 1, pending: 1}},
        {name: 'h', lastDeliveredId: '0-0', entriesRead: null, lag: 5, pending: 0, consumers: 0, activeConsumers: 0, parkedPending: 0, oldestPendingId: null, oldestPendingIdleMs: null, replay: {lag: 0, pending: 0}},
      ],
      scheduled: 2,
      scheduledDue: 1,
    })
    expect(topics.get('read.quiet')).toMatchObject({kind: 'stream', length: 1, groups: [], deadLetters: {state: 'stream', length: 0, entriesAdded: null}, scheduled: null, scheduledDue: null})
    expect(topics.get('read.soon')).toEqual({topic: 'read.soon', kind: 'missing', deadLetters: 0, scheduled: 1, scheduledDue: 0})
    expect(topics.get('read.gone')).toEqual({topic: 'read.gone', kind: 'missing', deadLetters: 3, scheduled: 0, scheduledDue: 0})
    expect(topics.get('read.hash')).toEqual({topic: 'read.hash', kind: 'not-a-stream'})
    expect(topics.get('read.bad-dlq')).toMatchObject({kind: 'stream', length: 1, deadLetters: {state: 'not-a-stream'}})
    expect(topics.get('read.unknown-lag')).toMatchObject({kind: 'stream', length: 3, groups: [{name: 'g', lag: null, pending: 1}]})
    expect(topics.get('read.never')).toEqual({topic: 'read.never', kind: 'missing', deadLetters: 0, scheduled: 0, scheduledDue: 0})
    expect(topics.get(deadLetterKey('read.archived'))).toMatchObject({kind: 'stream', length: 1, deadLetters: {state: 'none'}, groups: [{name: 'archiver', lag: 1, replay: {lag: 0, pending: 0}}], scheduled: 0, scheduledDue: 0})
  })

  it("reads less for 'lag' (no stream IDs or counters), 'top' (no stream IDs) and 'rates' (nor consumer details)", async () => {
    const full = byTopic(await readTopics(admin, READS))
    const lag = byTopic(await readTopics(admin, READS, {reading: 'lag'}))
    const top = byTopic(await readTopics(admin, READS, {reading: 'top'}))
    const rates = byTopic(await readTopics(admin, READS, {reading: 'rates'}))
    const busy = full.get('read.busy') as Extract<RawTopic, {kind: 'stream'}>
    const noIds = {firstId: null, lastId: null, lastGeneratedId: null}
    expect(lag.get('read.busy')).toEqual({...busy, ...noIds, entriesAdded: null, deadLetters: {state: 'stream', length: 1, entriesAdded: null}})
    expect(top.get('read.busy')).toEqual({...busy, ...noIds})
    expect(rates.get('read.busy')).toEqual({
      ...busy,
      ...noIds,
      groups: busy.groups.map((group) => ({...group, activeConsumers: null, parkedPending: null, oldestPendingId: null, oldestPendingIdleMs: null})),
    })
    // Everything else (missing, not a stream, a bad dead-letter key, unknown lag) reads the same in every mode.
    for (const mode of [lag, top, rates]) {
      for (const topic of ['read.gone', 'read.hash', 'read.never', 'read.soon']) expect(mode.get(topic)).toEqual(full.get(topic))
      expect(mode.get('read.bad-dlq')).toMatchObject({kind: 'stream', deadLetters: {state: 'not-a-stream'}})
      expect(mode.get('read.unknown-lag')).toMatchObject({groups: [{lag: null}]})
    }
  })

  it("'top' and 'rates' count the entries ever added from the groups where they tell it, as XINFO STREAM does", async () => {
    // read.counted-*: a group's entries-read set by hand (XGROUP SETID … ENTRIESREAD), every entry
    // deleted, a group that read nothing beside one that did; with the fixture's topics (no group,
    // a group whose lag Redis cannot tell, a dead-letter stream with a group).
    const add = async (topic: string, n: number): Promise<string[]> => {
      const ids: string[] = []
      for (let i = 0; i < n; i++) ids.push((await admin.xadd(topic, '*', 'data', '{}')) as string)
      return ids
    }
    await add('read.counted-setid', 5)
    await admin.xgroup('CREATE', 'read.counted-setid', 'g', '0', 'ENTRIESREAD', 50)
    await admin.xgroup('CREATE', 'read.counted-setid', 'h', '$')
    const gone = await add('read.counted-emptied', 3)
    await admin.xgroup('CREATE', 'read.counted-emptied', 'g', '0')
    await admin.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 1, 'STREAMS', 'read.counted-emptied', '>')
    await admin.xdel('read.counted-emptied', ...gone)
    await admin.xgroup('SETID', 'read.counted-emptied', 'g', gone[0] as string, 'ENTRIESREAD', 10)
    await add('read.counted-emptied', 1)
    const reads = [...READS, {topic: 'read.counted-setid'}, {topic: 'read.counted-emptied'}]
    const full = await readTopics(admin, reads)
    const added = (topics: RawTopic[]): Array<[string, number | null]> => topics.map((topic) => [topic.topic, topic.kind === 'stream' ? topic.entriesAdded : null])
    expect(added(full)).toContainEqual(['read.counted-setid', 5])
    expect(added(full)).toContainEqual(['read.counted-emptied', 4])
    for (const reading of ['top', 'rates'] as const) expect(added(await readTopics(admin, reads, {reading}))).toEqual(added(full))
    // The same through the plain commands (a user who may not run scripts).
    expect(added(await readTopics(plain, reads, {reading: 'top'}))).toEqual(added(full))
  })

  it('sends the script again after the server lost it (SCRIPT FLUSH, a restart)', async () => {
    const before = await readTopics(admin, READS)
    await admin.call('SCRIPT', 'FLUSH')
    const after = await readTopics(admin, READS)
    expect(after.map((topic) => topic.topic)).toEqual(before.map((topic) => topic.topic))
    expect(byTopic(after).get('read.busy')).toMatchObject({kind: 'stream', length: 5})
  })

  it('a command refused inside the script is reported as the plain command refused (exit 4 naming it), not as a script error', async () => {
    const error = await readTopics(noConsumers, READS).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(String((error as Error | undefined)?.message)).toMatch(/^NOPERM .*'xinfo\|consumers'/)
  })

  it('after the server lost the script, of many calls answered NOSCRIPT only the first resend carries its text', async () => {
    const many: TopicRead[] = []
    for (let i = 0; i < 250; i++) many.push({topic: `read.lost-${i}`})
    await admin.xadd('read.lost-0', '*', 'data', '{}')
    await readTopics(admin, many)
    await admin.call('SCRIPT', 'FLUSH')
    await admin.call('CONFIG', 'RESETSTAT')
    const topics = await readTopics(admin, many)
    expect(topics.map((topic) => topic.topic)).toEqual(many.map((read) => read.topic))
    expect(topics[0]).toMatchObject({kind: 'stream', length: 1})
    expect(topics.slice(1).every((topic) => topic.kind === 'missing')).toBe(true)
    const stats = String(await admin.call('INFO', 'commandstats'))
    const calls = (name: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
    // Three calls answered NOSCRIPT, then sent again: the first with the text, the two behind it by SHA1.
    expect(calls('eval_ro')).toBe(1)
    expect(calls('evalsha_ro')).toBe(3 + 2)
  })

  it('reads 250 topics in one pipeline of three script calls (a hundred topics each)', async () => {
    const many: TopicRead[] = []
    const pipeline = admin.pipeline()
    for (let i = 0; i < 250; i++) {
      const topic = `read.many-${i}`
      pipeline.xadd(topic, '*', 'data', '{}')
      many.push({topic})
    }
    await pipeline.exec()
    await admin.call('CONFIG', 'RESETSTAT')
    const topics = await readTopics(admin, many)
    expect(topics.map((topic) => topic.topic)).toEqual(many.map((read) => read.topic))
    expect(topics.every((topic) => topic.kind === 'stream' && topic.length === 1)).toBe(true)
    const stats = String(await admin.call('INFO', 'commandstats'))
    const calls = (name: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
    expect(calls('evalsha_ro') + calls('eval_ro')).toBe(3)
    expect(calls('xinfo\\|stream')).toBe(250)
  })
})

describe('lag and top on a Redis over maxmemory (an incident is when they are needed)', () => {
  const full = usePrivateRedis({args: ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']})

  it('read the figures (the read script writes nothing, so Redis runs it under OOM)', async () => {
    await full.redis.xadd('oom.t', '*', 'data', '{}')
    await full.redis.xadd('oom.t', '*', 'data', '{}')
    await full.redis.xgroup('CREATE', 'oom.t', 'g', '0')
    await full.redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 1, 'STREAMS', 'oom.t', '>')
    let filled = 0
    for (const size of [20_000, 1_000, 50]) {
      await expect(
        (async () => {
          for (;;) await full.redis.set(`fill:${filled++}`, 'x'.repeat(size))
        })(),
      ).rejects.toThrow(/^OOM /)
    }
    await expect(full.redis.xadd('oom.t', '*', 'data', '{}')).rejects.toThrow(/^OOM /)
    const lag = await runCli(['lag', 'oom.t', '--json', '-u', full.server.url])
    expect(lag.code, lag.stderr).toBe(0)
    expect(jsonOf<Array<Record<string, unknown>>>(lag)).toMatchObject([{topic: 'oom.t', group: 'g', lag: 1, pending: 1}])
    const top = await runCli(['top', 'oom.t', '--once', '--interval', '100ms', '--json', '-u', full.server.url])
    expect(top.code, top.stderr).toBe(0)
    expect(jsonOf<{rows: Array<Record<string, unknown>>}>(top).rows).toMatchObject([{topic: 'oom.t', group: 'g', lag: 1, pending: 1}])
    // Read with the script, not the plain commands: nothing refused it.
    const stats = String(await full.redis.call('INFO', 'commandstats'))
    expect(stats).toMatch(/cmdstat_eval_ro:calls=[1-9]\d*,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0/)
    expect(stats).not.toMatch(/cmdstat_eval(sha)?_ro:.*(rejected|failed)_calls=[1-9]/)
  })
})
