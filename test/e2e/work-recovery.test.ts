// `qctl work` under failure: competing workers, killed workers, slow handlers, a Redis restart,
// and entries deleted while pending. Every test checks Redis state and the recorder fixture's
// log (test/fixtures/work/recorder.mjs: one JSON line per handler call phase, per process).
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Redis} from 'ioredis'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'

import {deadLetterKey, retryKey} from '../../src/core/keys.js'
import {runCli, startCli, waitFor, type CliResult, type RunningCli} from '../helpers/cli.js'
import {readLog, RECORDER, type LogLine} from '../helpers/recorder.js'
import {RedisServer} from '../helpers/redis-server.js'
import type {WorkerSummary} from '../../src/core/worker/worker.js'


type Summary = WorkerSummary

type Event = Record<string, unknown> & {event: string}

let dir: string
let counter = 0
/** Workers started by the running test: killed in afterEach if a failed test left them behind. */
const started: RunningCli[] = []

const unique = (name: string): string => `recovery.${name}-${++counter}`

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qctl-work-recovery-'))
})

afterEach(async () => {
  for (const cli of started.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill('SIGCONT')
      cli.child.kill('SIGKILL')
    }
    await cli.done
  }
})

afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

const countBy = (lines: LogLine[], phase: LogLine['phase']): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const line of lines) if (line.phase === phase) counts.set(line.id, (counts.get(line.id) ?? 0) + 1)
  return counts
}

const events = (stdout: string): Event[] =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Event
      } catch {
        throw new Error(`not a JSON line: ${line}\nstdout:\n${stdout}`)
      }
    })

const summaryOf = (result: CliResult): Summary => {
  const summaries = events(result.stdout).filter((event) => event.event === 'summary')
  if (summaries.length !== 1) throw new Error(`expected one summary (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`)
  return summaries[0] as unknown as Summary
}

const expectExit0 = (result: CliResult): void => {
  if (result.code !== 0) throw new Error(`worker exited ${result.code} (${result.signal}):\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`)
}

/** Entries the group still has pending (XPENDING summary count). */
async function pendingCount(redis: Redis, topic: string, group: string): Promise<number> {
  const reply = (await redis.xpending(topic, group)) as [number, ...unknown[]]
  return Number(reply[0])
}

/** Pending entries of one consumer: id -> delivery count. */
async function pendingOf(redis: Redis, topic: string, group: string, consumer: string): Promise<Map<string, number>> {
  const rows = (await redis.xpending(topic, group, '-', '+', 100_000, consumer)) as Array<[string, string, number, number]>
  return new Map(rows.map(([id, , , deliveries]) => [id, Number(deliveries)]))
}

/** All entry IDs of a stream. */
async function streamIds(redis: Redis, topic: string): Promise<string[]> {
  return (await redis.xrange(topic, '-', '+')).map(([id]) => id)
}

/** Write payloads as NDJSON and publish them with `qctl publish` (one message per line). */
async function publishNdjson(server: RedisServer, topic: string, payloads: unknown[]): Promise<void> {
  const file = join(dir, `${topic}-${Date.now()}.ndjson`)
  await writeFile(file, payloads.map((payload) => `${JSON.stringify(payload)}\n`).join(''))
  const result = await runCli(['publish', topic, file, '-u', server.url, '--json'], {timeoutMs: 30_000})
  if (result.code !== 0) throw new Error(`publish failed (${result.code}): ${result.stderr}`)
  expect((JSON.parse(result.stdout) as {published: number}).published).toBe(payloads.length)
}

interface WorkerSpec {
  server: RedisServer
  topic: string
  group: string
  consumer: string
  log: string
  args?: string[]
  timeoutMs?: number
}

function startWorker(spec: WorkerSpec): RunningCli {
  const cli = startCli(
    ['work', RECORDER, '-t', spec.topic, '-g', spec.group, '--consumer', spec.consumer, '-u', spec.server.url, ...(spec.args ?? [])],
    {env: {QCTL_TEST_LOG: spec.log}, timeoutMs: spec.timeoutMs ?? 60_000},
  )
  started.push(cli)
  return cli
}

/** The worker's result once it exits, failing (with its output so far) if that takes over `ms`. */
async function exited(cli: RunningCli, ms: number, what: string): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const {stdout, stderr} = cli.output()
      cli.child.kill('SIGKILL')
      reject(new Error(`${what}: still running after ${ms}ms\nstdout:\n${stdout}\nstderr:\n${stderr}`))
    }, ms)
  })
  try {
    return await Promise.race([cli.done, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function killWorker(cli: RunningCli, signal: NodeJS.Signals = 'SIGKILL'): Promise<CliResult> {
  cli.child.kill(signal)
  return exited(cli, 15_000, `the worker after ${signal}`)
}

/** Field/value pairs of a stream entry as exact bytes. */
async function rawEntries(redis: Redis, key: string): Promise<Array<{id: string; pairs: Buffer[]}>> {
  const raw = await redis.xrangeBuffer(key, '-', '+')
  return raw.map(([id, pairs]) => ({id: id.toString(), pairs}))
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

describe('qctl work: competing workers and poison entries', () => {
  let server: RedisServer
  let redis: Redis

  beforeAll(async () => {
    server = await RedisServer.start()
    redis = await server.client()
  })

  afterAll(async () => {
    redis?.disconnect()
    await server?.stop()
  })

  it('two workers failing the same poison entries file each exactly once in the DLQ, fields byte-identical, origin acknowledged', async () => {
    const topic = unique('poison')
    const group = 'billing'
    const log = join(dir, `${topic}.log`)
    // Payloads with bytes that must survive untouched: spacing, non-ASCII, and invalid UTF-8 (0xff 0xfe).
    const originals: Buffer[][] = []
    const ids: string[] = []
    for (let n = 0; n < 6; n++) {
      const data = Buffer.concat([Buffer.from(`{ "fail" : "always", "n": ${n}, "note": "caf\u00e9 \ud83d\ude80 `), Buffer.from([0xff, 0xfe]), Buffer.from('" }')])
      const pairs = [Buffer.from('data'), data, Buffer.from('key'), Buffer.from(`customer-${n}`), Buffer.from('headers'), Buffer.from('{"trace":"t-1"}')]
      ids.push((await redis.xadd(topic, '*', ...pairs)) as string)
      originals.push(pairs)
    }

    const args = ['--max-attempts', '2', '--backoff-delay', '100ms', '--visibility-timeout', '1s', '--until-empty', '--json']
    const a = startWorker({server, topic, group, consumer: 'a', log, args})
    const b = startWorker({server, topic, group, consumer: 'b', log, args})
    const [resultA, resultB] = await Promise.all([exited(a, 30_000, 'worker a'), exited(b, 30_000, 'worker b')])
    expectExit0(resultA)
    expectExit0(resultB)
    const summaries = [summaryOf(resultA), summaryOf(resultB)]
    expect(summaries.map((s) => s.stopReason)).toEqual(['until-empty', 'until-empty'])
    expect(summaries.reduce((sum, s) => sum + s.deadLettered, 0)).toBe(6)
    expect(summaries.reduce((sum, s) => sum + s.retried, 0)).toBe(6)
    expect(summaries.reduce((sum, s) => sum + s.processed + s.lost + s.duplicates + s.unfinished, 0)).toBe(0)

    // Exactly one dead-letter entry per poison entry: original fields byte for byte, then the metadata.
    const dlq = await rawEntries(redis, deadLetterKey(topic))
    expect(dlq).toHaveLength(6)
    const byOrigin = new Map<string, {id: string; pairs: Buffer[]}>()
    for (const entry of dlq) {
      const originIndex = entry.pairs.findIndex((field, index) => index % 2 === 0 && field.toString() === 'dlq.id')
      byOrigin.set(entry.pairs[originIndex + 1]!.toString(), entry)
    }
    expect([...byOrigin.keys()].sort()).toEqual(ids)
    ids.forEach((id, index) => {
      const {pairs} = byOrigin.get(id)!
      const original = originals[index]!
      expect(pairs.length).toBe(original.length + 18)
      original.forEach((bytes, i) => expect(pairs[i]!.equals(bytes), `field ${i} of ${id}`).toBe(true))
      const metadata = Object.fromEntries(
        Array.from({length: 9}, (_, i) => [pairs[original.length + 2 * i]!.toString(), pairs[original.length + 2 * i + 1]!.toString()]),
      )
      expect(metadata).toEqual({
        'dlq.topic': topic,
        'dlq.id': id,
        'dlq.group': group,
        'dlq.consumer': expect.stringMatching(/^(a|b)$/) as string,
        'dlq.attempts': '2',
        'dlq.error-name': 'Error',
        'dlq.error-message': 'always fails',
        'dlq.first-failure': expect.stringMatching(ISO_TIME) as string,
        'dlq.last-failure': expect.stringMatching(ISO_TIME) as string,
      })
      expect(Date.parse(metadata['dlq.last-failure']!)).toBeGreaterThanOrEqual(Date.parse(metadata['dlq.first-failure']!) + 80)
    })

    // The deadLetter events name the same DLQ entries.
    const dlqEvents = [...events(resultA.stdout), ...events(resultB.stdout)].filter((event) => event.event === 'deadLetter')
    expect(dlqEvents.map((event) => [event.id, event.dlqId, event.attempts, event.error]).sort()).toEqual(
      ids.map((id) => [id, byOrigin.get(id)!.id, 2, {name: 'Error', message: 'always fails'}]).sort(),
    )

    // Each entry was delivered exactly twice (attempts 1 and 2), never completed.
    const lines = readLog(log)
    for (const id of ids) {
      expect(lines.filter((line) => line.id === id).map((line) => `${line.phase}:${line.attempt}`), id).toEqual(['start:1', 'start:2'])
    }
    // Origin: acknowledged (nothing pending), entries kept, no retry record left behind.
    expect(await pendingCount(redis, topic, group)).toBe(0)
    expect(await streamIds(redis, topic)).toEqual(ids)
    expect(await redis.exists(retryKey(topic, group))).toBe(0)
  })

  it('a real race: the worker that lost the entry while frozen finds it dead-lettered and files nothing', async () => {
    // The poison entry takes 1.5 s per attempt. Whoever holds attempt 2 is frozen (SIGSTOP) past the
    // visibility timeout; the other worker takes it over. Attempt 2's start was marked and never reported
    // back, so the entry is a suspect: it runs alone there as attempt 3 (not dead-lettered unseen, since it
    // never ran alone), fails, and is dead-lettered with its own error. Thawed, the first worker's handler
    // fails too and tries to dead-letter the same entry.
    const topic = unique('race')
    const group = 'billing'
    const log = join(dir, `${topic}.log`)
    const data = '{"fail":"always","sleepMs":1500,"note":"\u00e9"}'
    const id = (await redis.xadd(topic, '*', 'data', data)) as string

    const args = ['--max-attempts', '2', '--backoff-delay', '100ms', '--visibility-timeout', '1s', '--until-empty', '--json']
    const workers = [startWorker({server, topic, group, consumer: 'a', log, args}), startWorker({server, topic, group, consumer: 'b', log, args})]
    let second: LogLine | undefined
    await waitFor(
      () => {
        second = readLog(log).find((line) => line.phase === 'start' && line.attempt === 2)
        return second !== undefined
      },
      20_000,
      'the second delivery',
    )
    const frozen = workers.find((worker) => worker.child.pid === second!.pid)!
    const other = workers.find((worker) => worker !== frozen)!
    frozen.child.kill('SIGSTOP')
    try {
      await waitFor(async () => (await redis.xlen(deadLetterKey(topic))) > 0, 15_000, 'the dead-letter entry')
    } finally {
      frozen.child.kill('SIGCONT')
    }
    const [frozenResult, otherResult] = await Promise.all([exited(frozen, 20_000, 'the thawed worker'), exited(other, 20_000, 'the other worker')])
    expectExit0(frozenResult)
    expectExit0(otherResult)
    const frozenSummary = summaryOf(frozenResult)
    const otherSummary = summaryOf(otherResult)
    expect(frozenSummary.deadLettered).toBe(0)
    expect(frozenSummary.duplicates).toBe(1)
    expect(otherSummary.deadLettered).toBe(1)
    expect(otherSummary.duplicates).toBe(0)

    const dlq = await redis.xrange(deadLetterKey(topic), '-', '+')
    expect(dlq).toHaveLength(1)
    const fields = dlq[0]![1]
    expect(fields.slice(0, 2)).toEqual(['data', data])
    expect(Object.fromEntries(Array.from({length: 9}, (_, i) => [fields[2 + 2 * i], fields[3 + 2 * i]]))).toEqual({
      'dlq.topic': topic,
      'dlq.id': id,
      'dlq.group': group,
      'dlq.consumer': otherSummary.consumer,
      'dlq.attempts': '3',
      'dlq.error-name': 'Error',
      'dlq.error-message': expect.any(String) as string,
      'dlq.first-failure': expect.stringMatching(ISO_TIME) as string,
      'dlq.last-failure': expect.stringMatching(ISO_TIME) as string,
    })
    // The handler ran three times (attempt 3 alone in the other worker), and never completed.
    expect(readLog(log).map((line) => `${line.phase}:${line.attempt}`)).toEqual(['start:1', 'start:2', 'start:3'])
    expect(await pendingCount(redis, topic, group)).toBe(0)
    expect(await redis.exists(retryKey(topic, group))).toBe(0)
  })

  it('a handler slower than the visibility timeout is not taken over while its worker lives', async () => {
    const topic = unique('slow')
    const group = 'slow'
    await publishNdjson(server, topic, Array.from({length: 4}, () => ({sleepMs: 3000})))
    const ids = await streamIds(redis, topic)
    const logA = join(dir, `${topic}-a.log`)
    const logB = join(dir, `${topic}-b.log`)
    const args = ['--visibility-timeout', '1s', '--concurrency', '2', '--prefetch', '0', '--until-empty', '--json']
    const a = startWorker({server, topic, group, consumer: 'a', log: logA, args})
    const b = startWorker({server, topic, group, consumer: 'b', log: logB, args})
    const [resultA, resultB] = await Promise.all([exited(a, 30_000, 'worker a'), exited(b, 30_000, 'worker b')])
    expectExit0(resultA)
    expectExit0(resultB)

    const lines = [...readLog(logA), ...readLog(logB)]
    const starts = countBy(lines, 'start')
    expect(Object.fromEntries(starts)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])))
    expect(Object.fromEntries(countBy(lines, 'done'))).toEqual(Object.fromEntries(ids.map((id) => [id, 1])))
    expect(lines.filter((line) => line.phase === 'start').every((line) => line.attempt === 1)).toBe(true)
    // Both workers took part (each took two at once), so each could have stolen the other's entries.
    expect(readLog(logA).filter((line) => line.phase === 'start')).toHaveLength(2)
    expect(readLog(logB).filter((line) => line.phase === 'start')).toHaveLength(2)

    const summaries = [summaryOf(resultA), summaryOf(resultB)]
    expect(summaries.map((s) => [s.processed, s.duplicates, s.lost, s.unfinished])).toEqual([
      [2, 0, 0, 0],
      [2, 0, 0, 0],
    ])
    const noise = [...events(resultA.stdout), ...events(resultB.stdout)].filter((event) => event.event === 'warning' || event.event === 'retry')
    expect(noise).toEqual([])
    expect(await pendingCount(redis, topic, group)).toBe(0)
  })
})

describe('qctl work: a worker killed mid-stream', () => {
  let server: RedisServer
  let redis: Redis

  beforeAll(async () => {
    server = await RedisServer.start()
    redis = await server.client()
  })

  afterAll(async () => {
    redis?.disconnect()
    await server?.stop()
  })

  it('SIGKILL one of three workers during 20,000 messages: the survivors finish everything, re-handling only what it held', async () => {
    const topic = unique('kill')
    const group = 'fleet'
    const total = 20_000
    await publishNdjson(server, topic, Array.from({length: total}, (_, n) => ({n})))
    const ids = await streamIds(redis, topic)
    expect(ids).toHaveLength(total)

    const common = ['--concurrency', '4', '--visibility-timeout', '2s', '--json']
    const victimLog = join(dir, `${topic}-victim.log`)
    const logs = [join(dir, `${topic}-s1.log`), join(dir, `${topic}-s2.log`)]
    const victim = startWorker({server, topic, group, consumer: 'victim', log: victimLog, args: common})
    const survivors = logs.map((log, i) => startWorker({server, topic, group, consumer: `survivor-${i + 1}`, log, args: [...common, '--until-empty']}))

    await waitFor(() => readLog(victimLog).filter((line) => line.phase === 'done').length >= 1000, 30_000, 'the victim to handle 1000 messages')
    const killed = await killWorker(victim)
    expect(killed.signal).toBe('SIGKILL')
    // What the victim held unacknowledged at its death (renewed <= 667 ms ago: not yet reclaimable).
    const orphaned = await pendingOf(redis, topic, group, 'victim')
    expect(orphaned.size).toBeGreaterThan(0)
    expect([...orphaned.values()].every((deliveries) => deliveries === 1)).toBe(true)

    const results = await Promise.all(survivors.map(async (survivor, i) => exited(survivor, 40_000, `survivor ${i + 1}`)))
    results.forEach(expectExit0)
    const summaries = results.map(summaryOf)
    for (const summary of summaries) {
      expect(summary).toMatchObject({stopReason: 'until-empty', lost: 0, lostIds: [], unfinished: 0, deadLettered: 0, retried: 0, duplicates: 0})
    }

    const victimLines = readLog(victimLog)
    const survivorLines = logs.flatMap((log) => readLog(log))
    // Every published entry completed at least once.
    const done = new Set([...victimLines, ...survivorLines].filter((line) => line.phase === 'done').map((line) => line.id))
    expect(done.size).toBe(total)
    expect(ids.every((id) => done.has(id))).toBe(true)
    // The survivors handled each entry at most once between them, and their counts match their logs.
    const survivorStarts = countBy(survivorLines, 'start')
    expect([...survivorStarts.values()].every((count) => count === 1)).toBe(true)
    expect(summaries.reduce((sum, s) => sum + s.processed, 0)).toBe(countBy(survivorLines, 'done').size)
    expect(countBy(survivorLines, 'done').size).toBe(survivorStarts.size)
    // Attempts count handler starts qctl can prove: the victim's starts wrote nothing (first deliveries), so
    // the entries taken over start as attempt 1 too, and none is a suspect.
    expect(survivorLines.filter((line) => line.phase === 'start').every((line) => line.attempt === 1)).toBe(true)
    expect([...orphaned.keys()].every((id) => survivorStarts.has(id))).toBe(true)
    // Handled twice only if the victim had started it (and died before acknowledging it).
    const victimStarted = new Set(victimLines.filter((line) => line.phase === 'start').map((line) => line.id))
    const twice = [...survivorStarts.keys()].filter((id) => victimStarted.has(id))
    expect(twice.every((id) => orphaned.has(id))).toBe(true)
    expect(victimStarted.size).toBeGreaterThanOrEqual(1000)
    // The victim's acknowledged entries plus the survivors' add up to every entry exactly once.
    const victimAcked = [...victimStarted].filter((id) => !orphaned.has(id))
    expect(victimAcked.length + survivorStarts.size).toBe(total)

    expect(await pendingCount(redis, topic, group)).toBe(0)
    // The marks of the starts taken over were removed with their acknowledgements.
    expect(await redis.exists(retryKey(topic, group))).toBe(0)
  })
})

describe('qctl work: Redis restarts mid-run', () => {
  let server: RedisServer
  let redis: Redis

  beforeAll(async () => {
    server = await RedisServer.start({args: ['--appendonly', 'yes', '--appendfsync', 'always']})
    redis = await server.client({maxRetriesPerRequest: 20})
  })

  afterAll(async () => {
    redis?.disconnect()
    await server?.stop()
  })

  /**
   * A worker runs while Redis is SIGKILLed (after `freezeMs` frozen by SIGSTOP, so that the worker's
   * commands are in flight when the connection drops) and restarted with its data; 200 messages
   * before, 200 after. The worker must recover by itself, handle all 400, and exit 0 on SIGTERM.
   */
  async function crashRedisUnderWorker(freezeMs: number): Promise<void> {
    const topic = unique('restart')
    const group = 'steady'
    const log = join(dir, `${topic}.log`)
    const worker = startWorker({server, topic, group, consumer: 'steady', log, args: ['--visibility-timeout', '2s', '--json'], timeoutMs: 60_000})
    await waitFor(async () => (await redis.exists(topic)) === 1, 15_000, 'the worker to create its group')

    await publishNdjson(server, topic, Array.from({length: 200}, (_, n) => ({n, sleepMs: 20})))
    await waitFor(() => countBy(readLog(log), 'done').size >= 50, 20_000, '50 messages handled')
    if (freezeMs > 0) {
      await server.kill('SIGSTOP')
      await new Promise((resolve) => setTimeout(resolve, freezeMs))
    }
    await server.kill('SIGKILL')
    const handledBeforeCrash = countBy(readLog(log), 'done').size
    await new Promise((resolve) => setTimeout(resolve, 500))
    await server.restart()
    expect(worker.child.exitCode).toBeNull()
    await publishNdjson(server, topic, Array.from({length: 200}, (_, n) => ({n: 200 + n})))

    const ids = await streamIds(redis, topic)
    expect(ids).toHaveLength(400)
    expect(handledBeforeCrash).toBeLessThan(200)
    let state = ''
    await waitFor(
      async () => {
        const done = countBy(readLog(log), 'done')
        const pending = await pendingCount(redis, topic, group)
        state = `${ids.filter((id) => done.has(id)).length}/400 handled, ${pending} pending`
        return ids.every((id) => done.has(id)) && pending === 0
      },
      30_000,
      'all 400 messages handled and acknowledged',
    ).catch((error: unknown) => {
      const {stdout, stderr} = worker.output()
      throw new Error(`${String(error)} (${state}; ${handledBeforeCrash} before the crash)\nworker stdout:\n${stdout}\nstderr:\n${stderr}`)
    })

    const result = await killWorker(worker, 'SIGTERM')
    expectExit0(result)
    const summary = summaryOf(result)
    expect(summary).toMatchObject({stopReason: 'signal', unfinished: 0, lost: 0, deadLettered: 0, retried: 0})
    expect(summary.processed).toBeGreaterThanOrEqual(400)
    // It noticed the outage (and said so) rather than sailing through by luck.
    expect(events(result.stdout).some((event) => event.event === 'warning')).toBe(true)
    // Every handler call that completed was counted, and nothing was handled that was not published.
    const lines = readLog(log)
    expect(summary.processed).toBe(lines.filter((line) => line.phase === 'done').length)
    expect([...countBy(lines, 'start').keys()].every((id) => ids.includes(id))).toBe(true)
    expect(await pendingCount(redis, topic, group)).toBe(0)
  }

  it('reconnects by itself and handles everything published before and after the restart', async () => {
    await crashRedisUnderWorker(0)
  })

  it('recovers too when Redis hangs before it crashes (commands in flight when the connection drops)', async () => {
    await crashRedisUnderWorker(500)
  })
})

describe('qctl work: entries deleted while pending', () => {
  let server: RedisServer
  let redis: Redis

  beforeAll(async () => {
    server = await RedisServer.start()
    redis = await server.client()
  })

  afterAll(async () => {
    redis?.disconnect()
    await server?.stop()
  })

  /** Start worker A on the topic, wait until it runs the first `count` entries, then SIGKILL it. */
  async function killHolding(topic: string, group: string, count: number, log: string): Promise<void> {
    const a = startWorker({server, topic, group, consumer: 'a', log, args: ['--concurrency', String(count), '--prefetch', '0']})
    await waitFor(() => readLog(log).filter((line) => line.phase === 'start').length >= count, 20_000, `worker A to start ${count} handlers`)
    expect((await killWorker(a)).signal).toBe('SIGKILL')
  }

  it('XDEL of an entry a killed worker held: the taking-over worker reports it lost and handles the rest', async () => {
    const topic = unique('xdel')
    const group = 'g'
    const logA = join(dir, `${topic}-a.log`)
    const logB = join(dir, `${topic}-b.log`)
    await publishNdjson(server, topic, [{sleepMs: 4000}, {n: 2}, {n: 3}])
    const [gone, ...rest] = await streamIds(redis, topic)
    await killHolding(topic, group, 1, logA)
    expect(readLog(logA).map((line) => [line.id, line.phase])).toEqual([[gone, 'start']])
    expect([...(await pendingOf(redis, topic, group, 'a')).keys()]).toEqual([gone])
    expect(await redis.xdel(topic, gone!)).toBe(1)

    const result = await runCli(
      ['work', RECORDER, '-t', topic, '-g', group, '--consumer', 'b', '--visibility-timeout', '1s', '--until-empty', '--json', '-u', server.url],
      {env: {QCTL_TEST_LOG: logB}, timeoutMs: 30_000},
    )
    expectExit0(result)
    const lost = events(result.stdout).filter((event) => event.event === 'lost')
    expect(lost).toEqual([{event: 'lost', ids: [gone]}])
    expect(summaryOf(result)).toMatchObject({processed: 2, lost: 1, lostIds: [gone], duplicates: 0, deadLettered: 0, stopReason: 'until-empty'})
    expect(readLog(logB).map((line) => [line.id, line.phase])).toEqual(rest.flatMap((id) => [[id, 'start'], [id, 'done']]))
    expect(await pendingCount(redis, topic, group)).toBe(0)
  })

  it('XTRIM MAXLEN 0 of entries a killed worker held: every one is reported lost', async () => {
    const topic = unique('xtrim')
    const group = 'g'
    const logA = join(dir, `${topic}-a.log`)
    const logB = join(dir, `${topic}-b.log`)
    await publishNdjson(server, topic, [{sleepMs: 4000}, {sleepMs: 4000}])
    const held = await streamIds(redis, topic)
    await killHolding(topic, group, 2, logA)
    expect([...(await pendingOf(redis, topic, group, 'a')).keys()]).toEqual(held)
    expect(await redis.xtrim(topic, 'MAXLEN', 0)).toBe(2)

    const result = await runCli(
      ['work', RECORDER, '-t', topic, '-g', group, '--consumer', 'b', '--visibility-timeout', '1s', '--until-empty', '--json', '-u', server.url],
      {env: {QCTL_TEST_LOG: logB}, timeoutMs: 30_000},
    )
    expectExit0(result)
    const lostIds = events(result.stdout)
      .filter((event) => event.event === 'lost')
      .flatMap((event) => event.ids as string[])
    expect(lostIds.sort()).toEqual(held)
    const summary = summaryOf(result)
    expect(summary).toMatchObject({processed: 0, lost: 2, duplicates: 0, stopReason: 'until-empty'})
    expect([...summary.lostIds].sort()).toEqual(held)
    expect(readLog(logB)).toEqual([])
    expect(await pendingCount(redis, topic, group)).toBe(0)
  })

  it('XDEL of an entry its own consumer held: restarted with the same --consumer, it reports it lost', async () => {
    // The restarted worker takes back its own pending entries first (claim script), not via XAUTOCLAIM.
    const topic = unique('own')
    const group = 'g'
    const log = join(dir, `${topic}.log`)
    await publishNdjson(server, topic, [{sleepMs: 4000}, {n: 2}])
    const [gone, kept] = await streamIds(redis, topic)
    await killHolding(topic, group, 1, log)
    expect(await redis.xdel(topic, gone!)).toBe(1)

    const result = await runCli(['work', RECORDER, '-t', topic, '-g', group, '--consumer', 'a', '--until-empty', '--json', '-u', server.url], {
      env: {QCTL_TEST_LOG: log},
      timeoutMs: 30_000,
    })
    expectExit0(result)
    expect(events(result.stdout).filter((event) => event.event === 'lost')).toEqual([{event: 'lost', ids: [gone]}])
    expect(summaryOf(result)).toMatchObject({processed: 1, lost: 1, lostIds: [gone], stopReason: 'until-empty'})
    expect(readLog(log).map((line) => [line.id, line.phase])).toEqual([
      [gone, 'start'],
      [kept, 'start'],
      [kept, 'done'],
    ])
    expect(await pendingCount(redis, topic, group)).toBe(0)
  })
})
