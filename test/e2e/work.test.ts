import {copyFile, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {PROJECT_ROOT, runCli, startCli, waitFor} from '../helpers/cli.js'
import {readLog, RECORDER, type LogLine} from '../helpers/recorder.js'
import {startTestRedis, type AdminClient, type TestRedis} from '../helpers/test-redis.js'



let server: TestRedis
let redis: AdminClient
let dir: string
let counter = 0

const unique = (name: string): string => `${name}-${++counter}`

async function publishAll(topic: string, payloads: unknown[]): Promise<string[]> {
  const pipeline = redis.pipeline()
  for (const payload of payloads) pipeline.xadd(topic, '*', 'data', JSON.stringify(payload))
  return ((await pipeline.exec()) ?? []).map(([, id]) => id as string)
}

const jsonLines = (stdout: string): Array<Record<string, unknown>> =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)

const work = (handler: string, ...args: string[]): string[] => ['work', handler, '-u', server.url, ...args]

/** Every XREADGROUP on `topic`, as MONITOR relays them; `relayed()` waits until all sent so far are in. */
async function watchReads(topic: string): Promise<{reads: string[][]; relayed: () => Promise<void>; stop: () => void}> {
  const reads: string[][] = []
  const seen = new Set<string>()
  // MONITOR is per server: on a cluster, the primary that owns the topic.
  const node = await server.nodeFor(topic)
  const monitor = await node.monitor()
  monitor.on('monitor', (_time: string, args: string[]) => {
    const command = args[0]?.toUpperCase()
    if (command === 'XREADGROUP' && args.includes(topic)) reads.push(args)
    if (command === 'ECHO' && args[1] !== undefined) seen.add(args[1])
  })
  return {
    reads,
    // MONITOR relays in order: once this marker is in, every command before it is.
    async relayed() {
      const marker = `marker-${topic}-${reads.length}`
      await node.echo(marker)
      await waitFor(() => seen.has(marker), 5000, 'MONITOR to relay the marker')
    },
    stop: () => {
      monitor.disconnect()
      node.disconnect()
    },
  }
}

beforeAll(async () => {
  server = await startTestRedis()
  redis = await server.client()
  dir = await mkdtemp(join(tmpdir(), 'qctl-work-'))
})

afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
  await rm(dir, {recursive: true, force: true})
})

describe('qctl work: handler modules', () => {
  it('loads a .ts handler from outside the project with its exported topic and group, and drains the topic', async () => {
    const topic = unique('ts-topic')
    const handlerDir = await mkdtemp(join(tmpdir(), 'qctl-handler-'))
    const out = join(handlerDir, 'seen.txt')
    await writeFile(
      join(handlerDir, 'billing.ts'),
      `import {appendFileSync} from 'node:fs'
export const topic: string = ${JSON.stringify(topic)}
export const group = 'billing-service'
export default async function handle(message: {id: string; data: {n: number}; attempt: number}): Promise<void> {
  appendFileSync(${JSON.stringify(out)}, \`\${message.id} \${message.data.n} \${message.attempt}\\n\`)
}
`,
    )
    const ids = await publishAll(topic, [{n: 1}, {n: 2}, {n: 3}])
    const result = await runCli(work(join(handlerDir, 'billing.ts'), '--until-empty'), {cwd: dir})
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`Working on ${topic} as group billing-service (created)`)
    expect(result.stdout).toMatch(/Stopped \(until-empty\) after .*: processed 3, retried 0, dead-lettered 0, lost 0, duplicates 0/)
    expect((await readFile(out, 'utf8')).trim().split('\n')).toEqual(ids.map((id, i) => `${id} ${i + 1} 1`))
    const [group] = (await redis.call('XINFO', 'GROUPS', topic)) as unknown[][]
    expect(group).toEqual(expect.arrayContaining(['name', 'billing-service', 'pending', 0, 'consumers', 0]))
    await rm(handlerDir, {recursive: true, force: true})
  })

  it('defaults the group to the handler file name and runs a .cjs handler given a relative path', async () => {
    const topic = unique('cjs-topic')
    await copyFile(join(PROJECT_ROOT, 'test', 'fixtures', 'handlers', 'module-exports-function.cjs'), join(dir, 'audit.cjs'))
    await publishAll(topic, [{n: 1}])
    const result = await runCli(['work', './audit.cjs', '--topic', topic, '--until-empty', '-u', server.url], {cwd: dir})
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('as group audit (created)')
  })

  it.each([
    ['a missing module', 6, 'nope.mjs', /^Error: handler module not found: nope\.mjs/],
    ['a module that throws on import', 7, join(PROJECT_ROOT, 'test/fixtures/handlers/throws-at-import.ts'), /^Error: cannot load handler .*throws-at-import\.ts: /],
    ['a module without a function', 7, join(PROJECT_ROOT, 'test/fixtures/handlers/no-function.mjs'), /^Error: handler .*no-function\.mjs exports no function as default or handle \(it exports: /],
  ])('stops before reading for %s (exit %i), leaving the group untouched', async (_name, code, handler, message) => {
    const topic = unique('load-failure')
    await redis.xgroup('CREATE', topic, 'g', '0', 'MKSTREAM')
    await publishAll(topic, [{n: 1}])
    const result = await runCli(work(handler, '--topic', topic, '--group', 'g'), {cwd: dir})
    expect(result.code).toBe(code)
    expect(result.stderr).toMatch(message)
    expect(result.stderr).not.toMatch(/\n\s+at /)
    const [group] = (await redis.call('XINFO', 'GROUPS', topic)) as unknown[][]
    expect(group).toEqual(expect.arrayContaining(['pending', 0, 'entries-read', null, 'consumers', 0]))
  })

  it('exits 2 naming --topic when neither a flag nor the module gives one', async () => {
    const result = await runCli(work(RECORDER))
    expect(result.code).toBe(2)
    expect(result.stderr.split('\n')[0]).toBe('Error: no topic: give --topic, or export `topic` from the handler module')
  })
})

describe('qctl work: delivery', () => {
  it('never runs more than --concurrency handlers at once (and does reach it)', async () => {
    const topic = unique('concurrency')
    const log = join(dir, `${topic}.log`)
    await publishAll(topic, Array.from({length: 120}, () => ({sleepMs: 10})))
    const result = await runCli(work(RECORDER, '--topic', topic, '--concurrency', '4', '--until-empty'), {env: {QCTL_TEST_LOG: log}})
    expect(result.code).toBe(0)
    const starts = (readLog(log)).filter((line) => line.phase === 'start')
    expect(starts).toHaveLength(120)
    expect(Math.max(...starts.map((line) => line.running ?? 0))).toBe(4)
  })

  it('--until-empty never blocks a read once it has caught up, and still handles what arrives while it finishes', async () => {
    const topic = unique('until-empty')
    const log = join(dir, `${topic}.log`)
    const {reads, relayed, stop} = await watchReads(topic)
    try {
      // 150 quick entries, then one slow one: once all 151 are read, reads come back short while it runs.
      const first = await publishAll(topic, [...Array.from({length: 150}, () => ({})), {sleepMs: 400}])
      const running = startCli(work(RECORDER, '--topic', topic, '--until-empty', '--json'), {env: {QCTL_TEST_LOG: log}})
      running.child.stdin.end()
      await waitFor(() => readLog(log).some((line) => line.id === first.at(-1) && line.phase === 'start'), 10_000, 'the slow entry to start')
      const late = await publishAll(topic, [{}, {}, {}])
      const result = await running.done
      expect(result.code).toBe(0)
      expect(jsonLines(result.stdout).at(-1)).toMatchObject({event: 'summary', processed: 154, stopReason: 'until-empty'})
      const done = readLog(log).filter((line) => line.phase === 'done')
      expect(done.map((line) => line.id).sort()).toEqual([...first, ...late].sort())
      await relayed()
      expect(reads.length).toBeGreaterThanOrEqual(3)
      expect(reads.filter((args) => args.some((arg) => arg.toUpperCase() === 'BLOCK'))).toEqual([])
    } finally {
      stop()
    }
  })

  it('reads ahead in proportion to the handlers: a slow one holds only a few entries, a fast one reads in large batches', async () => {
    const slow = unique('read-ahead-slow')
    const fast = unique('read-ahead-fast')
    const log = join(dir, `${slow}.log`)
    const {reads, relayed, stop} = await watchReads(fast)
    try {
      // 60 handlers of 50 ms at concurrency 2: with a fixed read-ahead the worker would hold them all.
      await publishAll(slow, Array.from({length: 60}, () => ({sleepMs: 50})))
      const running = startCli(work(RECORDER, '--topic', slow, '--concurrency', '2', '--until-empty'), {env: {QCTL_TEST_LOG: log}})
      running.child.stdin.end()
      const held: number[] = []
      await waitFor(async () => {
        // The group exists once a handler ran.
        if (readLog(log).length === 0) return false
        const [pending] = (await redis.xpending(slow, 'recorder')) as [number]
        held.push(pending)
        return held.length >= 10
      }, 10_000, 'ten samples of what the slow worker holds')
      expect((await running.done).code).toBe(0)
      // A few, never the whole topic (a fixed read-ahead held all 60): 2 running, up to 2 read ahead (20 ms of
      // work at 2 per 50 ms; 2 at start), and those handled whose acknowledgement is still on its way
      // (batched for up to 2 ms; 6 in all was seen, so the bound leaves room for a slow machine).
      expect(Math.max(...held)).toBeLessThanOrEqual(10)

      await publishAll(fast, Array.from({length: 5000}, (_, n) => ({n})))
      const result = await runCli(work(RECORDER, '--topic', fast, '--concurrency', '8', '--until-empty'))
      expect(result.code).toBe(0)
      await relayed()
      // 8 to start with; 20 ms of a no-op handler's rate is thousands, so reads reach hundreds.
      expect(Math.max(...reads.map((args) => Number(args[args.indexOf('COUNT') + 1])))).toBeGreaterThanOrEqual(100)
    } finally {
      stop()
    }
  })

  it('retries a TransientError with backoff, then acknowledges: 4 deliveries, nothing dead-lettered', async () => {
    const topic = unique('transient')
    const log = join(dir, `${topic}.log`)
    const [id] = await publishAll(topic, [{fail: 'transient', times: 3}])
    const result = await runCli(work(RECORDER, '--topic', topic, '--backoff-delay', '200ms', '--until-empty', '--json'), {env: {QCTL_TEST_LOG: log}})
    expect(result.code).toBe(0)
    const starts = (readLog(log)).filter((line) => line.phase === 'start')
    expect(starts.map((line) => [line.id, line.attempt])).toEqual([1, 2, 3, 4].map((attempt) => [id, attempt]))
    // Exponential backoff with ±20 % jitter: 200, 400, 800 ms at the least 160, 320, 640.
    const gaps = starts.slice(1).map((line, index) => line.at - (starts[index] as LogLine).at)
    expect(gaps[0]).toBeGreaterThanOrEqual(160)
    expect(gaps[1]).toBeGreaterThanOrEqual(320)
    expect(gaps[2]).toBeGreaterThanOrEqual(640)
    const events = jsonLines(result.stdout)
    expect(events.filter((event) => event.event === 'retry').map((event) => event.attempt)).toEqual([1, 2, 3])
    expect(events.at(-1)).toMatchObject({event: 'summary', processed: 1, retried: 3, deadLettered: 0, lost: 0, stopReason: 'until-empty'})
    expect(await redis.exists(`{${topic}}:dlq`)).toBe(0)
    expect(await redis.hlen(`{${topic}}:retry:recorder`)).toBe(0)
  })

  it('dead-letters a PermanentError after exactly one delivery, with metadata and the payload byte for byte', async () => {
    const topic = unique('permanent')
    const log = join(dir, `${topic}.log`)
    const payload = '{"fail":"permanent","note":"caf\u00e9 \ud83d\ude80","n":1.50}'
    const id = (await redis.xadd(topic, '*', 'data', payload, 'key', 'k1', 'custom', 'kept')) as string
    const result = await runCli(work(RECORDER, '--topic', topic, '--group', 'billing', '--consumer', 'w1', '--until-empty'), {env: {QCTL_TEST_LOG: log}})
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`dead-lettered ${id} after 1 attempt as `)
    expect((readLog(log)).filter((line) => line.phase === 'start')).toHaveLength(1)
    const [[, fields]] = (await redis.xrangeBuffer(`{${topic}}:dlq`, '-', '+')) as [[Buffer, Buffer[]]]
    const asText = fields.map((field) => field.toString())
    expect(fields[1]?.equals(Buffer.from(payload))).toBe(true)
    expect(asText.slice(0, 6)).toEqual(['data', payload, 'key', 'k1', 'custom', 'kept'])
    const meta = Object.fromEntries(Array.from({length: (asText.length - 6) / 2}, (_, i) => [asText[6 + 2 * i], asText[7 + 2 * i]]))
    expect(meta).toMatchObject({
      'dlq.topic': topic,
      'dlq.id': id,
      'dlq.group': 'billing',
      'dlq.consumer': 'w1',
      'dlq.attempts': '1',
      'dlq.error-name': 'PermanentError',
      'dlq.error-message': `rejected ${id}`,
    })
    expect(Date.parse(meta['dlq.last-failure'] as string)).toBeGreaterThan(0)
    expect(await redis.xpending(topic, 'billing')).toEqual([0, null, null, null])
  })

  it('dead-letters a generic error after --max-attempts deliveries', async () => {
    const topic = unique('always')
    const log = join(dir, `${topic}.log`)
    await publishAll(topic, [{fail: 'always'}])
    const result = await runCli(work(RECORDER, '--topic', topic, '--max-attempts', '3', '--backoff-delay', '100ms', '--until-empty'), {env: {QCTL_TEST_LOG: log}})
    expect(result.code).toBe(0)
    expect((readLog(log)).map((line) => line.attempt)).toEqual([1, 2, 3])
    const [[, fields]] = (await redis.xrange(`{${topic}}:dlq`, '-', '+')) as [[string, string[]]]
    expect(fields).toEqual(expect.arrayContaining(['dlq.attempts', '3', 'dlq.error-name', 'Error', 'dlq.error-message', 'always fails']))
  })

  it('on SIGTERM stops reading, finishes and acknowledges running handlers, and exits 0', async () => {
    const topic = unique('sigterm')
    const log = join(dir, `${topic}.log`)
    await publishAll(topic, Array.from({length: 50}, () => ({sleepMs: 400})))
    const worker = startCli(work(RECORDER, '--topic', topic, '--concurrency', '5', '--prefetch', '5', '--json'), {env: {QCTL_TEST_LOG: log}})
    await waitFor(async () => (readLog(log)).filter((line) => line.phase === 'start').length >= 5, 15_000, 'five handlers running')
    worker.child.kill('SIGTERM')
    const result = await worker.done
    expect(result.code).toBe(0)
    const lines = readLog(log)
    const started = new Set(lines.filter((line) => line.phase === 'start').map((line) => line.id))
    const done = new Set(lines.filter((line) => line.phase === 'done').map((line) => line.id))
    expect(done).toEqual(started)
    const summary = jsonLines(result.stdout).at(-1)
    expect(summary).toMatchObject({event: 'summary', processed: started.size, unfinished: 0, stopReason: 'signal'})
    // Finished entries are acknowledged; the rest were never delivered or were released, none is lost.
    expect(Number(((await redis.xpending(topic, 'recorder')) as [number])[0])).toBeLessThanOrEqual(5)
    expect(await redis.xlen(topic)).toBe(50)
  })
})

describe('qctl work: where a new group starts', () => {
  it('--from latest creates the group at the end: existing entries are not delivered', async () => {
    const topic = unique('from-latest')
    const log = join(dir, `${topic}.log`)
    const ids = await publishAll(topic, [{n: 1}, {n: 2}])
    const result = await runCli(work(RECORDER, '--topic', topic, '--from', 'latest', '--until-empty', '--json'), {env: {QCTL_TEST_LOG: log}})
    expect(result.code).toBe(0)
    expect(jsonLines(result.stdout).at(-1)).toMatchObject({processed: 0})
    const [group] = (await redis.call('XINFO', 'GROUPS', topic)) as unknown[][]
    expect(group).toEqual(expect.arrayContaining(['last-delivered-id', ids[1]]))
  })
})

describe('qctl work: signals', () => {
  it('a second signal exits at once with 130, leaving unfinished entries pending for others', async () => {
    const topic = unique('double-sigint')
    const log = join(dir, `${topic}.log`)
    await publishAll(topic, Array.from({length: 4}, () => ({sleepMs: 20_000})))
    const worker = startCli(work(RECORDER, '--topic', topic, '--concurrency', '4'), {env: {QCTL_TEST_LOG: log}})
    await waitFor(async () => (readLog(log)).length >= 4, 15_000, 'four handlers running')
    worker.child.kill('SIGINT')
    await new Promise((resolve) => setTimeout(resolve, 200))
    worker.child.kill('SIGINT')
    const result = await worker.done
    expect(result.code).toBe(130)
    expect(result.durationMs).toBeLessThan(15_000)
    expect(((await redis.xpending(topic, 'recorder')) as [number])[0]).toBe(4)
  })
})

describe('qctl work: limits and context', () => {
  it('--max-messages stops after exactly N handled, leaving the rest for others', async () => {
    const topic = unique('max-messages')
    const log = join(dir, `${topic}.log`)
    await publishAll(topic, Array.from({length: 30}, (_, n) => ({n})))
    const result = await runCli(work(RECORDER, '--topic', topic, '--concurrency', '4', '--max-messages', '10', '--json'), {env: {QCTL_TEST_LOG: log}})
    expect(result.code).toBe(0)
    expect((readLog(log)).filter((line) => line.phase === 'done')).toHaveLength(10)
    expect(jsonLines(result.stdout).at(-1)).toMatchObject({event: 'summary', processed: 10, stopReason: 'max-messages'})
    // The rest is still there for the next worker: nothing lost, nothing half-done.
    const rest = await runCli(work(RECORDER, '--topic', topic, '--until-empty', '--visibility-timeout', '500ms', '--json'), {env: {QCTL_TEST_LOG: log}})
    expect(jsonLines(rest.stdout).at(-1)).toMatchObject({processed: 20})
  })

  it('--max-messages counts messages handled (processed or dead-lettered), not failed attempts that are retried', async () => {
    const retried = unique('max-messages-retried')
    await publishAll(retried, Array.from({length: 20}, (_, n) => ({n})))
    // Every message fails its first attempt and succeeds on its second.
    const failFirst = join(PROJECT_ROOT, 'bench', 'handlers', 'fail-first-attempt.mjs')
    const result = await runCli(work(failFirst, '--topic', retried, '--concurrency', '2', '--max-messages', '5', '--backoff', 'fixed', '--backoff-delay', '50ms', '--json'))
    expect(result.code, result.stderr).toBe(0)
    expect(jsonLines(result.stdout).at(-1)).toMatchObject({event: 'summary', processed: 5, deadLettered: 0, stopReason: 'max-messages'})

    const poisoned = unique('max-messages-dead')
    await publishAll(poisoned, Array.from({length: 10}, (_, n) => ({n})))
    const permanent = join(PROJECT_ROOT, 'bench', 'handlers', 'always-permanent.mjs')
    const dead = await runCli(work(permanent, '--topic', poisoned, '--concurrency', '2', '--max-messages', '3', '--json'))
    expect(dead.code, dead.stderr).toBe(0)
    expect(jsonLines(dead.stdout).at(-1)).toMatchObject({event: 'summary', processed: 0, deadLettered: 3, stopReason: 'max-messages'})
  })

  it('--handler-timeout aborts ctx.signal and retries as a transient failure', async () => {
    const topic = unique('handler-timeout')
    const handlerFile = join(dir, 'slow-once.mjs')
    await writeFile(
      handlerFile,
      `export default async function handle(message, ctx) {
  if (message.attempt === 1) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))
    ctx.log('aborted:', ctx.signal.reason.message)
  }
}
`,
    )
    await publishAll(topic, [{n: 1}])
    const result = await runCli(work(handlerFile, '--topic', topic, '--handler-timeout', '300ms', '--backoff-delay', '100ms', '--until-empty', '--json'))
    expect(result.code).toBe(0)
    const events = jsonLines(result.stdout)
    expect(events.find((event) => event.event === 'retry')).toMatchObject({attempt: 1, error: {name: 'HandlerTimeout', message: 'handler timed out after 300ms'}})
    expect(events.find((event) => event.event === 'log')).toMatchObject({message: 'aborted: handler timed out after 300ms'})
    expect(events.at(-1)).toMatchObject({event: 'summary', processed: 1, retried: 1, deadLettered: 0})
  })
})
