import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {TopResult} from '../../src/commands/top.js'
import {deadLetterKey, replayKey, waitingKeysKey} from '../../src/core/keys.js'
import {timeReplyMs} from '../../src/core/redis/redis-time.js'
import {KEY_REPORT_MS} from '../../src/core/worker/key-report.js'
import type {TopicDescription} from '../../src/core/topics/describe.js'
import {CLI, jsonOf, PROJECT_ROOT, runCli, waitFor, type CliResult} from '../helpers/cli.js'
import {TEST_TARGET, useTestRedis, type AdminClient} from '../helpers/test-redis.js'
import {shellQuote, TmuxSession} from '../helpers/tmux.js'

// `qctl top` over partitioned topics (issue 17): one row per group over all partitions, rates summed
// over the partitions, partition streams never rows of their own; on a server and on a 3-primary
// cluster (vitest project 'cluster'), where the partitions live on different primaries.

type Row = TopResult['rows'][number]

let counter = 0

/** `qctl topic create TOPIC -p N`; the partitions' streams, in partition order. */
async function createTopic(url: string, topic: string, partitions: number): Promise<string[]> {
  const created = await runCli(['topic', 'create', topic, '--partitions', String(partitions), '--json', '-u', url])
  expect(created.stderr).toBe('')
  expect(created.code).toBe(0)
  return jsonOf<TopicDescription>(created).partitions.map((partition) => partition.stream)
}

async function add(redis: AdminClient, stream: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await redis.xadd(stream, '*', 'data', JSON.stringify({i}))
}

/** The group's lag on a stream, as Redis reports it. */
async function lagOf(redis: AdminClient, stream: string, group: string): Promise<number | null> {
  const groups = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[][]
  const mine = groups.find((fields) => fields[fields.indexOf('name') + 1] === group) ?? []
  return mine[mine.indexOf('lag') + 1] as number | null
}

/** Read and acknowledge what is there for `group` on each stream (a consumer that keeps up). */
async function consume(redis: AdminClient, streams: readonly string[], group: string): Promise<void> {
  for (const stream of streams) {
    const read = (await redis.xreadgroup('GROUP', group, 'acker', 'COUNT', 100, 'STREAMS', stream, '>')) as Array<[string, Array<[string, string[]]>]> | null
    const ids = read?.[0]?.[1].map(([id]) => id) ?? []
    if (ids.length > 0) await redis.xack(stream, group, ...ids)
  }
}

const sum = (values: ReadonlyArray<number | null>): number => values.reduce<number>((total, value) => total + (value ?? Number.NaN), 0)

/** A key name that would recolour the terminal if printed raw. */
const HOSTILE_KEY = 'cust\u001b[31mred'
/** How the screen must show it: the escape written out, as text. */
const SHOWN_HOSTILE_KEY = 'cust\\u001b[31mred'

/**
 * Reports of busiest waiting keys as ordered workers write them (key-report.ts), written directly:
 * on partition 0 two workers (key `a` in both), a stopped worker's stale report and a value that is not
 * a report; on partition 2 one worker (a hostile key name) and a malformed report; partition 1 none;
 * the plain topic one worker. Written again every KEY_REPORT_MS, as workers do, each time stamped with
 * Redis's clock, so they stay fresh however slowly the CLI starts. Returns the function that stops it.
 */
async function keepReporting(redis: AdminClient, streams: readonly string[], plain: string, group: string): Promise<() => Promise<void>> {
  const report = (at: number, keys: Array<[string, number]>): string => JSON.stringify({at, keys: keys.map(([key, waiting]) => ({key, waiting}))})
  const write = async (): Promise<void> => {
    const now = timeReplyMs(await redis.time())
    await redis.hset(waitingKeysKey(streams[0]!, group), {
      'w-1': report(now, [['a', 5], ['b', 2]]),
      'w-2': report(now, [['c', 7], ['a', 1]]),
      'w-stopped': report(now - 60_000, [['z', 100]]),
      'w-garbage': 'not json',
    })
    await redis.hset(waitingKeysKey(streams[2]!, group), {'w-3': report(now, [[HOSTILE_KEY, 4], ['d', 3]]), 'w-odd': JSON.stringify({at: now, keys: 'many'})})
    await redis.hset(waitingKeysKey(plain, group), {'w-4': report(now, [['p', 9]])})
  }
  await write()
  let writing = Promise.resolve()
  const timer = setInterval(() => {
    writing = writing.then(write).catch(() => {})
  }, KEY_REPORT_MS)
  return async () => {
    clearInterval(timer)
    await writing
  }
}

/** The busiest keys keepReporting's reports make, merged over workers and partitions. */
const EXPECTED_KEYS = [
  {key: 'c', partition: 0, waiting: 7},
  {key: 'a', partition: 0, waiting: 6},
  {key: HOSTILE_KEY, partition: 2, waiting: 4},
  {key: 'd', partition: 2, waiting: 3},
  {key: 'b', partition: 0, waiting: 2},
]

describe('qctl top --json / --once over partitioned topics', () => {
  const ctx = useTestRedis()
  const top = async (...args: string[]): Promise<CliResult> => runCli(['top', ...args, '-u', ctx.server.url])

  it('--json: one row per group over all partitions, rates summed over them, figures per partition; no partition stream is a row', async () => {
    const {redis} = ctx
    const prefix = `tpj${++counter}`
    const topic = `${prefix}.orders`
    const streams = await createTopic(ctx.server.url, topic, 3)
    await add(redis, streams[0]!, 4)
    await add(redis, streams[1]!, 2)
    await add(redis, streams[2]!, 3)
    // g: on partitions 0 and 1 only (partition 2's 3 entries count as its lag, with a warning); 2 read, pending.
    await redis.xgroup('CREATE', streams[0]!, 'g', '0')
    await redis.xgroup('CREATE', streams[1]!, 'g', '0')
    await redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 2, 'STREAMS', streams[0]!, '>')
    // h: on every partition, kept up to date by a consumer during the measurement.
    for (const stream of streams) await redis.xgroup('CREATE', stream, 'h', '0')
    // What derives from a partition is never a row: its dead letters (with an archiver group on them), a replay stream.
    await redis.xadd(deadLetterKey(streams[1]!), '*', 'data', '{}')
    await redis.xgroup('CREATE', deadLetterKey(streams[1]!), 'archiver', '0')
    await redis.xadd(replayKey(streams[0]!, 'g'), '*', 'data', '{}')
    await redis.xadd(`${prefix}.plain`, '*', 'data', '{}')
    await redis.xgroup('CREATE', `${prefix}.plain`, 'x', '0')

    await consume(redis, streams, 'h')
    await waitFor(async () => (await Promise.all(streams.map(async (stream) => lagOf(redis, stream, 'h')))).every((lag) => lag === 0), 10_000, 'h to catch up')
    // Producers on partitions 0 and 2 (none on 1), and h consuming, while top measures.
    const producer = setInterval(() => void Promise.all([redis.xadd(streams[0]!, '*', 'data', '{}'), redis.xadd(streams[2]!, '*', 'data', '{}')]).catch(() => {}), 10)
    const consumer = setInterval(() => void consume(redis, streams, 'h').catch(() => {}), 20)
    let result: CliResult
    let everything: CliResult
    try {
      await new Promise((resolve) => setTimeout(resolve, 100))
      result = await top('--match', `${prefix}.*`, '--json', '--interval', '300ms')
      everything = await top('--json', '--interval', '100ms')
    } finally {
      clearInterval(producer)
      clearInterval(consumer)
    }

    expect(result.code).toBe(0)
    const json = jsonOf<TopResult>(result)
    expect(json.rows.map((row) => `${row.topic}/${row.group}`)).toEqual([`${topic}/g`, `${topic}/h`, `${prefix}.plain/x`])
    const [g, h, plain] = json.rows as [Row, Row, Row]
    expect(plain).toMatchObject({partitions: 1, perPartition: null})

    for (const row of [g, h]) {
      expect(row).toMatchObject({kind: 'topic', partitions: 3, node: null, deadLetters: 1})
      expect(row.perPartition!.map((partition) => [partition.partition, partition.stream])).toEqual(streams.map((stream, index) => [index, stream]))
      expect(row.depth).toBe(sum(row.perPartition!.map((partition) => partition.depth)))
      expect(row.perPartition!.map((partition) => partition.deadLetters)).toEqual([0, 1, 0])
      // Rates are the partitions' rates summed: entries were added to partitions 0 and 2 only.
      expect(row.inRate).toBeGreaterThan(0)
      expect(row.inRate!).toBeCloseTo(sum(row.perPartition!.map((partition) => partition.inRate)), 6)
      expect(row.perPartition![1]!.inRate).toBe(0)
      if (TEST_TARGET === 'cluster') {
        for (const partition of row.perPartition!) expect(json.cluster?.nodes).toContain(partition.node)
        // The three partitions are spread over the three primaries.
        expect(new Set(row.perPartition!.map((partition) => partition.node)).size).toBe(3)
      } else {
        expect(row.perPartition!.every((partition) => partition.node === null)).toBe(true)
      }
    }
    // g: missing on partition 2, whose entries count as its lag; its pending is partition 0's.
    expect(g.perPartition!.map((partition) => partition.groupExists)).toEqual([true, true, false])
    expect(g.perPartition![2]).toMatchObject({lag: g.perPartition![2]!.depth, pending: 0, outRate: null, consumers: 0})
    expect(g.lag).toBe(sum(g.perPartition!.map((partition) => partition.lag)))
    expect(g).toMatchObject({pending: 2, consumers: 1})
    expect(g.oldestPendingAgeMs).toBeGreaterThanOrEqual(0)
    expect(json.warnings).toEqual([expect.stringContaining(`group "g" does not exist on 1 of the 3 partitions of "${topic}" (2)`)])
    expect(result.stderr).toContain(`group "g" does not exist on 1 of the 3 partitions of "${topic}" (2)`)
    // h: acknowledged on every partition; its out-rate is theirs summed.
    expect(h.perPartition!.every((partition) => partition.groupExists)).toBe(true)
    expect(h.outRate).not.toBeNull()
    expect(h.outRate!).toBeCloseTo(sum(h.perPartition!.map((partition) => partition.outRate)), 6)
    expect(Object.keys(h.perPartition![0]!).sort()).toEqual(
      ['activeConsumers', 'consumers', 'deadLetterInRate', 'deadLetters', 'depth', 'groupExists', 'inRate', 'lag', 'node', 'oldestPendingAgeMs', 'outRate', 'partition', 'pending', 'stream'].sort(),
    )

    // Over the whole database (the stream SCAN finds the partitions' streams): still no partition, DLQ or replay row.
    expect(everything.code).toBe(0)
    const all = jsonOf<TopResult>(everything).rows
    expect(all.filter((row) => row.topic.startsWith('{'))).toEqual([])
    expect(all.filter((row) => row.topic === topic).map((row) => row.group)).toEqual(['g', 'h'])
  })

  it('--json: each group\'s busiest keys, merged over its workers and partitions; stale and malformed reports left out', async () => {
    const prefix = `tpk${++counter}`
    const topic = `${prefix}.orders`
    const plain = `${prefix}.plain`
    const streams = await createTopic(ctx.server.url, topic, 3)
    for (const stream of streams) await ctx.redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM')
    await ctx.redis.xgroup('CREATE', plain, 'g', '0', 'MKSTREAM')
    await ctx.redis.xgroup('CREATE', plain, 'quiet', '0')
    const stop = await keepReporting(ctx.redis, streams, plain, 'g')
    const args = ['top', '--match', `${prefix}.*`, '--json', '--interval', '100ms', '-u', ctx.server.url]
    // Reports are judged by Redis's clock: the same keys from a qctl whose clock runs 10 minutes fast or slow.
    const skewed = (ms: number): Promise<CliResult> => runCli(args, {env: {NODE_OPTIONS: `--import ${join(PROJECT_ROOT, 'test', 'chaos', 'preloads', 'fast-clock.mjs')}`, CHAOS_CLOCK_SKEW_MS: String(ms)}})
    let results: CliResult[]
    try {
      results = [await runCli(args), await skewed(10 * 60_000), await skewed(-10 * 60_000)]
    } finally {
      await stop()
    }
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0)
      const json = jsonOf<TopResult>(result)
      expect(json.warnings).toEqual([])
      expect(json.rows.map((row) => [`${row.topic}/${row.group}`, row.busiestKeys])).toEqual([
        [`${topic}/g`, EXPECTED_KEYS],
        [`${plain}/g`, [{key: 'p', partition: null, waiting: 9}]],
        // A group no ordered worker reports on.
        [`${plain}/quiet`, []],
      ])
    }
    // The skew was real: the snapshot's time is the local clock's.
    expect(Date.parse(jsonOf<TopResult>(results[1]!).at) - Date.parse(jsonOf<TopResult>(results[2]!).at)).toBeGreaterThan(15 * 60_000)
  })

  it('--once shows a PARTS column; a named partitioned topic exists before any of its streams', async () => {
    const prefix = `tpo${++counter}`
    const topic = `${prefix}.empty`
    const streams = await createTopic(ctx.server.url, topic, 2)
    for (const stream of streams) expect(await ctx.redis.exists(stream)).toBe(0)

    const once = await top(topic, '--once', '--interval', '100ms')
    expect(once.stderr).toBe('')
    expect(once.code).toBe(0)
    expect(once.stdout).toMatch(/^TOPIC\/GROUP +PARTS +TREND +DEPTH +IN\/s /m)
    expect(once.stdout).toMatch(new RegExp(`^${prefix}\\.empty +2 +· idle +0 `, 'm'))

    const json = jsonOf<TopResult>(await top(topic, '--json', '--interval', '100ms'))
    expect(json.rows).toHaveLength(1)
    expect(json.rows[0]).toMatchObject({topic, group: null, depth: 0, partitions: 2, lag: null})
    expect(json.rows[0]!.perPartition!.map((partition) => [partition.stream, partition.depth, partition.groupExists])).toEqual(streams.map((stream) => [stream, 0, false]))

    // The missing one is the plain name, not the partitioned topic.
    const missing = await top(topic, `${prefix}.typo`, '--json', '--interval', '100ms')
    expect(missing.code).toBe(6)
    expect(missing.stdout).toContain(`${prefix}.typo`)
    expect(missing.stdout).not.toContain(`"${topic}"`)

    // A plain table stays as it was: no PARTS column without a partitioned topic.
    await ctx.redis.xadd(`${prefix}.plain`, '*', 'data', '{}')
    const plain = await top(`${prefix}.plain`, '--once', '--interval', '100ms')
    expect(plain.stdout).toMatch(/^TOPIC\/GROUP +TREND +DEPTH /m)
  })
})

describe('qctl top on a terminal over partitioned topics', () => {
  const ctx = useTestRedis()
  let dir: string
  let session: TmuxSession | undefined

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qctl-top-partitions-'))
  })
  afterEach(async () => {
    await session?.kill()
    session = undefined
    await rm(dir, {recursive: true, force: true})
  })

  /**
   * `qctl top` (over the whole database, unless `args` say otherwise) in a 200 x 50 terminal; its exit
   * code goes to a file, and so does its stderr: anything written there while the screen is up would
   * shift Ink's frame (the screen has no room for it), so the tests expect none.
   */
  async function startTop(name: string, args: readonly string[] = []): Promise<{session: TmuxSession; exitCode: () => Promise<number>; stderr: () => Promise<string>}> {
    const exitFile = join(dir, 'exit')
    const errFile = join(dir, 'stderr')
    const command = `${[process.execPath, CLI, 'top', ...args, '-u', ctx.server.url, '--interval', '300ms'].map(shellQuote).join(' ')} 2> ${shellQuote(errFile)}; echo $? > ${shellQuote(exitFile)}; exec sleep 600`
    session = await TmuxSession.start(`${name}-${process.pid}`, command, {cols: 200, rows: 50})
    const exitCode = async (): Promise<number> => {
      let text = ''
      await waitFor(async () => {
        text = await readFile(exitFile, 'utf8').catch(() => '')
        return text.endsWith('\n')
      }, 10_000, 'qctl top to exit')
      return Number(text.trim())
    }
    // Less the cursor shown again at exit (restore-cursor writes it to stderr): nothing a user reads.
    const stderr = async (): Promise<string> => (await readFile(errFile, 'utf8').catch(() => '')).replaceAll('\u001b[?25h', '')
    return {session, exitCode, stderr}
  }

  it('shows a partitioned topic created after it started as one row, never its partitions; picks up a topic alter; Enter shows the group over and per partition', async () => {
    const {redis} = ctx
    const topic = `tps${++counter}.live`
    const running = await startTop('partitions')
    // Every screen seen: a partition's stream (or its dead-letter stream) must never be a row.
    const rowLabels: string[] = []
    const screenOf = async (predicate: (screen: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> =>
      running.session.waitForScreen(
        (screen) => {
          for (const line of screen.split('\n')) if (/^[ ›] \S/.test(line)) rowLabels.push(line.slice(2).split(' ')[0]!)
          return predicate(screen)
        },
        timeoutMs,
        what,
      )
    await screenOf((screen) => screen.includes('● live'), 'the live screen')

    // Created while top runs; its streams written at once, so the stream SCAN may meet them before the metadata key.
    const streams = await createTopic(ctx.server.url, topic, 2)
    await add(redis, streams[0]!, 3)
    await add(redis, streams[1]!, 5)
    for (const stream of streams) await redis.xgroup('CREATE', stream, 'g', '0')
    const read = (await redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 2, 'STREAMS', streams[1]!, '>')) as Array<[string, Array<[string, string[]]>]>
    const oldest = read[0]![1][0]![0]
    await redis.xadd(deadLetterKey(streams[0]!), '*', 'data', '{}')

    const rowLine = (screen: string): string | undefined => screen.split('\n').find((line) => line.slice(2).startsWith(`${topic}/g `))
    const table = await screenOf((screen) => /^[ ›] \S+\/g +2 /.test(rowLine(screen) ?? ''), 'the row of the new partitioned topic')
    expect(table).toMatch(/^ {2}TOPIC\/GROUP +PARTS +TREND /m)
    // 8 entries, 2 of them delivered: lag 6, pending 2, one dead letter.
    expect(rowLine(table)).toMatch(new RegExp(`^[ ›] ${topic.replace('.', '\\.')}/g +2 +\\S+ \\S+ +8 +\\S+ +\\S+ +6 +2 `))

    // A topic alter (more partitions) shows within the periodic metadata re-read (every 10 refreshes).
    const altered = await runCli(['topic', 'alter', topic, '--partitions', '3', '--yes', '-u', ctx.server.url])
    expect(altered.code).toBe(0)
    await screenOf((screen) => /^[ ›] \S+\/g +3 /.test(rowLine(screen) ?? ''), 'the row with 3 partitions')

    await running.session.sendKeys('Enter')
    const detail = await screenOf((screen) => screen.includes(`${topic}/g  (3 partitions)`) && screen.includes('OLDEST PENDING') && screen.includes('PARTITION'), 'the detail over 3 partitions')
    expect(detail).toMatch(/^c1 +2 /m)
    expect(detail).toMatch(/^OLDEST PENDING +PART +CONSUMER +DELIVERIES +IDLE +AGE$/m)
    expect(detail).toMatch(new RegExp(`^${oldest} +1 +c1 +1 `, 'm'))
    if (TEST_TARGET === 'cluster') {
      expect(detail).toMatch(/^PARTITION +NODE +DEPTH +LAG +PENDING +IN\/s +OUT\/s$/m)
      expect(detail).toMatch(/^0 +\d+\.\d+\.\d+\.\d+:\d+ +3 +3 +0 /m)
      expect(detail).toMatch(/^1 +\d+\.\d+\.\d+\.\d+:\d+ +5 +3 +2 /m)
    } else {
      expect(detail).toMatch(/^PARTITION +DEPTH +LAG +PENDING +IN\/s +OUT\/s$/m)
      expect(detail).toMatch(/^0 +3 +3 +0 /m)
      expect(detail).toMatch(/^1 +5 +3 +2 /m)
    }
    // The partition the alter added is empty, and the alter made the group there (at its start): lag 0, not unknown.
    expect(detail).toMatch(/^2 +(\d+\.\d+\.\d+\.\d+:\d+ +)?0 +0 +0 /m)

    await running.session.sendKeys('Escape', 'q')
    expect(await running.exitCode()).toBe(0)
    expect(await running.stderr()).toBe('')
    expect(rowLabels.filter((label) => label.startsWith('{'))).toEqual([])
    expect(rowLabels).toContain(`${topic}/g`)
  }, 60_000)

  it('Enter shows the group\'s BUSIEST KEYS over its partitions, with their partition, key names escaped; stale and malformed reports left out', async () => {
    const topic = `tpk${++counter}.live`
    const streams = await createTopic(ctx.server.url, topic, 3)
    for (const stream of streams) await ctx.redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM')
    const stop = await keepReporting(ctx.redis, streams, `tpk${counter}.plain`, 'g')
    try {
      const running = await startTop('busiest-keys', [topic])
      await running.session.waitForScreen((screen) => screen.includes(`${topic}/g`), 15_000, 'the row of the group')
      await running.session.sendKeys('Enter')
      const detail = await running.session.waitForScreen((screen) => screen.includes('BUSIEST KEYS'), 15_000, 'the busiest keys').catch(async (error: unknown) => {
        throw new Error(`${error instanceof Error ? error.message : String(error)}\ntop's stderr: ${JSON.stringify(await running.stderr())}`)
      })
      const lines = detail.split('\n')
      const head = lines.findIndex((line) => /^BUSIEST KEYS +PART +WAITING$/.test(line))
      expect(head, detail).toBeGreaterThan(lines.findIndex((line) => line.startsWith('OLDEST PENDING')))
      // Merged, most waiting first, then the per-partition table; the hostile name shown escaped, never raw.
      expect(lines.slice(head + 1, head + 1 + EXPECTED_KEYS.length).map((line) => line.trim().split(/ +/))).toEqual(EXPECTED_KEYS.map(({key, partition, waiting}) => [key === HOSTILE_KEY ? SHOWN_HOSTILE_KEY : key, String(partition), String(waiting)]))
      expect(lines[head + 1 + EXPECTED_KEYS.length]).toMatch(/^PARTITION /)
      expect(detail).not.toMatch(/^z /m)
      await running.session.sendKeys('Escape', 'q')
      expect(await running.exitCode()).toBe(0)
      expect(await running.stderr()).toBe('')
    } finally {
      await stop()
    }
  }, 60_000)
})
